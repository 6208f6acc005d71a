package integration

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/sign"
)

// TestHostileTamper follows apk's chain of trust link by link: the
// config's keyring -> the index signature -> the index's C: -> the
// control section (signature, datahash) -> each file's SHA-1. Breaking
// any link fails the build at the config line or the install step that
// met it, naming the file and what did not match.
func TestHostileTamper(t *testing.T) {
	requireStack(t)
	tool := func() apktest.Raw { return raw("tool", rawDir("opt"), rawFile("opt/tool", "tool", 0o755)) }
	sum1 := func(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }
	other, err := sign.GenerateSigner(apktest.KeyName, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherPEM, err := other.PublicKeyPEM()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("per-file checksum", func(t *testing.T) {
		p := tool()
		bad := strings.Repeat("0", 40)
		p.Entries[1].Header.PAXRecords = map[string]string{"APK-TOOLS.checksum.SHA1": bad}
		r := newHostileRepo(t).addRaw(p).writeIndex(nil)
		// kiln's extraction checks each file as it writes it, before the
		// reader's own check at the end of the entry.
		q1 := func(h string) string { b, _ := hex.DecodeString(h); return "Q1" + base64.StdEncoding.EncodeToString(b) }
		refused(t, r.config("tool"), fmt.Sprintf(`[x86_64] install tool-1.0-r0: "opt/tool": contents have checksum %s, header says %s`, q1(sum1([]byte("tool"))), q1(bad)))
	})
	t.Run("datahash", func(t *testing.T) {
		p := tool()
		p.DataHash = strings.Repeat("ab", 32)
		r := newHostileRepo(t).addRaw(p).writeIndex(nil)
		data := r.apks["tool-1.0-r0.apk"]
		// The data member is what follows the signature and control
		// members; its SHA-256 is what the datahash should have said.
		sum := sha256.Sum256(dataMember(t, data))
		refused(t, r.config("tool"), fmt.Sprintf(`[x86_64] install tool-1.0-r0: read archive: tool-1.0-r0.apk: checksum mismatch: data section has SHA-256 %x, .PKGINFO datahash says %s`, sum, p.DataHash))
	})
	t.Run("data after the data section", func(t *testing.T) {
		p := tool()
		p.Trailer = []byte("appended by someone")
		r := newHostileRepo(t).addRaw(p).writeIndex(nil)
		size := len(r.apks["tool-1.0-r0.apk"]) - len(p.Trailer)
		refused(t, r.config("tool"), fmt.Sprintf(`[x86_64] install tool-1.0-r0: read archive: tool-1.0-r0.apk: unexpected data after the data section at offset %d`, size))
	})
	t.Run("control section against the index C:", func(t *testing.T) {
		r := newHostileRepo(t).addRaw(tool())
		fake := "Q1" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 20))
		real := r.record("tool").Checksum
		r.writeIndex(func(recs []*index.Package) { recs[0].Checksum = fake })
		refused(t, r.config("tool"), fmt.Sprintf(`[x86_64] install tool-1.0-r0.apk: checksum mismatch: control section is %s, index says %s`, real, fake))
	})
	t.Run("package swapped for another signed one", func(t *testing.T) {
		// A validly signed package of the same name and version, but not
		// the one the index pins.
		r := newHostileRepo(t).addRaw(tool())
		r.writeIndex(nil)
		listed := r.record("tool").Checksum
		swapped := tool()
		swapped.Entries[1] = rawFile("opt/tool", "trojan", 0o755)
		data, rec, err := apktest.Raw{Name: "tool", Version: "1.0-r0", Arch: hostileArch, Entries: swapped.Entries, Signer: r.signer, Alg: sign.SHA256}.Build()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(r.dir, hostileArch, "tool-1.0-r0.apk"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		refused(t, r.config("tool"), fmt.Sprintf(`[x86_64] install tool-1.0-r0.apk: checksum mismatch: control section is %s, index says %s`, rec.Checksum, listed))
	})
	t.Run("index signed by another key of the trusted name", func(t *testing.T) {
		r := newHostileRepo(t).addRaw(tool()).writeIndex(nil)
		if err := os.WriteFile(filepath.Join(r.dir, apktest.KeyName), otherPEM, 0o644); err != nil {
			t.Fatal(err)
		}
		refused(t, r.config("tool"), `apko.yaml:3:7: repository ./packages: index ./packages/x86_64/APKINDEX.tar.gz: signature does not verify: RSA-SHA256 by key `+apktest.KeyName)
	})
	t.Run("unsigned index", func(t *testing.T) {
		r := newHostileRepo(t).addRaw(tool())
		text, err := apktest.IndexText(r.recs)
		if err != nil {
			t.Fatal(err)
		}
		b, err := apktest.RawIndex(text, nil, sign.SHA256, apktest.Pad{})
		if err != nil {
			t.Fatal(err)
		}
		r.writeIndexBytes(b)
		refused(t, r.config("tool"), `apko.yaml:3:7: repository ./packages: index ./packages/x86_64/APKINDEX.tar.gz: not signed`)
	})
	t.Run("index edited after signing", func(t *testing.T) {
		r := newHostileRepo(t).addRaw(tool())
		text, err := apktest.IndexText(r.recs)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := apktest.RawIndex(text, r.signer, sign.SHA256, apktest.Pad{})
		if err != nil {
			t.Fatal(err)
		}
		forged, err := apktest.RawIndex(bytes.Replace(text, []byte("V:1.0-r0"), []byte("V:1.1-r0"), 1), nil, sign.SHA256, apktest.Pad{})
		if err != nil {
			t.Fatal(err)
		}
		// The original signature section in front of the edited body.
		sigLen := len(signed) - len(mustRawIndex(t, text))
		r.writeIndexBytes(append(signed[:sigLen:sigLen], forged...))
		refused(t, r.config("tool"), `apko.yaml:3:7: repository ./packages: index ./packages/x86_64/APKINDEX.tar.gz: signature does not verify: RSA-SHA256 by key `+apktest.KeyName)
	})
	t.Run("keyring names a missing key", func(t *testing.T) {
		r := newHostileRepo(t).addRaw(tool()).writeIndex(nil)
		if err := os.Remove(filepath.Join(r.dir, apktest.KeyName)); err != nil {
			t.Fatal(err)
		}
		refused(t, r.config("tool"), `apko.yaml:5:7: keyring: packages/`+apktest.KeyName+`: not found in the build context`)
	})
	t.Run("keyring file is not a key", func(t *testing.T) {
		r := newHostileRepo(t).addRaw(tool()).writeIndex(nil)
		if err := os.WriteFile(filepath.Join(r.dir, apktest.KeyName), []byte("<html>not a key</html>\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		refused(t, r.config("tool"), `apko.yaml:5:7: keyring: key "`+apktest.KeyName+`": no PEM block found`)
	})
	checkServes(t)
}

// dataMember returns the last gzip member of a package as written by
// apktest.Raw (its data section), found by decompressing member by member.
func dataMember(t *testing.T, apk []byte) []byte {
	t.Helper()
	members := gzipMembers(t, apk)
	return members[len(members)-1]
}

func mustRawIndex(t *testing.T, text []byte) []byte {
	t.Helper()
	b, err := apktest.RawIndex(text, nil, sign.SHA256, apktest.Pad{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
