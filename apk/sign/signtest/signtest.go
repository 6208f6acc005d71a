// Package signtest hands tests signing keys: generated once per test
// binary and name (RSA key generation is slow and many tests want the same
// few keys), with the keyring that trusts them. It imports only apk/sign,
// so the tests of every apk package can use it.
package signtest

import (
	"sync"
	"testing"

	"github.com/kiln-build/kiln/apk/sign"
)

// Bits is the size of every test key: the formats do not care, and 2048
// is what repositories use.
const Bits = 2048

var (
	mu      sync.Mutex
	signers = map[string]*sign.Signer{}
)

// Signer returns the test key trusted under name, made on first use.
func Signer(tb testing.TB, name string) *sign.Signer {
	tb.Helper()
	s, err := Get(name)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// Get is Signer for callers without a testing.TB.
func Get(name string) (*sign.Signer, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := signers[name]; ok {
		return s, nil
	}
	s, err := sign.GenerateSigner(name, Bits)
	if err != nil {
		return nil, err
	}
	signers[name] = s
	return s, nil
}

// Keyring trusts the public keys of ss, each under its signer's name.
func Keyring(tb testing.TB, ss ...*sign.Signer) *sign.Keyring {
	tb.Helper()
	k := sign.NewKeyring()
	for _, s := range ss {
		p, err := s.PublicKeyPEM()
		if err != nil {
			tb.Fatal(err)
		}
		if err := k.Add(s.KeyName, p); err != nil {
			tb.Fatal(err)
		}
	}
	return k
}
