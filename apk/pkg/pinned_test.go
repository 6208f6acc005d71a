package pkg

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/sign"
)

// indexChecksum is the index C: value of a package, computed here from
// its members rather than by Open.
func indexChecksum(t *testing.T, pkg []byte, signed bool) string {
	t.Helper()
	ms := splitMembers(t, pkg)
	i := 0
	if signed {
		i = 1
	}
	sum := sha1.Sum(ms[i])
	return "Q1" + base64.StdEncoding.EncodeToString(sum[:])
}

// apk installs a package without a trusted signature when a signed index
// pins its control section: the chain index -> C: -> datahash -> file
// checksums must then hold end to end.
func TestIndexPinnedPackages(t *testing.T) {
	a, b := testSigners(t)
	trustA := keyringOf(t, a)
	unsigned, _ := writeFixture(t, WriteOptions{SourceDateEpoch: 1})
	byB, _ := writeFixture(t, WriteOptions{Signer: b, Alg: sign.SHA256, SourceDateEpoch: 1})
	signed, _ := writeFixture(t, WriteOptions{Signer: a, Alg: sign.SHA256, SourceDateEpoch: 1})
	pin := func(pkg []byte, signed bool) ReadOptions {
		return ReadOptions{Keyring: trustA, ExpectedChecksum: indexChecksum(t, pkg, signed)}
	}

	// Unsigned packages whose data no longer matches their datahash or
	// their file checksums, though the control section is as pinned.
	dataRecompressed := rebuildMember(t, unsigned, 1, gzip.BestSpeed, func(b []byte) []byte { return b })
	badFile := func() []byte {
		des := preparedFixture(t)
		findEntry(t, des, "usr/bin/ping").data = []byte("pong")
		return assemble(t, nil, des) // datahash recomputed over the bad file
	}()
	noDatahash := func() []byte {
		pkginfo, err := formatPkgInfo(fixtureInfo(), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		data, err := dataMember(preparedFixture(t))
		if err != nil {
			t.Fatal(err)
		}
		return assembleRaw(t, nil, pkginfo, data)
	}()
	// A signature by the trusted key that no longer verifies: one byte of
	// the signature value flipped, control section untouched.
	badSignature := rebuildMember(t, signed, 0, 6, func(b []byte) []byte {
		b = bytes.Clone(b)
		b[512+10] ^= 0x55
		return b
	})

	tests := []struct {
		name   string
		pkg    []byte
		opts   ReadOptions
		want   error // nil: success; errAny: any error
		atOpen bool
	}{
		{"unsigned, pinned", unsigned, pin(unsigned, false), nil, false},
		{"unsigned, pinned, no keyring", unsigned, ReadOptions{ExpectedChecksum: indexChecksum(t, unsigned, false)}, nil, false},
		{"unknown key, pinned", byB, pin(byB, true), nil, false},
		{"unsigned, not pinned", unsigned, ReadOptions{Keyring: trustA}, sign.ErrUnsigned, true},
		{"unknown key, not pinned", byB, ReadOptions{Keyring: trustA}, sign.ErrUntrusted, true},
		{"unsigned, pinned to another package", unsigned, pin(badFile, false), ErrChecksum, true},
		{"unsigned, pinned, data recompressed", dataRecompressed, pin(dataRecompressed, false), ErrChecksum, false},
		{"unsigned, pinned, file differs from its checksum", badFile, pin(badFile, false), ErrChecksum, false},
		{"unsigned, pinned, no datahash", noDatahash, pin(noDatahash, false), ErrNoDataHash, true},
		{"trusted key's bad signature, pinned", badSignature, pin(badSignature, true), sign.ErrBadSignature, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err, atOpen := readPackage(tt.pkg, tt.opts, false)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want == nil:
				return
			case err == nil:
				t.Fatalf("read succeeded, want error %v", tt.want)
			case !errors.Is(err, tt.want):
				t.Fatalf("error = %v, want %v", err, tt.want)
			case tt.atOpen != atOpen:
				t.Fatalf("error from Open = %v, want %v: %v", atOpen, tt.atOpen, err)
			}
			if !strings.HasPrefix(err.Error(), "package: ") && tt.opts.Name == "" {
				t.Errorf("error %q does not name the package", err)
			}
		})
	}
}
