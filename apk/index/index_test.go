package index

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/kiln-build/kiln/apk/sign"
)

// sharedTestdata finds ../shared/testdata from the module root, or skips.
func sharedTestdata(t testing.TB, rel string) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("module root not found")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "testdata", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test data absent (%s): %v", p, err)
	}
	return p
}

var (
	signersOnce sync.Once
	signerA     *sign.Signer
	signerB     *sign.Signer
)

func signers(t testing.TB) (*sign.Signer, *sign.Signer) {
	signersOnce.Do(func() {
		signerA, _ = sign.GenerateSigner("a.rsa.pub", 1024)
		signerB, _ = sign.GenerateSigner("b.rsa.pub", 1024)
	})
	return signerA, signerB
}

func keyring(t testing.TB, ss ...*sign.Signer) *sign.Keyring {
	k := sign.NewKeyring()
	for _, s := range ss {
		p, _ := s.PublicKeyPEM()
		if err := k.Add(s.KeyName, p); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func samplePackages() []*Package {
	return []*Package{
		{Name: "zlib", Version: "1.2.13-r0", Arch: "x86_64", Size: 53000, InstalledSize: 110000, Description: "A compression library",
			URL: "https://zlib.net/", License: "Zlib", Origin: "zlib", Maintainer: "A <a@b>", BuildTime: 1667000000,
			Commit: "abc123", Checksum: "Q1a3dTvsj0tG5Ejz1ToM+nFDcZ2Q8=", Dependencies: []string{"so:libc.musl-x86_64.so.1"},
			Provides: []string{"so:libz.so.1=1.2.13"}},
		{Name: "busybox", Version: "1.35.0-r17", Arch: "x86_64", Size: 500000, InstalledSize: 900000, License: "GPL-2.0-only",
			Checksum: "Q1Zs1r2EMyc8YY0jTGyY7xRCbFbLo=", Provides: []string{"/bin/sh", "cmd:busybox=1.35.0-r17"},
			InstallIf: []string{"a", "b=1"}, Replaces: []string{"busybox-initscripts"}, ProviderPriority: 100, HasProviderPrio: true,
			ReplacesPriority: 5, Extra: []Field{{Key: 'Z', Value: "unknown-but-kept"}}},
		{Name: "busybox", Version: "1.35.0-r2", Arch: "x86_64", Checksum: "Q1xxxxxxxxxxxxxxxxxxxxxxxxxxx="},
	}
}

func TestTextRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, samplePackages()); err != nil {
		t.Fatal(err)
	}
	got, err := ParseText(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := samplePackages()
	want[2].Size, want[2].InstalledSize = 0, 0
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got[1], want[1])
	}
}

func TestParseTextErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"P:a\nV:1\nbogus\n", `line 3: want "K:value", got "bogus"`},
		{"P:a\nV:1\nS:12x\n", `line 3: S: "12x" is not a number`},
		{"P:a\nV:1\nk:-\n", `line 3: k: "-" is not a number`},
		{"P:a\n\n", "has no P: or V:"},
		{"V:1\nA:x86_64\n", "has no P: or V:"},
	}
	for _, tt := range tests {
		_, err := ParseTextBytes([]byte(tt.text))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseText(%q) = %v, want %q", tt.text, err, tt.want)
		}
	}
}

func TestParseTextLongLine(t *testing.T) {
	// p: lines of several MiB exist in real indexes (huge so: lists).
	var provides []string
	for i, n := 0, 0; n < 5<<20; i++ {
		provides = append(provides, fmt.Sprintf("so:libverylongname%08d.so.1=1.0", i))
		n += len(provides[i]) + 1
	}
	text := "P:big\nV:1.0-r0\np:" + strings.Join(provides, " ") + "\n\nP:next\nV:2\n"
	pkgs, err := ParseTextBytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 || len(pkgs[0].Provides) != len(provides) || pkgs[0].Provides[len(provides)-1] != provides[len(provides)-1] {
		t.Fatalf("got %d packages, %d provides", len(pkgs), len(pkgs[0].Provides))
	}
}

func writeIndex(t testing.TB, opts WriteOptions) []byte {
	var buf bytes.Buffer
	if err := Write(&buf, samplePackages(), opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteReadSigned(t *testing.T) {
	a, b := signers(t)
	for _, alg := range []sign.Algorithm{sign.SHA1, sign.SHA256} {
		data := writeIndex(t, WriteOptions{Description: "test repo", Signer: a, Alg: alg, SourceDateEpoch: 42})
		if again := writeIndex(t, WriteOptions{Description: "test repo", Signer: a, Alg: alg, SourceDateEpoch: 42}); !bytes.Equal(data, again) {
			t.Fatal("Write is not deterministic")
		}
		idx, err := Read(bytes.NewReader(data), ReadOptions{Keyring: keyring(t, a)})
		if err != nil {
			t.Fatalf("%v: %v", alg, err)
		}
		if idx.Description != "test repo" || len(idx.Packages) != 3 || len(idx.Signatures) != 1 || idx.Signatures[0].KeyName != "a.rsa.pub" {
			t.Fatalf("read back %q, %d packages, %+v", idx.Description, len(idx.Packages), idx.Signatures)
		}
		// Sorted by name then version.
		var order []string
		for _, p := range idx.Packages {
			order = append(order, p.String())
		}
		if got := strings.Join(order, " "); got != "busybox-1.35.0-r2 busybox-1.35.0-r17 zlib-1.2.13-r0" {
			t.Errorf("order %s", got)
		}

		tests := []struct {
			name    string
			data    []byte
			opts    ReadOptions
			wantErr error
		}{
			{"wrong key", data, ReadOptions{Keyring: keyring(t, b)}, sign.ErrUntrusted},
			{"wrong key allowed untrusted", data, ReadOptions{Keyring: keyring(t, b), AllowUntrusted: true}, nil},
			{"no keyring", data, ReadOptions{}, sign.ErrUntrusted},
			{"tampered", tamper(t, data), ReadOptions{Keyring: keyring(t, a)}, sign.ErrBadSignature},
			{"tampered even when untrusted allowed", tamper(t, data), ReadOptions{Keyring: keyring(t, a), AllowUntrusted: true}, sign.ErrBadSignature},
		}
		for _, tt := range tests {
			_, err := Read(bytes.NewReader(tt.data), tt.opts)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("%v %s: err = %v, want %v", alg, tt.name, err, tt.wantErr)
			}
		}
	}
}

// tamper changes one package's version inside the compressed index
// member, recompressing it, so only the signature can notice.
func tamper(t testing.TB, data []byte) []byte {
	_, off, err := readSignatureMember(data)
	if err != nil || off == 0 {
		t.Fatalf("no signature member: %v", err)
	}
	raw, err := gunzipAll(data[off:], 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	evil := bytes.Replace(raw, []byte("V:1.2.13-r0"), []byte("V:1.2.14-r0"), 1)
	if bytes.Equal(evil, raw) {
		t.Fatal("tamper found nothing to change")
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(evil)
	zw.Close()
	return append(append([]byte(nil), data[:off]...), buf.Bytes()...)
}

func TestReadUnsigned(t *testing.T) {
	data := writeIndex(t, WriteOptions{})
	if _, err := Read(bytes.NewReader(data), ReadOptions{}); !errors.Is(err, sign.ErrUnsigned) {
		t.Fatalf("unsigned index: err = %v, want ErrUnsigned", err)
	}
	idx, err := Read(bytes.NewReader(data), ReadOptions{AllowUntrusted: true, Name: "https://x/APKINDEX.tar.gz"})
	if err != nil || len(idx.Packages) != 3 {
		t.Fatalf("unsigned with AllowUntrusted: %v", err)
	}
}

func TestReadCaps(t *testing.T) {
	data := writeIndex(t, WriteOptions{})
	if _, err := Read(bytes.NewReader(data), ReadOptions{AllowUntrusted: true, MaxCompressed: 100, Name: "small"}); err == nil || !strings.Contains(err.Error(), "index small: larger than 100 bytes") {
		t.Errorf("compressed cap: %v", err)
	}
	// A bomb: an APKINDEX entry of 64 MiB of newlines compresses to ~64 KiB.
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "APKINDEX", Mode: 0o644, Size: 64 << 20})
	tw.Write(bytes.Repeat([]byte("\n"), 64<<20))
	tw.Close()
	zw.Close()
	if _, err := Read(bytes.NewReader(bomb.Bytes()), ReadOptions{AllowUntrusted: true, MaxUncompressed: 1 << 20}); err == nil || !strings.Contains(err.Error(), "decompresses to more than") {
		t.Errorf("uncompressed cap: %v", err)
	}
	for _, junk := range [][]byte{nil, []byte("not gzip"), data[:len(data)/2]} {
		if _, err := Read(bytes.NewReader(junk), ReadOptions{AllowUntrusted: true}); err == nil {
			t.Errorf("Read(%d junk bytes) succeeded", len(junk))
		}
	}
}

func TestRealAlpineIndex(t *testing.T) {
	p := sharedTestdata(t, "alpine-3.16/x86_64/APKINDEX.tar.gz")
	keyPath := sharedTestdata(t, "alpine-3.16/alpine-devel@lists.alpinelinux.org-4a6a0840.rsa.pub")
	kr, err := sign.LoadKeyring(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	// The index is signed by 6165ee59, which is not in shared/testdata:
	// a correct verifier must refuse it with the key that is there.
	if _, err := Read(bytes.NewReader(data), ReadOptions{Keyring: kr}); !errors.Is(err, sign.ErrUntrusted) || !strings.Contains(err.Error(), "6165ee59") {
		t.Fatalf("real index with the wrong key: err = %v, want ErrUntrusted naming 6165ee59", err)
	}
	// Verification skipped explicitly from here on.
	idx, err := Read(bytes.NewReader(data), ReadOptions{AllowUntrusted: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Packages) != 4929 || idx.Description != "v3.16.3-13-g4d933a1fa3" {
		t.Fatalf("%d packages, description %q", len(idx.Packages), idx.Description)
	}
	if len(idx.Signatures) != 1 || idx.Signatures[0].Alg != sign.SHA1 {
		t.Fatalf("signatures %+v", idx.Signatures)
	}
	// Spot checks against the raw text of the same index.
	raw, _ := gunzipAll(data[offsetOf(t, data):], 1<<30)
	byName := map[string]*Package{}
	for _, p := range idx.Packages {
		byName[p.Name] = p
	}
	for _, name := range []string{"musl", "busybox", "python3", "alpine-baselayout"} {
		p := byName[name]
		if p == nil {
			t.Fatalf("%s missing", name)
		}
		rec := "\nP:" + p.Name + "\nV:" + p.Version + "\nA:" + p.Arch + "\nS:"
		if !bytes.Contains(raw, []byte(rec)) || !bytes.Contains(raw, []byte("C:"+p.Checksum+rec)) {
			t.Errorf("%s: record %q not found as written", name, rec)
		}
	}
	if len(byName["musl"].Provides) == 0 || !strings.HasPrefix(byName["musl"].Provides[0], "so:libc.musl-x86_64.so.1") {
		t.Errorf("musl provides %v", byName["musl"].Provides)
	}
	// Write it back and read it again: same records.
	var buf bytes.Buffer
	if err := WriteText(&buf, idx.Packages); err != nil {
		t.Fatal(err)
	}
	again, err := ParseTextBytes(buf.Bytes())
	if err != nil || !reflect.DeepEqual(again, idx.Packages) {
		t.Fatalf("re-parse of written Alpine index differs (err %v)", err)
	}
}

func offsetOf(t testing.TB, data []byte) int {
	_, off, err := readSignatureMember(data)
	if err != nil {
		t.Fatal(err)
	}
	return off
}

func FuzzParseText(f *testing.F) {
	f.Add([]byte("P:a\nV:1.0\nD:b c>=1\np:so:x=1\n\nP:b\nV:2\nk:10\n"))
	f.Add([]byte("C:Q1abc=\nP:x\nV:1\nS:1\nI:2\nt:3\nq:1\nZ:zz\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := ParseTextBytes(b)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteText(&buf, pkgs); err != nil {
			t.Fatal(err)
		}
		again, err := ParseTextBytes(buf.Bytes())
		if err != nil {
			t.Fatalf("written text does not parse: %v", err)
		}
		var buf2 bytes.Buffer
		WriteText(&buf2, again)
		if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
			t.Fatalf("not a fixed point:\n%q\n%q", buf.Bytes(), buf2.Bytes())
		}
	})
}

func FuzzRead(f *testing.F) {
	a, _ := signers(f)
	var buf bytes.Buffer
	Write(&buf, samplePackages(), WriteOptions{Signer: a})
	f.Add(buf.Bytes())
	buf.Reset()
	Write(&buf, samplePackages(), WriteOptions{})
	f.Add(buf.Bytes())
	kr := keyring(f, a)
	f.Fuzz(func(t *testing.T, b []byte) {
		Read(bytes.NewReader(b), ReadOptions{Keyring: kr, MaxUncompressed: 16 << 20})
		Read(bytes.NewReader(b), ReadOptions{AllowUntrusted: true, MaxUncompressed: 16 << 20})
	})
}

func BenchmarkReadAlpine316(b *testing.B) {
	data, err := os.ReadFile(sharedTestdata(b, "alpine-3.16/x86_64/APKINDEX.tar.gz"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Read(bytes.NewReader(data), ReadOptions{AllowUntrusted: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchGunzip(b *testing.B, open func(io.Reader) (io.Reader, error)) {
	data, err := os.ReadFile(sharedTestdata(b, "alpine-3.16/x86_64/APKINDEX.tar.gz"))
	if err != nil {
		b.Fatal(err)
	}
	off := offsetOf(b, data)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := open(bytes.NewReader(data[off:]))
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, r)
		b.SetBytes(n)
	}
}

func BenchmarkGunzipStdlib(b *testing.B) {
	benchGunzip(b, func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) })
}

func BenchmarkGunzipKlauspost(b *testing.B) {
	benchGunzip(b, func(r io.Reader) (io.Reader, error) { return kgzip.NewReader(r) })
}

// synthetic50k makes APKINDEX text for 50,000 packages with the shape of
// real records (deps, provides, long descriptions).
func synthetic50k() []byte {
	var buf bytes.Buffer
	for i := 0; i < 50000; i++ {
		fmt.Fprintf(&buf, "C:Q1%027d=\nP:pkg-%05d\nV:%d.%d.%d-r%d\nA:x86_64\nS:%d\nI:%d\n", i, i, i%7, i%13, i%101, i%5, 10000+i, 40000+i)
		fmt.Fprintf(&buf, "T:Synthetic package number %d with a description as long as real ones\nU:https://example.org/pkg-%05d\nL:MIT AND BSD-3-Clause\n", i, i)
		fmt.Fprintf(&buf, "o:origin-%05d\nm:Some Maintainer <maint@example.org>\nt:1667000000\nc:%040d\n", i/3, i)
		fmt.Fprintf(&buf, "D:so:libc.musl-x86_64.so.1 pkg-%05d>=1.0 so:libpkg%05d.so.1 cmd:sh\n", (i+1)%50000, (i+7)%50000)
		fmt.Fprintf(&buf, "p:so:libpkg%05d.so.1=1.0.0 cmd:pkg%05d=1.0-r0 pc:pkg%05d=1.0\n\n", i, i, i)
	}
	return buf.Bytes()
}

func BenchmarkParse50k(b *testing.B) {
	text := synthetic50k()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var peak uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		pkgs, err := ParseTextBytes(text)
		if err != nil || len(pkgs) != 50000 {
			b.Fatal(err, len(pkgs))
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; d > peak {
			peak = d
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "MB-allocated/op")
}
