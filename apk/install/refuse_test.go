package install

import (
	"archive/tar"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// OCI whiteout names in a package would delete other packages' files once
// the package's layer is stacked on theirs.
func TestRefusesWhiteoutNames(t *testing.T) {
	tests := []struct {
		name  string
		ents  []ent
		entry string // the entry the error must name
	}{
		{"file whiteout", []ent{dir("etc/"), file("etc/.wh.passwd", "")}, "etc/.wh.passwd"},
		{"opaque directory marker", []ent{dir("usr/"), dir("usr/lib/"), file("usr/lib/.wh..wh..opq", "")}, "usr/lib/.wh..wh..opq"},
		{"hard link plumbing name", []ent{dir("usr/"), file("usr/.wh..wh.plnk", "")}, "usr/.wh..wh.plnk"},
		{"whiteout directory", []ent{dir("usr/"), dir("usr/.wh.bin/")}, "usr/.wh.bin"},
		{"whiteout symlink", []ent{dir("usr/"), symlink("usr/.wh.lib", "/nowhere")}, "usr/.wh.lib"},
		{"whiteout hard link", []ent{dir("usr/"), file("usr/f", "x"), hardlink("usr/.wh.f", "usr/f")}, "usr/.wh.f"},
		{"whiteout as a parent", []ent{dir("usr/"), file("usr/.wh.x/f", "x")}, "usr/.wh.x/f"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			in := newInstaller(t, s.root, Options{})
			err := in.Install(pkgInfo("evil"), tarOf(t, tc.ents...), Control{})
			if !errors.Is(err, ErrWhiteout) {
				t.Fatalf("Install = %v, want ErrWhiteout", err)
			}
			for _, want := range []string{"evil-1.0-r0", `"` + tc.entry + `"`} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
			if _, err := os.Lstat(filepath.Join(s.root, tc.entry)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s was created (lstat: %v)", tc.entry, err)
			}
			s.checkOutside(t)
		})
	}
}

// Names that merely resemble the whiteout prefix are ordinary files.
func TestAllowsNamesNearWhiteouts(t *testing.T) {
	names := []string{"etc/.wh", "etc/a.wh.b", "etc/.whx", "etc/wh.x", "etc/..wh.x"}
	ents := []ent{dir("etc/")}
	for _, n := range names {
		ents = append(ents, file(n, n))
	}
	s := newSandbox(t)
	in := newInstaller(t, s.root, Options{})
	if err := in.Install(pkgInfo("a"), tarOf(t, ents...), Control{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if got := readFile(t, s.root, n); got != n {
			t.Errorf("%s = %q", n, got)
		}
	}
}

func TestRefusesDevicesAndFifos(t *testing.T) {
	tests := []struct {
		name string
		e    ent
		kind string
	}{
		{"character device", ent{typ: tar.TypeChar, name: "dev/null"}, "character device"},
		{"block device", ent{typ: tar.TypeBlock, name: "dev/sda"}, "block device"},
		{"FIFO", ent{typ: tar.TypeFifo, name: "dev/initctl"}, "FIFO"},
		{"world-writable device", ent{typ: tar.TypeChar, name: "dev/mem", mode: 0o666}, "character device"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			in := newInstaller(t, s.root, Options{})
			err := in.Install(pkgInfo("evil"), tarOf(t, dir("dev/"), tc.e), Control{})
			if !errors.Is(err, ErrSpecialFile) {
				t.Fatalf("Install = %v, want ErrSpecialFile", err)
			}
			for _, want := range []string{"evil-1.0-r0", `"` + tc.e.name + `"`, tc.kind} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
			if _, err := os.Lstat(filepath.Join(s.root, tc.e.name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s was created (lstat: %v)", tc.e.name, err)
			}
		})
	}
}

// Attributes of the trusted namespace steer the layer's file system
// (trusted.overlay.opaque hides the layers below) and are refused on every
// kind of entry, before anything is written.
func TestRefusesTrustedXattrs(t *testing.T) {
	trusted := func(e ent, name string) ent {
		e.pax = map[string]string{"SCHILY.xattr." + name: "y"}
		return e
	}
	tests := []struct {
		name string
		e    ent
		attr string
	}{
		{"opaque directory", trusted(dir("etc/"), "trusted.overlay.opaque"), "trusted.overlay.opaque"},
		{"file", trusted(file("f", "x"), "trusted.x"), "trusted.x"},
		{"symlink", trusted(symlink("l", "f"), "trusted.overlay.redirect"), "trusted.overlay.redirect"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			in := newInstaller(t, s.root, Options{})
			err := in.Install(pkgInfo("evil"), tarOf(t, tc.e), Control{})
			if !errors.Is(err, ErrTrustedXattr) {
				t.Fatalf("Install = %v, want ErrTrustedXattr", err)
			}
			for _, want := range []string{"evil-1.0-r0", `"` + strings.TrimSuffix(tc.e.name, "/") + `"`, `"` + tc.attr + `"`} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
			if _, err := os.Lstat(filepath.Join(s.root, tc.e.name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s was created (lstat: %v)", tc.e.name, err)
			}
		})
	}
}
