// Package signkey makes the signer a melange build signs its packages
// and index with: from the PEM private key melange keygen writes (the
// build's melange.rsa secret), or a fresh key for a build without one.
// Keys arrive and stay in memory; nothing here writes a private key.
package signkey

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/kiln-build/kiln/apk/sign"
)

// DefaultName is the key name melange keygen uses.
const DefaultName = "melange.rsa"

// DefaultBits is melange keygen's key size; MinBits the smallest it makes.
const (
	DefaultBits = 4096
	MinBits     = 2048
)

// FromPEM returns a signer for a PEM RSA private key ("RSA PRIVATE KEY",
// as melange keygen writes, or PKCS#8 "PRIVATE KEY"). name is the private
// key's file name, e.g. "melange.rsa"; as in melange and abuild, the
// signatures name the public key, name + ".pub", which is what
// installers must have in their keyring.
func FromPEM(name string, pemData []byte) (*sign.Signer, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, fmt.Errorf("signing key %s: no PEM block", name)
	}
	//lint:ignore SA1019 only detects the legacy encryption, to refuse it
	if x509.IsEncryptedPEMBlock(block) { //nolint:staticcheck
		return nil, fmt.Errorf("signing key %s is encrypted; give an unencrypted key", name)
	}
	key, err := sign.ParsePrivateKey(pemData)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", name, err)
	}
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("signing key %s: %w", name, err)
	}
	return &sign.Signer{KeyName: name + ".pub", Key: key}, nil
}

// Generate makes a fresh key named name (the private key's name; its
// public key is name + ".pub"). The caller publishes the public half
// (PublicKey) next to the packages.
func Generate(name string, bits int) (*sign.Signer, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if bits < MinBits {
		return nil, fmt.Errorf("signing key %s: %d bits is weaker than the %d melange accepts", name, bits, MinBits)
	}
	return sign.GenerateSigner(name+".pub", bits)
}

// PublicKey returns the public key's file name and PEM contents, the file
// installers put in their keyring (/etc/apk/keys/<name>).
func PublicKey(s *sign.Signer) (name string, pemData []byte, err error) {
	if s == nil || s.Key == nil {
		return "", nil, errors.New("no signing key")
	}
	pemData, err = s.PublicKeyPEM()
	return s.KeyName, pemData, err
}

func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") || strings.TrimSpace(name) != name {
		return fmt.Errorf("signing key name %q is not a file name", name)
	}
	if strings.HasSuffix(name, ".pub") {
		return fmt.Errorf("signing key name %q names a public key; give the private key's name", name)
	}
	return nil
}
