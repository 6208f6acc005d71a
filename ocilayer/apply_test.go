//go:build linux

package ocilayer

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

// ent is one tar entry of a test layer.
type ent struct {
	name  string
	typ   byte
	mode  int64
	data  string
	link  string
	uid   int
	mtime int64
	xattr map[string]string
	major int64
}

func reg(name, data string) ent {
	return ent{name: name, typ: tar.TypeReg, mode: 0o644, data: data, mtime: 1000}
}
func dir(name string) ent { return ent{name: name, typ: tar.TypeDir, mode: 0o755, mtime: 2000} }
func sym(name, target string) ent {
	return ent{name: name, typ: tar.TypeSymlink, mode: 0o777, link: target, mtime: 3000}
}
func whiteout(name string) ent { return reg(name, "") }

func tarOf(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Uid: e.uid, Gid: e.uid,
			ModTime: time.Unix(e.mtime, 0), Size: int64(len(e.data)), Devmajor: e.major, Format: tar.FormatPAX}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		for k, v := range e.xattr {
			if h.PAXRecords == nil {
				h.PAXRecords = map[string]string{}
			}
			h.PAXRecords[paxXattr+k] = v
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte(e.data))
		}
	}
	tw.Close()
	return b.Bytes()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// layer compresses a tar and returns the blob and its descriptor.
func layer(t *testing.T, c Compression, tarData []byte) ([]byte, Descriptor) {
	t.Helper()
	d := Descriptor{DiffID: sha(tarData)}
	var blob []byte
	switch c {
	case Uncompressed:
		blob, d.MediaType = tarData, "application/vnd.oci.image.layer.v1.tar"
	case Gzip:
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(tarData)
		zw.Close()
		blob, d.MediaType = b.Bytes(), "application/vnd.docker.image.rootfs.diff.tar.gzip"
	case Zstd:
		zw, _ := zstd.NewWriter(nil)
		blob, d.MediaType = zw.EncodeAll(tarData, nil), "application/vnd.oci.image.layer.v1.tar+zstd"
	}
	d.Digest = sha(blob)
	return blob, d
}

// apply writes the blob to a file and applies it as the build step does.
func apply(t *testing.T, root string, c Compression, ents ...ent) error {
	t.Helper()
	blob, d := layer(t, c, tarOf(t, ents...))
	f := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(f, blob, 0o644); err != nil {
		t.Fatal(err)
	}
	return ApplyFile(root, f, d)
}

func mustApply(t *testing.T, root string, ents ...ent) {
	t.Helper()
	if err := apply(t, root, Gzip, ents...); err != nil {
		t.Fatal(err)
	}
}

// tree lists root as "path type mode uid mtime [target|data]" lines.
func tree(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		fi, _ := os.Lstat(p)
		st := fi.Sys().(*syscall.Stat_t)
		line := rel + " " + fi.Mode().String() + " " + itoa(int64(st.Uid)) + " " + itoa(fi.ModTime().Unix())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case fi.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			line += " " + string(data)
		}
		lines = append(lines, line)
		return nil
	})
	return strings.Join(lines, "\n")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("applying owners and device nodes needs root (the build step runs as root)")
	}
}

func TestApplyEntries(t *testing.T) {
	requireRoot(t)
	for _, c := range []Compression{Uncompressed, Gzip, Zstd} {
		root := t.TempDir()
		suid := reg("usr/bin/tool", "#!/bin/sh\n")
		suid.mode, suid.uid = 0o4755, 1000
		cons := ent{name: "dev/console", typ: tar.TypeChar, mode: 0o620, major: 5, mtime: 5}
		fifo := ent{name: "run/fifo", typ: tar.TypeFifo, mode: 0o600, mtime: 6}
		withX := reg("etc/x", "x")
		withX.xattr = map[string]string{"user.kiln": "yes", "security.selinux": "host_label"}
		err := apply(t, root, c,
			dir("usr/"), dir("usr/bin/"), suid,
			ent{name: "usr/bin/tool2", typ: tar.TypeLink, link: "usr/bin/tool"},
			sym("bin", "usr/bin"), dir("dev"), cons, fifo, withX)
		if err != nil {
			t.Fatalf("compression %d: %v", c, err)
		}
		want := strings.Join([]string{
			"bin Lrwxrwxrwx 0 3000 -> usr/bin",
			"dev drwxr-xr-x 0 2000",
			"dev/console Dcrw--w---- 0 5",
			"etc drwxr-xr-x 0 0",
			"etc/x -rw-r--r-- 0 1000 x",
			"run drwxr-xr-x 0 0",
			"run/fifo prw------- 0 6",
			"usr drwxr-xr-x 0 2000",
			"usr/bin drwxr-xr-x 0 2000",
			"usr/bin/tool urwxr-xr-x 1000 1000 #!/bin/sh\n",
			"usr/bin/tool2 urwxr-xr-x 1000 1000 #!/bin/sh\n",
		}, "\n")
		if got := tree(t, root); got != want {
			t.Errorf("compression %d: tree\n%s\nwant\n%s", c, got, want)
		}
		var a, b unix.Stat_t
		unix.Lstat(filepath.Join(root, "usr/bin/tool"), &a)
		unix.Lstat(filepath.Join(root, "usr/bin/tool2"), &b)
		if a.Ino != b.Ino {
			t.Error("usr/bin/tool2 is not a hard link")
		}
		buf := make([]byte, 16)
		n, err := unix.Lgetxattr(filepath.Join(root, "etc/x"), "user.kiln", buf)
		if err != nil || string(buf[:n]) != "yes" {
			t.Errorf("user.kiln xattr: %q %v", buf[:n], err)
		}
		if _, err := unix.Lgetxattr(filepath.Join(root, "etc/x"), "security.selinux", buf); err == nil && c == Gzip {
			t.Logf("security.selinux present (set by the file system, not the layer)")
		}
	}
}

// lower is the state of the layers below: what a whiteout removes.
func lower(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	mustApply(t, root,
		dir("etc/"), reg("etc/keep", "k"), reg("etc/gone", "g"),
		dir("var/"), dir("var/cache/"), reg("var/cache/a", "a"), dir("var/cache/sub/"), reg("var/cache/sub/b", "b"),
		dir("opt/"), dir("opt/app/"), reg("opt/app/old", "o"), sym("opt/app/link", "old"),
		sym("lib", "usr/lib"), dir("usr/"), dir("usr/lib/"), reg("usr/lib/libc.so", "libc"))
	return root
}

func TestApplyWhiteouts(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name string
		ents []ent
		want []string // lines of the tree that change or must hold
		gone []string
	}{
		{"a file", []ent{whiteout("etc/.wh.gone")}, []string{"etc/keep -rw-r--r-- 0 1000 k"}, []string{"etc/gone"}},
		{"a directory and everything in it", []ent{whiteout("var/.wh.cache")}, []string{"var drwxr-xr-x 0 2000"}, []string{"var/cache", "var/cache/sub/b"}},
		{"something missing", []ent{whiteout("etc/.wh.never"), whiteout("nowhere/.wh.x")}, []string{"etc/gone -rw-r--r-- 0 1000 g"}, []string{"nowhere"}},
		{"through a lower symlink", []ent{whiteout("lib/.wh.libc.so")}, []string{"lib Lrwxrwxrwx 0 3000 -> usr/lib"}, []string{"usr/lib/libc.so"}},
		{"not what the same layer writes", []ent{reg("etc/new", "n"), whiteout("etc/.wh.new")}, []string{"etc/new -rw-r--r-- 0 1000 n"}, nil},
		{"an opaque directory", []ent{dir("opt/app/"), reg("opt/app/before", "1"), whiteout("opt/app/.wh..wh..opq"), reg("opt/app/after", "2")},
			[]string{"opt/app/before -rw-r--r-- 0 1000 1", "opt/app/after -rw-r--r-- 0 1000 2", "opt/app drwxr-xr-x 0 2000"},
			[]string{"opt/app/old", "opt/app/link"}},
		{"a file over a directory", []ent{reg("var/cache", "now a file")}, []string{"var/cache -rw-r--r-- 0 1000 now a file"}, []string{"var/cache/a"}},
		{"a directory over a symlink", []ent{dir("lib/")}, []string{"lib drwxr-xr-x 0 2000", "usr/lib/libc.so -rw-r--r-- 0 1000 libc"}, nil},
		{"a symlink over a file", []ent{sym("etc/keep", "gone")}, []string{"etc/keep Lrwxrwxrwx 0 3000 -> gone"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := lower(t)
			mustApply(t, root, tt.ents...)
			got := tree(t, root)
			for _, w := range tt.want {
				if !strings.Contains("\n"+got+"\n", "\n"+w+"\n") {
					t.Errorf("tree lacks %q:\n%s", w, got)
				}
			}
			for _, g := range tt.gone {
				if _, err := os.Lstat(filepath.Join(root, g)); err == nil {
					t.Errorf("%s is still there", g)
				}
			}
		})
	}
}

// A layer changing entries of a directory it does not list leaves that
// directory's times alone, so the step's diff holds only the layer's
// entries; a directory it lists gets the header's time after its entries
// are written.
func TestApplyKeepsTimesOfUnlistedDirectories(t *testing.T) {
	requireRoot(t)
	root := lower(t)
	mustApply(t, root, reg("etc/added", "a"), whiteout("var/cache/.wh.a"), dir("opt/"), reg("opt/new", "n"))
	got := tree(t, root)
	for _, w := range []string{"etc drwxr-xr-x 0 2000", "var/cache drwxr-xr-x 0 2000", "opt drwxr-xr-x 0 2000"} {
		if !strings.Contains(got, w) {
			t.Errorf("tree lacks %q:\n%s", w, got)
		}
	}
	// A directory listed with another time takes it, whatever was written in it later.
	later := dir("etc/")
	later.mtime = 7777
	mustApply(t, root, later, reg("etc/more", "m"))
	if got := tree(t, root); !strings.Contains(got, "etc drwxr-xr-x 0 7777") {
		t.Errorf("etc's time:\n%s", got)
	}
}

func TestApplyStaysInsideRoot(t *testing.T) {
	requireRoot(t)
	outside := t.TempDir()
	tests := []struct {
		name    string
		ents    []ent
		wantErr string
		inside  string // where the write lands instead, if it is allowed
	}{
		{"dot-dot name", []ent{reg("../escape", "x")}, "path leaves the layer's root", ""},
		{"dot-dot inside a name", []ent{reg("a/../../escape", "x")}, "path leaves the layer's root", ""},
		{"absolute name", []ent{reg("/etc/escape", "x")}, "absolute path", ""},
		{"hard link out", []ent{{name: "h", typ: tar.TypeLink, link: "../../etc/passwd"}}, "path leaves the layer's root", ""},
		{"absolute symlink as a parent", []ent{sym("evil", outside), reg("evil/file", "x")}, "", strings.TrimPrefix(outside, "/") + "/file"},
		{"relative symlink climbing out", []ent{sym("evil", "../../../../../.."), reg("evil/file", "x")}, "", "file"},
		{"symlink loop", []ent{sym("a", "b"), sym("b", "a"), reg("a/file", "x")}, "too many symlinks", ""},
		{"whiteout through a symlink out", []ent{sym("evil", outside), whiteout("evil/.wh.victim")}, "", ""},
		{"unknown whiteout", []ent{whiteout("x/.wh..wh.plnk")}, "unknown whiteout", ""},
		{"whiteout as a directory", []ent{reg("x/.wh.y/z", "x")}, "a whiteout name as a directory", ""},
		{"overlay's own xattrs", []ent{{name: "f", typ: tar.TypeReg, mode: 0o644, xattr: map[string]string{"trusted.overlay.opaque": "y"}}}, "not applied by kiln", ""},
	}
	os.WriteFile(filepath.Join(outside, "victim"), []byte("v"), 0o644)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			err := apply(t, root, Gzip, tt.ents...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if tt.inside != "" {
				if b, err := os.ReadFile(filepath.Join(root, tt.inside)); err != nil || string(b) != "x" {
					t.Errorf("%s inside the root: %q %v", tt.inside, b, err)
				}
			}
			entries, _ := os.ReadDir(outside)
			if len(entries) != 1 || entries[0].Name() != "victim" {
				t.Errorf("the directory outside the root changed: %v", entries)
			}
		})
	}
}

func TestApplyChecksDigests(t *testing.T) {
	tarData := tarOf(t, reg("a", "a"))
	blob, d := layer(t, Gzip, tarData)
	tests := []struct {
		name    string
		blob    []byte
		d       Descriptor
		wantErr string
	}{
		{"blob digest", append(append([]byte{}, blob...), 0), d, "blob has digest"},
		{"diff_id", blob, Descriptor{MediaType: d.MediaType, Digest: d.Digest, DiffID: sha([]byte("other"))}, "the image config's diff_id is"},
		{"not a digest", blob, Descriptor{MediaType: d.MediaType, Digest: "md5:abc", DiffID: d.DiffID}, "is not a sha256 digest"},
		{"media type", blob, Descriptor{MediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Digest: d.Digest, DiffID: d.DiffID}, "is not a tar"},
		{"compression that is not the media type's", tarData, Descriptor{MediaType: d.MediaType, Digest: sha(tarData), DiffID: d.DiffID}, "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "blob")
			os.WriteFile(f, tt.blob, 0o644)
			root := t.TempDir()
			err := ApplyFile(root, f, tt.d)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	// The blob is checked before anything reads it: nothing was applied.
	f := filepath.Join(t.TempDir(), "blob")
	os.WriteFile(f, append(append([]byte{}, blob...), 0), 0o644)
	root := t.TempDir()
	ApplyFile(root, f, d)
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("a blob that failed its digest was applied: %v", entries)
	}
}
