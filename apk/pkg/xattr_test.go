package pkg

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/kiln-build/kiln/apk/sign"
)

// The per-file SHA-1 covers a file's contents only; the datahash covers
// the whole data member, PAX records included. Changing a file's xattrs
// must therefore fail the read, whether the package is trusted through
// its signature or through an index checksum.
func TestXattrsCoveredByDatahash(t *testing.T) {
	a, _ := testSigners(t)
	orig := preparedFixture(t)
	origData, err := dataMember(orig)
	if err != nil {
		t.Fatal(err)
	}
	dh := sha256.Sum256(origData)
	pkginfo, err := formatPkgInfo(fixtureInfo(), hex.EncodeToString(dh[:]), nil)
	if err != nil {
		t.Fatal(err)
	}
	const capKey = paxXattrPrefix + "security.capability"
	tamper := func(signer *sign.Signer, f func(pax map[string]string)) []byte {
		des := preparedFixture(t)
		e := findEntry(t, des, "usr/bin/ping")
		if _, ok := e.hdr.PAXRecords[capKey]; !ok {
			t.Fatal("fixture's usr/bin/ping has no security.capability")
		}
		f(e.hdr.PAXRecords)
		data, err := dataMember(des)
		if err != nil {
			t.Fatal(err)
		}
		return assembleRaw(t, signer, pkginfo, data) // the original datahash
	}
	changes := []struct {
		name string
		f    func(map[string]string)
		want error
	}{
		{"intact", func(map[string]string) {}, nil},
		{"capability changed", func(p map[string]string) { p[capKey] = "\x01\x00\x00\x02\xff\xff\xff\xff" }, ErrChecksum},
		{"capability removed", func(p map[string]string) { delete(p, capKey) }, ErrChecksum},
		{"xattr added", func(p map[string]string) { p[paxXattrPrefix+"user.evil"] = "1" }, ErrChecksum},
	}
	for _, c := range changes {
		for _, trust := range []struct {
			name   string
			signer *sign.Signer
		}{{"signed", a}, {"unsigned, pinned", nil}} {
			t.Run(c.name+"/"+trust.name, func(t *testing.T) {
				pkg := tamper(trust.signer, c.f)
				opts := ReadOptions{Keyring: keyringOf(t, a)}
				if trust.signer == nil {
					opts.ExpectedChecksum = indexChecksum(t, pkg, false)
				}
				err, atOpen := readPackage(pkg, opts, true)
				if c.want == nil {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				if !errors.Is(err, c.want) || atOpen {
					t.Fatalf("read = %v (from Open: %v), want %v from the data section", err, atOpen, c.want)
				}
			})
		}
	}
}
