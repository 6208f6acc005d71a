package signkey

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"sync"
	"testing"

	"github.com/kiln-build/kiln/internal/testkit"

	"github.com/kiln-build/kiln/apk/sign"
)

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
)

func testKey(t *testing.T) *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	})
	return key
}

// verifies checks a signature made by s with the public key it publishes.
func verifies(t *testing.T, s *sign.Signer) {
	t.Helper()
	name, pub, err := PublicKey(s)
	if err != nil {
		t.Fatal(err)
	}
	k := sign.NewKeyring()
	if err := k.Add(name, pub); err != nil {
		t.Fatal(err)
	}
	data := []byte("control section")
	sig, err := s.Sign(sign.SHA256, sign.Digest(sign.SHA256, data))
	if err != nil {
		t.Fatal(err)
	}
	d := sign.NewDigester([]sign.Signature{sig})
	d.Write(data)
	if err := k.Verify([]sign.Signature{sig}, d); err != nil {
		t.Fatal(err)
	}
}

func TestFromPEM(t *testing.T) {
	k := testKey(t)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 making the legacy encrypted form melange can read
	enc, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k), []byte("pw"), x509.PEMCipherAES256) //nolint:staticcheck
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	tests := []struct {
		name, keyName string
		pem           []byte
		wantKeyName   string
		wantErr       string
	}{
		{"melange keygen (PKCS#1)", "melange.rsa", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), "melange.rsa.pub", ""},
		{"PKCS#8", "local-melange.rsa", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), "local-melange.rsa.pub", ""},
		{"encrypted", "melange.rsa", pem.EncodeToMemory(enc), "", "encrypted"},
		{"public key", "melange.rsa", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), "", "want RSA PRIVATE KEY"},
		{"not PEM", "melange.rsa", []byte("hello"), "", "no PEM block"},
		{"public key name", "melange.rsa.pub", nil, "", "public key"},
		{"path as name", "keys/melange.rsa", nil, "", "not a file name"},
		{"empty name", "", nil, "", "not a file name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := FromPEM(tt.keyName, tt.pem)
			if testkit.ErrorCase(t, err, tt.wantErr) {
				return
			}
			if s.KeyName != tt.wantKeyName {
				t.Errorf("key name %q, want %q", s.KeyName, tt.wantKeyName)
			}
			verifies(t, s)
		})
	}
}

func TestGenerate(t *testing.T) {
	s, err := Generate(DefaultName, MinBits)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyName != "melange.rsa.pub" || s.Key.N.BitLen() != MinBits {
		t.Errorf("key %s of %d bits", s.KeyName, s.Key.N.BitLen())
	}
	verifies(t, s)
	if _, err := Generate(DefaultName, 1024); err == nil {
		t.Error("made a 1024-bit key")
	}
	if _, _, err := PublicKey(nil); err == nil {
		t.Error("public key of no signer")
	}
}
