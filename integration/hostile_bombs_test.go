package integration

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/apk/sign"
)

// TestHostileBombs: inputs that weigh little and unpack to a lot. Every
// section kiln decompresses is read against a bound (the index: 300 MiB
// inflated, 1 MiB lines, 8 MiB records; a package's control section:
// 32 MiB; its files: the declared size, see TestHostileSizes), so the
// build fails quickly, saying which bound, instead of filling memory or
// disk.
func TestHostileBombs(t *testing.T) {
	requireStack(t)
	tool := raw("tool", rawDir("opt"), rawFile("opt/tool", "tool", 0o755))
	index := func(r *hostileRepo, edit func([]byte) []byte, pad apktest.Pad) {
		text, err := apktest.IndexText(r.recs)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			text = edit(text)
		}
		b, err := apktest.RawIndex(text, r.signer, sign.SHA256, pad)
		if err != nil {
			t.Fatal(err)
		}
		r.writeIndexBytes(b)
	}
	const idx = "apko.yaml:3:7: repository ./packages: index ./packages/x86_64/APKINDEX.tar.gz: "
	t.Run("index inflating past its bound", func(t *testing.T) {
		r := newHostileRepo(t).addRaw(tool)
		index(r, nil, apktest.Pad{Name: "PAD", Size: 320 << 20})
		refused(t, r.config("tool"), idx+"tar: exceeds the size cap: inflates to more than 314572800 bytes")
	})
	t.Run("index DESCRIPTION past its bound", func(t *testing.T) {
		r := newHostileRepo(t).addRaw(tool)
		index(r, nil, apktest.Pad{Name: "DESCRIPTION", Size: 64 << 20})
		refused(t, r.config("tool"), idx+"DESCRIPTION: exceeds the size cap: longer than 65536 bytes")
	})
	t.Run("MiB-long index line", func(t *testing.T) {
		r := newHostileRepo(t).addRaw(tool)
		index(r, func(b []byte) []byte {
			return bytes.Replace(b, []byte("\nT:"), []byte("\nT:"+strings.Repeat("x", 3<<20)), 1)
		}, apktest.Pad{})
		refused(t, r.config("tool"), idx+"APKINDEX line 7: exceeds the size cap: longer than 1048576 bytes")
	})
	t.Run("index record of many long lines", func(t *testing.T) {
		r := newHostileRepo(t).addRaw(tool)
		index(r, func(b []byte) []byte {
			return bytes.Replace(b, []byte("\nT:"), []byte("\n"+strings.Repeat("Z:"+strings.Repeat("z", 1<<20-3)+"\n", 9)+"T:"), 1)
		}, apktest.Pad{})
		refused(t, r.config("tool"), idx+"APKINDEX record at line 1: exceeds the size cap: longer than 8388608 bytes")
	})
	t.Run("control section inflating past its bound", func(t *testing.T) {
		p := tool
		p.ControlPad = 64 << 20
		r := newHostileRepo(t).addRaw(p).writeIndex(nil)
		refused(t, r.config("tool"), "[x86_64] install tool-1.0-r0.apk: control section: larger than 33554432 bytes")
	})
	t.Run("data section of zeros", func(t *testing.T) {
		p := raw("tool", rawDir("opt"), rawFile("opt/zeros", strings.Repeat("\x00", 256<<20), 0o644))
		p.InstalledSize = 4096
		r := newHostileRepo(t).addRaw(p).writeIndex(nil)
		refused(t, r.config("tool"), `[x86_64] install tool-1.0-r0: "opt/zeros": size limit exceeded: 268435456 bytes of files would be written, the package declares an installed size of 4096 bytes (allowed: 16781312)`)
	})
	// A sparse entry can claim any size; its holes would be read as zeros.
	t.Run("sparse file", func(t *testing.T) {
		p := raw("tool", rawDir("opt"), apktest.RawEntry{Header: tar.Header{Name: "opt/sparse", Typeflag: tar.TypeGNUSparse, Mode: 0o644, Format: tar.FormatGNU},
			NoChecksum: true})
		r := newHostileRepo(t).addRaw(p).writeIndex(nil)
		refused(t, r.config("tool"), `[x86_64] install tool-1.0-r0: read archive: tool-1.0-r0.apk: data section: "opt/sparse": sparse files are not supported`)
	})
	checkServes(t)
}
