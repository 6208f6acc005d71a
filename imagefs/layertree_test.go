package imagefs

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/kiln-build/kiln/apk/install"
)

// lookupByLstat is what the view answered before it read each layer's
// tree: an lstat of p through each layer's root, topmost first.
func lookupByLstat(t *testing.T, roots []*os.Root, p string) (install.LowerEntry, bool, bool) {
	t.Helper()
	for i := len(roots) - 1; i >= 0; i-- {
		fi, err := roots[i].Lstat(p)
		if err != nil {
			continue
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := roots[i].Readlink(p)
			if err != nil {
				t.Fatal(err)
			}
			return install.LowerEntry{Symlink: target}, true, false
		case fi.IsDir():
			st := fi.Sys().(*syscall.Stat_t)
			return install.LowerEntry{Dir: true, Mode: st.Mode & 0o7777, UID: int(st.Uid), GID: int(st.Gid)}, true, false
		default:
			return install.LowerEntry{}, false, fi.Mode().IsRegular()
		}
	}
	return install.LowerEntry{}, false, false
}

// TestLayerTreeAnswersAsLstat checks the view's lookups from each layer's
// tree against lstat through the layers' roots, on paths that are
// directories, files, symlinks (relative, absolute, to files), paths
// through a symlink inside a layer, through a file, and missing ones.
func TestLayerTreeAnswersAsLstat(t *testing.T) {
	dir := t.TempDir()
	mk := func(layer string, dirs []string, files []string, links map[string]string) string {
		root := filepath.Join(dir, layer)
		for _, d := range append([]string{""}, dirs...) {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(root, f), []byte(f), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for p, target := range links {
			if err := os.Symlink(target, filepath.Join(root, p)); err != nil {
				t.Fatal(err)
			}
		}
		return root
	}
	bottom := mk("0", []string{"usr/lib/x", "usr/bin", "etc/ssl", "opt/tool-1/share"}, []string{"usr/lib/x/libx.so.1", "etc/ssl/cert.pem"},
		map[string]string{"lib": "usr/lib", "bin": "/usr/bin", "usr/lib/x/libx.so": "libx.so.1", "opt/current": "tool-1"})
	if err := os.Chmod(filepath.Join(bottom, "etc/ssl"), 0o700); err != nil {
		t.Fatal(err)
	}
	top := mk("1", []string{"usr/lib/y", "etc"}, []string{"etc/ssl2", "usr/lib/y/f"},
		map[string]string{"etc/certs": "ssl", "usr/lib/x2": "x"})
	if err := os.Chmod(filepath.Join(top, "usr/lib/y"), 0o2750); err != nil {
		t.Fatal(err)
	}
	v, err := newLayerView("")
	if err != nil {
		t.Fatal(err)
	}
	defer v.close()
	for _, root := range []string{bottom, top} {
		if err := v.push(root); err != nil {
			t.Fatal(err)
		}
	}
	paths := []string{
		"usr", "usr/lib", "usr/lib/x", "usr/lib/y", "usr/bin", "etc", "etc/ssl", "opt/current", "opt/tool-1/share",
		"usr/lib/x/libx.so.1", "usr/lib/x/libx.so", "etc/ssl/cert.pem", "etc/ssl2", "etc/certs", "usr/lib/x2",
		"lib", "bin", "lib/x", "lib/x/libx.so.1", "bin/sh", "opt/current/share", "usr/lib/x2/libx.so",
		"etc/ssl2/x", "missing", "usr/missing", "lib/missing", "usr/lib/y/f/g",
	}
	for _, p := range paths {
		wantE, wantOK, _ := lookupByLstat(t, v.roots, p)
		gotE, gotOK := v.Lookup(p)
		if gotE != wantE || gotOK != wantOK {
			t.Errorf("Lookup(%q) = %+v %v, lstat through the roots says %+v %v", p, gotE, gotOK, wantE, wantOK)
		}
	}
	// stat also says when a path is a regular file of this batch.
	for p, want := range map[string]bool{"etc/ssl2": true, "lib/x/libx.so.1": true, "usr/lib/x/libx.so": false, "etc": false} {
		if _, _, isFile := v.stat(p); isFile != want {
			t.Errorf("stat(%q) file = %v, want %v", p, isFile, want)
		}
	}
	// The links record is every symlink of the batch but those that end
	// at a file.
	links, err := v.collectLinks()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range links {
		got[l.Path] = l.Target
	}
	want := map[string]string{"lib": "usr/lib", "bin": "/usr/bin", "opt/current": "tool-1", "etc/certs": "ssl", "usr/lib/x2": "x"}
	if len(got) != len(want) {
		t.Errorf("links %v, want %v", got, want)
	}
	for p, target := range want {
		if got[p] != target {
			t.Errorf("link %s -> %q, want %q", p, got[p], target)
		}
	}
}
