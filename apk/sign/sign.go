// Package sign implements the RSA signatures apk puts in front of packages
// and indexes: a keyring of trusted public keys matched by file name, a
// signer, and the gzip "signature segment" that carries the signatures.
package sign

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Algorithm is the digest under an apk RSA signature.
type Algorithm uint8

const (
	SHA1   Algorithm = iota // .SIGN.RSA.<key>, apk-tools 2 default
	SHA256                  // .SIGN.RSA256.<key>, melange/apko default
)

const (
	prefixSHA1   = ".SIGN.RSA."
	prefixSHA256 = ".SIGN.RSA256."
)

// Sentinel errors, for callers that accept untrusted input on request.
var (
	ErrUnsigned     = errors.New("not signed")
	ErrUntrusted    = errors.New("signed by no key in the keyring")
	ErrBadSignature = errors.New("signature does not verify")
)

func (a Algorithm) String() string {
	switch a {
	case SHA1:
		return "RSA-SHA1"
	case SHA256:
		return "RSA-SHA256"
	}
	return fmt.Sprintf("Algorithm(%d)", uint8(a))
}

func (a Algorithm) cryptoHash() crypto.Hash {
	if a == SHA256 {
		return crypto.SHA256
	}
	return crypto.SHA1
}

func (a Algorithm) newHash() hash.Hash {
	if a == SHA256 {
		return sha256.New()
	}
	return sha1.New()
}

// Signature is one signature entry: which key, which digest, and the
// PKCS#1 v1.5 signature bytes.
type Signature struct {
	Alg     Algorithm
	KeyName string // file name of the public key, e.g. "builder.rsa.pub"
	Value   []byte
}

// MemberName is the tar entry name that carries the signature.
func (s Signature) MemberName() string {
	if s.Alg == SHA256 {
		return prefixSHA256 + s.KeyName
	}
	return prefixSHA1 + s.KeyName
}

// ParseMemberName splits a signature tar entry name into algorithm and key
// name. ok is false for any other entry name.
func ParseMemberName(name string) (alg Algorithm, keyName string, ok bool) {
	switch {
	case strings.HasPrefix(name, prefixSHA256):
		alg, keyName = SHA256, name[len(prefixSHA256):]
	case strings.HasPrefix(name, prefixSHA1):
		alg, keyName = SHA1, name[len(prefixSHA1):]
	default:
		return 0, "", false
	}
	if !validKeyName(keyName) || len(name) > maxMemberName {
		return 0, "", false
	}
	return alg, keyName, true
}

// maxMemberName is the longest name a USTAR header holds without a
// directory prefix: signatures are written (and apk writes them) as USTAR
// entries, so a longer one is not a signature kiln or apk could have made.
const maxMemberName = 100

// validKeyName reports whether a signature's key name is one a keyring
// file may carry: printable ASCII other than '/'. Anything else (bytes USTAR
// cannot hold, control characters) could match no key and would be
// printed in errors, so the entry is not taken as a signature.
func validKeyName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c > 0x7e || c == '/' {
			return false
		}
	}
	return true
}

// Digester hashes signed bytes with every algorithm a set of signatures
// needs, so a stream is read once whatever the signatures are.
type Digester struct {
	sha1, sha256 hash.Hash
}

// NewDigester returns a Digester for sigs. With no signatures it hashes
// nothing (there is nothing to verify).
func NewDigester(sigs []Signature) *Digester {
	d := &Digester{}
	for _, s := range sigs {
		switch s.Alg {
		case SHA1:
			if d.sha1 == nil {
				d.sha1 = sha1.New()
			}
		case SHA256:
			if d.sha256 == nil {
				d.sha256 = sha256.New()
			}
		}
	}
	return d
}

// Write implements io.Writer.
func (d *Digester) Write(p []byte) (int, error) {
	if d.sha1 != nil {
		d.sha1.Write(p)
	}
	if d.sha256 != nil {
		d.sha256.Write(p)
	}
	return len(p), nil
}

func (d *Digester) sum(a Algorithm) []byte {
	switch {
	case a == SHA1 && d.sha1 != nil:
		return d.sha1.Sum(nil)
	case a == SHA256 && d.sha256 != nil:
		return d.sha256.Sum(nil)
	}
	return nil
}

// Digest hashes data with alg; a convenience for signers of in-memory data.
func Digest(alg Algorithm, data []byte) []byte {
	h := alg.newHash()
	h.Write(data)
	return h.Sum(nil)
}

// verifyRSA checks one signature against one key.
func verifyRSA(pub *rsa.PublicKey, alg Algorithm, digest, sig []byte) error {
	return rsa.VerifyPKCS1v15(pub, alg.cryptoHash(), digest, sig)
}
