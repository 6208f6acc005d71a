package sign

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// Signer signs with an RSA private key. KeyName is the file name of the
// matching public key as verifiers will have it (apk convention: the
// private key file name plus ".pub").
type Signer struct {
	KeyName string
	Key     *rsa.PrivateKey
}

// LoadSigner reads a PEM RSA private key (PKCS#1 or PKCS#8). The key name
// is the file's base name plus ".pub", as melange and abuild name them.
func LoadSigner(path string) (*Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	key, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return &Signer{KeyName: filepath.Base(path) + ".pub", Key: key}, nil
}

// ParsePrivateKey decodes a PEM "RSA PRIVATE KEY" or "PRIVATE KEY" block.
func ParsePrivateKey(pemData []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, fmt.Errorf("no PEM block found")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		rk, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("private key is %T, not RSA", key)
		}
		return rk, nil
	}
	return nil, fmt.Errorf("PEM block is %q, want RSA PRIVATE KEY", block.Type)
}

// GenerateSigner makes a fresh key; meant for tests and `kiln keygen`.
func GenerateSigner(keyName string, bits int) (*Signer, error) {
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("generate %d-bit RSA key: %w", bits, err)
	}
	return &Signer{KeyName: keyName, Key: key}, nil
}

// PublicKeyPEM encodes the public half as apk key files hold it.
func (s *Signer) PublicKeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(&s.Key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// PrivateKeyPEM encodes the private key as PKCS#1, as abuild-keygen does.
func (s *Signer) PrivateKeyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(s.Key)})
}

// Sign signs a digest computed with alg. PKCS#1 v1.5 is deterministic, so
// the same key and data always give the same signature bytes.
func (s *Signer) Sign(alg Algorithm, digest []byte) (Signature, error) {
	var h crypto.Hash = alg.cryptoHash()
	if len(digest) != h.Size() {
		return Signature{}, fmt.Errorf("sign: %s digest has %d bytes, want %d", alg, len(digest), h.Size())
	}
	v, err := rsa.SignPKCS1v15(nil, s.Key, h, digest)
	if err != nil {
		return Signature{}, fmt.Errorf("sign with %s: %w", s.KeyName, err)
	}
	return Signature{Alg: alg, KeyName: s.KeyName, Value: v}, nil
}
