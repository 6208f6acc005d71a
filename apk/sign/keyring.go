package sign

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Keyring holds trusted public keys by file name. apk matches a signature
// to a key only by the name written in the signature entry, so the name is
// part of the trust: a key added under another name verifies nothing.
type Keyring struct {
	keys map[string]*rsa.PublicKey
}

// NewKeyring returns an empty keyring.
func NewKeyring() *Keyring { return &Keyring{keys: map[string]*rsa.PublicKey{}} }

// LoadKeyring reads PEM public keys from files; each key is named by its
// file's base name. A directory adds every *.pub file in it.
func LoadKeyring(paths ...string) (*Keyring, error) {
	k := NewKeyring()
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		files := []string{p}
		if st.IsDir() {
			files, err = filepath.Glob(filepath.Join(p, "*.pub"))
			if err != nil {
				return nil, fmt.Errorf("keyring %s: %w", p, err)
			}
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("keyring: %w", err)
			}
			if err := k.Add(filepath.Base(f), data); err != nil {
				return nil, fmt.Errorf("keyring %s: %w", f, err)
			}
		}
	}
	return k, nil
}

// Add trusts the PEM-encoded RSA public key under name.
func (k *Keyring) Add(name string, pemData []byte) error {
	if name == "" || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("invalid key name %q", name)
	}
	pub, err := ParsePublicKey(pemData)
	if err != nil {
		return fmt.Errorf("key %q: %w", name, err)
	}
	k.keys[name] = pub
	return nil
}

// ParsePublicKey decodes a PEM "PUBLIC KEY" (PKIX) or "RSA PUBLIC KEY"
// (PKCS#1) block holding an RSA key.
func ParsePublicKey(pemData []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, fmt.Errorf("no PEM block found")
	}
	switch block.Type {
	case "PUBLIC KEY":
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		pub, ok := key.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key is %T, not RSA", key)
		}
		return pub, nil
	case "RSA PUBLIC KEY":
		pub, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		return pub, nil
	}
	return nil, fmt.Errorf("PEM block is %q, want PUBLIC KEY", block.Type)
}

// Names lists the trusted key names, sorted.
func (k *Keyring) Names() []string {
	if k == nil {
		return nil
	}
	names := make([]string, 0, len(k.keys))
	for n := range k.keys {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Has reports whether name is trusted.
func (k *Keyring) Has(name string) bool {
	if k == nil {
		return false
	}
	_, ok := k.keys[name]
	return ok
}

// Verify checks sigs against the digests in d, the way apk-tools does: the
// first signature made by a trusted key decides. It returns ErrUnsigned for
// no signatures, ErrUntrusted when no signature's key is trusted, and
// ErrBadSignature when the trusted key's signature does not match.
func (k *Keyring) Verify(sigs []Signature, d *Digester) error {
	if len(sigs) == 0 {
		return ErrUnsigned
	}
	for _, s := range sigs {
		if k == nil {
			break
		}
		pub, ok := k.keys[s.KeyName]
		if !ok {
			continue
		}
		digest := d.sum(s.Alg)
		if digest == nil {
			return fmt.Errorf("%w: no %s digest computed for key %s", ErrBadSignature, s.Alg, s.KeyName)
		}
		if err := verifyRSA(pub, s.Alg, digest, s.Value); err != nil {
			return fmt.Errorf("%w: %s by key %s", ErrBadSignature, s.Alg, s.KeyName)
		}
		return nil
	}
	names := make([]string, len(sigs))
	for i, s := range sigs {
		names[i] = s.KeyName
	}
	return fmt.Errorf("%w: signed by %s; trusted keys: [%s]", ErrUntrusted,
		strings.Join(names, ", "), strings.Join(k.Names(), " "))
}
