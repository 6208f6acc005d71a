package install

import (
	"archive/tar"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/kiln-build/kiln/apk/index"
)

// ent is one tar entry of a test package; typ 0 means a regular file.
type ent struct {
	typ      byte
	name     string
	link     string // symlink or hard link target
	body     string
	mode     int64 // 0: 0755 for dirs, 0644 otherwise, 0777 for symlinks
	uid, gid int
	pax      map[string]string
}

func dir(name string) ent           { return ent{typ: tar.TypeDir, name: name} }
func file(name, body string) ent    { return ent{name: name, body: body} }
func symlink(name, to string) ent   { return ent{typ: tar.TypeSymlink, name: name, link: to} }
func hardlink(name, to string) ent  { return ent{typ: tar.TypeLink, name: name, link: to} }
func withMode(e ent, m int64) ent   { e.mode = m; return e }
func owned(e ent, uid, gid int) ent { e.uid, e.gid = uid, gid; return e }

// tarBytes writes entries as a PAX tar, the way abuild lays out a data
// section.
func tarBytes(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Linkname: e.link, Uid: e.uid, Gid: e.gid, Mode: e.mode,
			ModTime: time.Unix(1234567890, 0), PAXRecords: e.pax, Format: tar.FormatPAX}
		switch e.typ {
		case 0:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		default:
			h.Typeflag = e.typ
		}
		if h.Mode == 0 {
			switch h.Typeflag {
			case tar.TypeDir:
				h.Mode = 0o755
			case tar.TypeSymlink:
				h.Mode = 0o777
			default:
				h.Mode = 0o644
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("tar header %q: %v", e.name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tarOf(t testing.TB, ents ...ent) *tar.Reader {
	return tar.NewReader(bytes.NewReader(tarBytes(t, ents...)))
}

// pkgInfo is a minimal index record; opts adjust it.
func pkgInfo(name string, opts ...func(*index.Package)) *index.Package {
	sum := sha1.Sum([]byte(name))
	p := &index.Package{Name: name, Version: "1.0-r0", Arch: "x86_64", Origin: name,
		Checksum: "Q1" + base64.StdEncoding.EncodeToString(sum[:])}
	for _, o := range opts {
		o(p)
	}
	return p
}

func origin(o string) func(*index.Package) { return func(p *index.Package) { p.Origin = o } }
func replacing(r ...string) func(*index.Package) {
	return func(p *index.Package) { p.Replaces = r }
}
func replacesPrio(q int) func(*index.Package) {
	return func(p *index.Package) { p.ReplacesPriority = q }
}
func ver(v string) func(*index.Package) { return func(p *index.Package) { p.Version = v } }

// sandbox is a temporary directory holding the install root and a
// sibling "outside" directory that must never change.
type sandbox struct {
	top, root, outside string
}

func newSandbox(t testing.TB) sandbox {
	t.Helper()
	top := t.TempDir()
	s := sandbox{top: top, root: filepath.Join(top, "root"), outside: filepath.Join(top, "outside")}
	for _, d := range []string{s.root, s.outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.outside, "sentinel"), []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// checkOutside fails when anything outside the root changed: the sandbox
// holds only root/ and outside/, and outside/ only its sentinel.
func (s sandbox) checkOutside(t testing.TB) {
	t.Helper()
	if got := dirNames(t, s.top); !equalStrings(got, []string{"outside", "root"}) {
		t.Errorf("sandbox holds %q, want only outside and root", got)
	}
	if got := dirNames(t, s.outside); !equalStrings(got, []string{"sentinel"}) {
		t.Errorf("outside directory holds %q, want only the sentinel", got)
	}
	if b, err := os.ReadFile(filepath.Join(s.outside, "sentinel")); err != nil || string(b) != "untouched" {
		t.Errorf("sentinel = %q, %v", b, err)
	}
}

func dirNames(t testing.TB, d string) []string {
	t.Helper()
	es, err := os.ReadDir(d)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func newInstaller(t testing.TB, root string, opts Options) *Installer {
	t.Helper()
	in, err := New(root, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

func readFile(t testing.TB, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return string(b)
}

func lstat(t testing.TB, root, rel string) fs.FileInfo {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(root, rel))
	if err != nil {
		t.Fatalf("lstat %s: %v", rel, err)
	}
	return fi
}

// sha1Of is the Z: value of some contents, computed independently of the
// code under test.
func sha1Of(s string) string {
	sum := sha1.Sum([]byte(s))
	return "Q1" + base64.StdEncoding.EncodeToString(sum[:])
}

func readLink(t testing.TB, root, rel string) string {
	t.Helper()
	s, err := os.Readlink(filepath.Join(root, rel))
	if err != nil {
		t.Fatalf("readlink %s: %v", rel, err)
	}
	return s
}
