package sign

import (
	"bytes"
	"testing"
)

// Keys come from the config's keyring, possibly over the network: any
// bytes either parse as an RSA key or fail, and a key that parses can be
// trusted under a name.
func FuzzParsePublicKey(f *testing.F) {
	a, _ := signers(f)
	pemData, err := a.PublicKeyPEM()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pemData)
	f.Add([]byte("-----BEGIN RSA PUBLIC KEY-----\nMAA=\n-----END RSA PUBLIC KEY-----\n"))
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"))
	f.Add([]byte("<html>not a key</html>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pub, err := ParsePublicKey(b)
		if err != nil {
			return
		}
		if pub.N == nil || pub.N.Sign() <= 0 {
			t.Fatalf("parsed a key without a modulus: %+v", pub)
		}
		if err := NewKeyring().Add("k.rsa.pub", b); err != nil {
			t.Fatalf("parses but cannot be trusted: %v", err)
		}
	})
}

// The signature section is the first gzip member of every index and
// signed package, read before anything is verified.
func FuzzReadSegment(f *testing.F) {
	a, _ := signers(f)
	for _, alg := range []Algorithm{SHA1, SHA256} {
		s, err := a.Sign(alg, Digest(alg, []byte("body")))
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteSegment(&buf, s); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		sigs, err := ReadSegment(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, s := range sigs {
			if s.KeyName == "" {
				t.Fatalf("signature without a key name: %+v", s)
			}
		}
		// What reads must write and read back the same.
		var buf bytes.Buffer
		if err := WriteSegment(&buf, sigs...); err != nil {
			return // a name WriteSegment refuses to write is not a bug of the reader
		}
		again, err := ReadSegment(&buf)
		if err != nil || len(again) != len(sigs) {
			t.Fatalf("written segment reads as %v, %v", again, err)
		}
	})
}
