package pkg

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
)

func TestWriteRejects(t *testing.T) {
	reg := func(name string) Entry { return Entry{Header: hdr(tar.TypeReg, name, 0o644), Data: []byte("x")} }
	link := func(typ byte, name, target string) Entry {
		h := hdr(typ, name, 0o777)
		h.Linkname = target
		return Entry{Header: h}
	}
	info := func(f func(*index.Package)) *index.Package {
		p := &index.Package{Name: "p", Version: "1-r0"}
		if f != nil {
			f(p)
		}
		return p
	}
	tests := []struct {
		name    string
		info    *index.Package
		entries []Entry
		opts    WriteOptions
		wantMsg string // quoted in the error
	}{
		{"nil info", nil, nil, WriteOptions{}, "nil package info"},
		{"no name", info(func(p *index.Package) { p.Name = "" }), nil, WriteOptions{}, "required"},
		{"no version", info(func(p *index.Package) { p.Version = "" }), nil, WriteOptions{}, "required"},
		{"newline in description", info(func(p *index.Package) { p.Description = "a\ndatahash = 00" }), nil, WriteOptions{}, `"a\ndatahash = 00"`},
		{"space in dependency", info(func(p *index.Package) { p.Dependencies = []string{"a b"} }), nil, WriteOptions{}, `"a b"`},
		{"empty provides", info(func(p *index.Package) { p.Provides = []string{""} }), nil, WriteOptions{}, `item ""`},
		{"space in trigger", info(nil), nil, WriteOptions{Triggers: []string{"/a /b"}}, `"/a /b"`},
		{"negative epoch", info(nil), nil, WriteOptions{SourceDateEpoch: -1}, "-1"},
		{"unknown script", info(nil), nil, WriteOptions{Scripts: map[string][]byte{".post-frobnicate": nil}}, `".post-frobnicate"`},
		{"script twice", info(nil), nil, WriteOptions{Scripts: map[string][]byte{".post-install": nil, "post-install": nil}}, `".post-install"`},
		{"absolute name", info(nil), []Entry{reg("/etc/passwd")}, WriteOptions{}, `"/etc/passwd"`},
		{"dot-dot name", info(nil), []Entry{reg("usr/../../etc")}, WriteOptions{}, `"usr/../../etc"`},
		{"parent name", info(nil), []Entry{reg("../etc")}, WriteOptions{}, `"../etc"`},
		{"empty name", info(nil), []Entry{reg("")}, WriteOptions{}, `""`},
		{"dot name", info(nil), []Entry{reg(".")}, WriteOptions{}, `"."`},
		{"duplicate", info(nil), []Entry{reg("a"), reg("a/")}, WriteOptions{}, `"a"`},
		{"device", info(nil), []Entry{{Header: hdr(tar.TypeChar, "dev/null", 0o666)}}, WriteOptions{}, `"dev/null"`},
		{"dir with data", info(nil), []Entry{{Header: hdr(tar.TypeDir, "d", 0o755), Data: []byte("x")}}, WriteOptions{}, `"d"`},
		{"size mismatch", info(nil), []Entry{{Header: tar.Header{Typeflag: tar.TypeReg, Name: "f", Size: 9}, Data: []byte("x")}}, WriteOptions{}, `"f"`},
		{"negative uid", info(nil), []Entry{{Header: tar.Header{Typeflag: tar.TypeReg, Name: "f", Uid: -1}}}, WriteOptions{}, `"f"`},
		{"symlink without target", info(nil), []Entry{link(tar.TypeSymlink, "l", "")}, WriteOptions{}, `"l"`},
		{"hard link to nothing", info(nil), []Entry{link(tar.TypeLink, "l", "missing")}, WriteOptions{}, `"missing"`},
		{"hard link to dir", info(nil), []Entry{{Header: hdr(tar.TypeDir, "d", 0o755)}, link(tar.TypeLink, "l", "d")}, WriteOptions{}, `"d"`},
		{"hard link cycle", info(nil), []Entry{link(tar.TypeLink, "a", "b"), link(tar.TypeLink, "b", "a")}, WriteOptions{}, "cycle"},
		{"hard link outside", info(nil), []Entry{link(tar.TypeLink, "a", "../x")}, WriteOptions{}, `"../x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := Write(&buf, tt.info, tt.entries, tt.opts)
			if err == nil {
				t.Fatal("Write succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %q does not mention %s", err, tt.wantMsg)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written before failing", buf.Len())
			}
		})
	}
}

// TestWriteHardlinkChain checks a link to a link resolves to the file and
// that the contents are counted once in the installed size.
func TestWriteHardlinkChain(t *testing.T) {
	l1 := hdr(tar.TypeLink, "b", 0)
	l1.Linkname = "c"
	l2 := hdr(tar.TypeLink, "a", 0)
	l2.Linkname = "b"
	entries := []Entry{{Header: hdr(tar.TypeReg, "c", 0o600), Data: []byte("contents")}, {Header: l1}, {Header: l2}}
	var buf bytes.Buffer
	rec, err := Write(&buf, &index.Package{Name: "p", Version: "1-r0"}, entries, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rec.InstalledSize != uint64(len("contents")) {
		t.Errorf("InstalledSize = %d, want %d", rec.InstalledSize, len("contents"))
	}
	r, err := Open(&buf, ReadOptions{AllowUntrusted: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := drain(r)
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, got, []wantEntry{
		{name: "a", typ: tar.TypeReg, mode: 0o600, data: "contents"},
		{name: "b", typ: tar.TypeLink, mode: 0o600, link: "a"},
		{name: "c", typ: tar.TypeLink, mode: 0o600, link: "a"},
	}, got[0].hdr.ModTime)
}

// TestWriteKeepsInstalledSize checks a caller's InstalledSize wins over
// the computed one, and a failing writer's error is returned.
func TestWriteKeepsInstalledSize(t *testing.T) {
	rec, err := Write(io.Discard, &index.Package{Name: "p", Version: "1-r0", InstalledSize: 4096},
		[]Entry{{Header: hdr(tar.TypeReg, "f", 0o644), Data: []byte("x")}}, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rec.InstalledSize != 4096 {
		t.Errorf("InstalledSize = %d, want the caller's 4096", rec.InstalledSize)
	}
	if _, err := Write(failWriter{}, &index.Package{Name: "p", Version: "1-r0"}, nil, WriteOptions{}); err == nil {
		t.Error("Write to a failing writer succeeded")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

func TestComparePaths(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"a", "a", 0},
		{"a", "a/b", -1},
		{"a/b", "a-b", -1}, // a directory's contents come right after it
		{"a-b", "a/b", 1},
		{"a/b/c", "a/bc", -1},
		{"b", "a/z", 1},
	}
	for _, tt := range tests {
		if got := comparePaths(tt.a, tt.b); got != tt.want {
			t.Errorf("comparePaths(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
