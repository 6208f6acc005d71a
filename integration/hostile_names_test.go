package integration

import (
	"bytes"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/sign"
)

// TestHostileNames: package names and versions end up in file names, URLs
// and the installed database, so an index or a .PKGINFO outside apk's
// grammar ("../", "/", spaces, control characters) is refused at the
// config line that brought the repository in, or at the package's
// install step; and a package must be the one the index lists.
func TestHostileNames(t *testing.T) {
	requireStack(t)
	good := raw("tool", rawDir("opt"), rawFile("opt/tool", "tool", 0o755))
	tests := []struct {
		name string
		edit func(text []byte) []byte // the index text
		want string
	}{
		{"name climbing out", func(b []byte) []byte { return bytes.Replace(b, []byte("P:tool\n"), []byte("P:../../etc/tool\n"), 1) },
			`apko.yaml:3:7: repository ./packages: index ./packages/x86_64/APKINDEX.tar.gz: APKINDEX record at line 1: P: package name "../../etc/tool" must start with a letter or digit: not allowed by apk's grammar`},
		{"name with a slash", func(b []byte) []byte { return bytes.Replace(b, []byte("P:tool\n"), []byte("P:to/ol\n"), 1) },
			`apko.yaml:3:7: repository ./packages: index ./packages/x86_64/APKINDEX.tar.gz: APKINDEX record at line 1: P: package name "to/ol" has '/' at byte 2: not allowed by apk's grammar`},
		{"version with a slash", func(b []byte) []byte { return bytes.Replace(b, []byte("V:1.0-r0\n"), []byte("V:1.0/../../x\n"), 1) },
			`apko.yaml:3:7: repository ./packages: index ./packages/x86_64/APKINDEX.tar.gz: APKINDEX record at line 1 (P:tool): V: package version "1.0/../../x" has '/' at byte 3: not allowed by apk's grammar`},
		{"control character in a name", func(b []byte) []byte { return bytes.Replace(b, []byte("P:tool\n"), []byte("P:to\x1bol\n"), 1) },
			`apko.yaml:3:7: repository ./packages: index ./packages/x86_64/APKINDEX.tar.gz: APKINDEX record at line 1: P: package name "to\x1bol" has '\x1b' at byte 2: not allowed by apk's grammar`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newHostileRepo(t).addRaw(good)
			text, err := apktest.IndexText(r.recs)
			if err != nil {
				t.Fatal(err)
			}
			b, err := apktest.RawIndex(tt.edit(text), r.signer, sign.SHA256, apktest.Pad{})
			if err != nil {
				t.Fatal(err)
			}
			r.writeIndexBytes(b)
			refused(t, r.config("tool"), tt.want)
		})
	}
	// The .PKGINFO's own name must be apk's too, and the package must be
	// the one the signed index lists under that file name.
	t.Run("bad name inside the package", func(t *testing.T) {
		p := good
		p.PkgInfoExtra = "pkgname = ../evil\n"
		r := newHostileRepo(t).addRaw(p)
		r.writeIndex(nil)
		refused(t, r.config("tool"), `[x86_64] install tool-1.0-r0.apk: .PKGINFO: pkgname: package name "../evil" must start with a letter or digit: not allowed by apk's grammar`)
	})
	t.Run("package is not the one the index lists", func(t *testing.T) {
		p := good
		p.Name, p.Version = "other", "6.6-r6"
		r := newHostileRepo(t).addRaw(p)
		// The repository lists it as tool-1.0-r0 (its control checksum and
		// all), a signed claim the package itself contradicts.
		r.writeIndex(func(recs []*index.Package) { recs[0].Name, recs[0].Version = "tool", "1.0-r0" })
		r.rename("other-6.6-r6.apk", "tool-1.0-r0.apk")
		refused(t, r.config("tool"), `[x86_64] install tool-1.0-r0.apk: not the package the index lists (tool-1.0-r0): its .PKGINFO says other-6.6-r6`)
	})
	checkServes(t)
}
