package imagefs

import (
	"crypto/sha256"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kiln-build/kiln/step"
)

// splitTree spreads dir's files and symlinks over n new layer directories
// (by a hash of the path), each layer holding the parent directories its
// entries need with their mode and owner, as install lays packages out.
func splitTree(t *testing.T, dir string, n int) []string {
	t.Helper()
	layers := make([]string, n)
	for i := range layers {
		layers[i] = t.TempDir()
	}
	var mkParents func(layer, rel string)
	mkParents = func(layer, rel string) {
		parent := filepath.Dir(rel)
		if parent == "." {
			return
		}
		if _, err := os.Lstat(filepath.Join(layer, parent)); err == nil {
			return
		}
		mkParents(layer, parent)
		fi, err := os.Lstat(filepath.Join(dir, parent))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		full := filepath.Join(layer, parent)
		if err := os.Mkdir(full, 0o700); err != nil {
			t.Fatal(err)
		}
		os.Lchown(full, int(st.Uid), int(st.Gid))
		os.Chmod(full, fi.Mode()&fs.ModePerm)
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h := fnv.New32a()
		h.Write([]byte(rel))
		layer := layers[h.Sum32()%uint32(n)]
		if d.IsDir() {
			// Every directory is in some layer, empty ones included.
			mkParents(layer, filepath.Join(rel, "x"))
			return nil
		}
		mkParents(layer, rel)
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, filepath.Join(layer, rel))
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		return os.WriteFile(filepath.Join(layer, rel), data, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return layers
}

// listing describes every entry under dir (not dir itself, which no
// layer holds): type, mode, owner, mtime and content or target.
func listing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		rel, _ := filepath.Rel(dir, p)
		what := ""
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			what = "-> " + target
		case fi.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			what = fmt.Sprintf("%x", sha256.Sum256(data))
		}
		fmt.Fprintf(&b, "%s %v %d:%d %d %s\n", rel, fi.Mode(), st.Uid, st.Gid, fi.ModTime().Unix(), what)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The metadata step reads the package layers each on its own mount; what
// it writes must not depend on how the files are spread over them.
func TestGenerateOverLayers(t *testing.T) {
	merged := lowerTree(t)
	for p, data := range map[string]string{
		"usr/share/app/a":      "a",
		"usr/share/app/b/c":    "c",
		"usr/share/app/b/d/e":  "e",
		"usr/share/app/f":      "f",
		"usr/share/app/g/h":    "h",
		"etc/shells":           "/bin/sh\n",
		"usr/lib/os-release":   "ID=test\n",
		"usr/lib/apk/db/empty": "",
	} {
		full := filepath.Join(merged, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("usr/lib", filepath.Join(merged, "lib"))
	os.Symlink("../usr/lib/os-release", filepath.Join(merged, "etc/os-release"))

	spec := &step.ImageSpec{
		Arch:     "x86_64",
		World:    []string{"busybox"},
		Accounts: step.Accounts{Users: []step.User{{Name: "app", UID: 1000, GID: u32(1000)}}, Groups: []step.Group{{Name: "app", GID: 1000}}},
		Paths: []step.Path{
			{Path: "/usr/share/app", Type: "permissions", Recursive: true, UID: u32(1000), GID: u32(1000), Permissions: 0o750},
			{Path: "/etc/shells-link", Type: "hardlink", Source: "/etc/shells", Permissions: 0o644},
			{Path: "/var/lib/nginx/cache", Type: "directory", UID: u32(101), Permissions: 0o700},
		},
	}
	generate := func(layers []string) string {
		out := t.TempDir()
		err := Generate(Input{Spec: spec, Layers: layers, Out: out, Epoch: time.Unix(1700000000, 0),
			InstalledDB: []byte("P:busybox\n\n"), Packages: []Installed{{Name: "busybox"}}})
		if err != nil {
			t.Fatalf("%d layers: %v", len(layers), err)
		}
		return listing(t, out)
	}
	want := generate([]string{merged})
	for _, n := range []int{2, 3, 7} {
		layers := splitTree(t, merged, n)
		if got := generate(layers); got != want {
			t.Errorf("over %d layers the metadata layer differs from over one:\n%s", n, lineDiff(got, want))
		}
	}
	for _, p := range []string{"usr/share/app/b/d/e", "usr/share/app/g/h", "usr/bin/sh"} {
		if !strings.Contains(want, p+" ") {
			t.Errorf("the metadata layer lacks %s: the test does not reach what it means to", p)
		}
	}
}

func TestStackTopmostWins(t *testing.T) {
	bottom, top := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(bottom, "d"), 0o755)
	os.MkdirAll(filepath.Join(top, "d"), 0o755)
	os.WriteFile(filepath.Join(bottom, "d/x"), []byte("bottom"), 0o644)
	os.WriteFile(filepath.Join(bottom, "d/y"), []byte("y"), 0o644)
	os.WriteFile(filepath.Join(top, "d/x"), []byte("top"), 0o644)
	os.Symlink("x", filepath.Join(top, "d/link"))
	s, err := openStack([]string{bottom, top})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if b, err := s.ReadFile("d/x"); err != nil || string(b) != "top" {
		t.Errorf("d/x = %q, %v; want the top layer's", b, err)
	}
	if b, err := s.ReadFile("d/y"); err != nil || string(b) != "y" {
		t.Errorf("d/y = %q, %v", b, err)
	}
	if _, err := s.ReadFile("d/link"); err == nil {
		t.Error("ReadFile followed a symlink inside one layer")
	}
	ents, err := s.ReadDir("d")
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if err != nil || strings.Join(names, ",") != "link,x,y" {
		t.Errorf("ReadDir(d) = %v, %v; want link,x,y", names, err)
	}
	if _, err := s.Lstat("d/none"); !os.IsNotExist(err) {
		t.Errorf("Lstat(d/none) = %v", err)
	}
}

// lineDiff lists the lines only one of got and want has.
func lineDiff(got, want string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	g, w := in(got), in(want)
	var b strings.Builder
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	return b.String()
}

// More directories than the stack keeps open are still looked up right,
// and Close leaves none open.
func TestStackManyDirectories(t *testing.T) {
	fds := func() int {
		es, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd:", err)
		}
		return len(es)
	}
	bottom, top := t.TempDir(), t.TempDir()
	const dirs = maxOpenLayerDirs + 50
	for d := range dirs {
		rel := fmt.Sprintf("usr/share/d%03d", d)
		os.MkdirAll(filepath.Join(bottom, rel), 0o755)
		os.WriteFile(filepath.Join(bottom, rel, "f"), []byte("bottom"), 0o644)
		if d%2 == 0 {
			os.MkdirAll(filepath.Join(top, rel), 0o755)
			os.WriteFile(filepath.Join(top, rel, "f"), []byte("top"), 0o644)
		}
	}
	before := fds()
	s, err := openStack([]string{bottom, top})
	if err != nil {
		t.Fatal(err)
	}
	for d := range dirs {
		want := "bottom"
		if d%2 == 0 {
			want = "top"
		}
		name := fmt.Sprintf("usr/share/d%03d/f", d)
		if b, err := s.ReadFile(name); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", name, b, err, want)
		}
	}
	s.Close()
	if after := fds(); after != before {
		t.Errorf("%d descriptors open after Close, %d before", after, before)
	}
}
