package sign

import (
	"bytes"
	"compress/gzip"
	"io"
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
// signed package; ReadSegment reads it decompressed, before anything is
// verified.
func FuzzReadSegment(f *testing.F) {
	a, _ := signers(f)
	for _, alg := range []Algorithm{SHA1, SHA256} {
		s, err := a.Sign(alg, Digest(alg, []byte("body")))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(segmentTar(f, s))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		sigs, err := ReadSegment(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, s := range sigs {
			if s.KeyName == "" || len(s.Value) == 0 {
				t.Fatalf("signature without a key name or a value: %+v", s)
			}
		}
		// What reads must write and read back the same.
		again, err := ReadSegment(bytes.NewReader(segmentTar(t, sigs...)))
		if err != nil || len(again) != len(sigs) {
			t.Fatalf("written segment reads as %v, %v", again, err)
		}
		for i := range sigs {
			if again[i].KeyName != sigs[i].KeyName || again[i].Alg != sigs[i].Alg || !bytes.Equal(again[i].Value, sigs[i].Value) {
				t.Fatalf("signature %d changed: %+v -> %+v", i, sigs[i], again[i])
			}
		}
	})
}

// segmentTar is WriteSegment's output decompressed, as ReadSegment takes it.
func segmentTar(t testing.TB, sigs ...Signature) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSegment(&buf, sigs...); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
