package pkg

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/kiln-build/kiln/apk/sign"
)

// fuzzSeeds returns small valid packages: the fixture signed, unsigned
// and by an untrusted key. Large seeds make the fuzzer spend its time
// minimizing instead of exploring.
func fuzzSeeds(f *testing.F) [][]byte {
	a, b := testSigners(f)
	entries := fixtureEntries()
	for i := range entries {
		if len(entries[i].Data) > 64 {
			entries[i].Data = entries[i].Data[:64]
		}
	}
	var out [][]byte
	for _, opts := range []WriteOptions{
		{Signer: a, Alg: sign.SHA256, SourceDateEpoch: 1, Scripts: fixtureScripts, Triggers: fixtureTriggers},
		{},
		{Signer: b, Alg: sign.SHA1},
	} {
		var buf bytes.Buffer
		if _, err := Write(&buf, fixtureInfo(), entries, opts); err != nil {
			f.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// realSeeds returns the real packages when present (only their small
// parts are used as seeds).
func realSeeds() [][]byte {
	dir, err := os.Getwd()
	if err != nil {
		return nil
	}
	var out [][]byte
	// The shared testdata sits next to the module root, three levels up.
	for _, n := range []string{"alpine-baselayout-3.2.0-r23.apk", "hello-wolfi-2.12.1-r0.apk"} {
		if data, err := os.ReadFile(filepath.Join(dir, "..", "..", "..", "shared", "testdata", "packages", n)); err == nil {
			out = append(out, data)
		}
	}
	return out
}

// checkRead reads a whole package and checks the invariants any input
// must keep: no panic, a clean end only for a complete package, and no
// failure that looks like io.EOF.
func checkRead(t *testing.T, data []byte, opts ReadOptions) {
	r, err := Open(bytes.NewReader(data), opts)
	if err != nil {
		return
	}
	_, err = drain(r)
	if err == nil && r.Info.Size != uint64(len(data)) {
		t.Fatalf("read to the end but Info.Size = %d of %d bytes", r.Info.Size, len(data))
	}
	if err != nil && errors.Is(err, io.EOF) {
		t.Fatalf("failure looks like io.EOF: %v", err)
	}
	if _, again := r.Next(); (err == nil) != (again == io.EOF) {
		t.Fatalf("Next after the end = %v, first result %v", again, err)
	}
}

func FuzzOpen(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
		f.Add(s[:len(s)/2])
	}
	f.Add([]byte{})
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"))
	a, _ := testSigners(f)
	kr := keyringOf(f, a)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, data, ReadOptions{Keyring: kr, AllowUntrusted: true})
		checkRead(t, data, ReadOptions{Keyring: kr})
	})
}

// FuzzOpenSections fuzzes the decompressed control and data tars, which
// mutations of compressed input rarely reach past the gzip CRC.
func FuzzOpenSections(f *testing.F) {
	seeds := fuzzSeeds(f)
	fixtureData := gunzip(f, splitMembers(f, seeds[0])[2])
	for _, s := range append(seeds, realSeeds()...) {
		ms := splitMembers(f, s)
		f.Add(gunzip(f, ms[len(ms)-2]), fixtureData)
	}
	f.Fuzz(func(t *testing.T, control, data []byte) {
		var pkg []byte
		for _, b := range [][]byte{control, data} {
			var buf bytes.Buffer
			// Stored blocks: compressing is not what is under test.
			zw, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression)
			zw.Write(b)
			zw.Close()
			pkg = append(pkg, buf.Bytes()...)
		}
		checkRead(t, pkg, ReadOptions{AllowUntrusted: true})
	})
}

// FuzzParsePkgInfo checks that whatever parses formats back to a
// .PKGINFO that parses to the same package.
func FuzzParsePkgInfo(f *testing.F) {
	for _, s := range append(fuzzSeeds(f), realSeeds()...) {
		ms := splitMembers(f, s)
		ctl := gunzip(f, ms[len(ms)-2])
		// .PKGINFO is the first control entry; its body starts after the
		// 512-byte header.
		if end := bytes.IndexByte(ctl[512:], 0); end > 0 {
			f.Add(ctl[512 : 512+end])
		}
	}
	f.Add([]byte("pkgname = a\npkgver = 1\nprovider_priority = 0\ndepend = b c\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		pi, err := parsePkgInfo(in)
		if err != nil {
			return
		}
		out, err := formatPkgInfo(pi.pkg, pi.dataHash, pi.triggers)
		if err != nil {
			return // values that cannot be written back (e.g. a lone \r)
		}
		again, err := parsePkgInfo(out)
		if err != nil {
			t.Fatalf("formatted .PKGINFO does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(again.pkg, pi.pkg) || again.dataHash != pi.dataHash || !reflect.DeepEqual(again.triggers, pi.triggers) {
			t.Fatalf("round trip changed the package:\n%+v\n%+v\n%s", pi.pkg, again.pkg, out)
		}
	})
}
