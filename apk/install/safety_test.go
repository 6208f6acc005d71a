package install

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRejectsUnsafeNames(t *testing.T) {
	tests := []struct {
		name string
		ents []ent
	}{
		{"dotdot", []ent{file("../x", "evil")}},
		{"dotdot dir", []ent{dir("../outside/")}},
		{"absolute", []ent{file("/etc/x", "evil")}},
		{"absolute into outside", []ent{file("/OUTSIDE/evil", "evil")}},
		{"nested dotdot", []ent{dir("a/"), file("a/../../x", "evil")}},
		{"dotdot that stays inside", []ent{dir("a/"), file("a/../x", "evil")}},
		{"control character", []ent{file("a\x01b", "evil")}},
		{"symlink named with dotdot", []ent{symlink("../link", "/")}},
		{"hard link named with dotdot", []ent{file("f", "x"), hardlink("../f2", "f")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			for i := range tc.ents {
				tc.ents[i].name = strings.ReplaceAll(tc.ents[i].name, "/OUTSIDE", s.outside)
			}
			in := newInstaller(t, s.root, Options{})
			err := in.Install(pkgInfo("evil"), tarOf(t, tc.ents...), Control{})
			if !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("Install = %v, want ErrUnsafePath", err)
			}
			s.checkOutside(t)
		})
	}
}

func TestSymlinkEscape(t *testing.T) {
	// An absolute link target is read inside the root, where the outside
	// directory does not exist: such writes fail as missing, not escaping.
	missing, unsafe := fs.ErrNotExist, ErrUnsafePath
	tests := []struct {
		name string
		ents []ent // "OUT" in link targets is replaced by the outside directory
		want error
	}{
		{"absolute link to outside dir", []ent{symlink("lib", "OUT"), file("lib/evil", "x")}, missing},
		{"absolute link, dir entry through it", []ent{symlink("lib", "OUT"), dir("lib/sub/")}, missing},
		{"relative link above root", []ent{symlink("lib", "../../.."), file("lib/evil", "x")}, unsafe},
		{"relative link to sibling", []ent{symlink("lib", "../outside"), file("lib/evil", "x")}, unsafe},
		{"nested relative link", []ent{dir("usr/"), symlink("usr/lib", "../../outside"), file("usr/lib/evil", "x")}, unsafe},
		{"chain of links", []ent{symlink("a", "b"), symlink("b", "../outside"), file("a/evil", "x")}, unsafe},
		{"link to absolute dotdot", []ent{symlink("a", "/../outside"), file("a/evil", "x")}, unsafe},
		{"symlink loop", []ent{symlink("a", "b"), symlink("b", "a"), file("a/evil", "x")}, unsafe},
		{"link to a file", []ent{file("f", "x"), symlink("a", "f"), file("a/evil", "x")}, unsafe},
		{"hard link through escaping link", []ent{symlink("lib", "OUT"), hardlink("stolen", "lib/sentinel")}, missing},
		{"hard link to absolute path", []ent{hardlink("stolen", "OUT/sentinel")}, unsafe},
		{"hard link with dotdot", []ent{hardlink("stolen", "../outside/sentinel")}, unsafe},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			for i := range tc.ents {
				tc.ents[i].link = strings.ReplaceAll(tc.ents[i].link, "OUT", s.outside)
			}
			in := newInstaller(t, s.root, Options{})
			err := in.Install(pkgInfo("evil"), tarOf(t, tc.ents...), Control{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Install = %v, want %v", err, tc.want)
			}
			if last := strings.TrimSuffix(tc.ents[len(tc.ents)-1].name, "/"); !strings.Contains(err.Error(), last) {
				t.Errorf("error %q does not name entry %q", err, last)
			}
			s.checkOutside(t)
		})
	}
}

// A symlink's own target is data: it may point anywhere, and a later file
// at the same path replaces the link instead of writing through it.
func TestFileReplacesSymlinkWithoutFollowing(t *testing.T) {
	s := newSandbox(t)
	in := newInstaller(t, s.root, Options{})
	ents := []ent{
		symlink("passwd", filepath.Join(s.outside, "created")),
		symlink("sentinel", filepath.Join(s.outside, "sentinel")),
		file("passwd", "root:x:0:0"),
		file("sentinel", "replaced"),
	}
	if err := in.Install(pkgInfo("a"), tarOf(t, ents...), Control{}); err != nil {
		t.Fatal(err)
	}
	s.checkOutside(t)
	for _, n := range []string{"passwd", "sentinel"} {
		if fi := lstat(t, s.root, n); !fi.Mode().IsRegular() {
			t.Errorf("%s is %v, want a regular file", n, fi.Mode())
		}
	}
	if got := readFile(t, s.root, "sentinel"); got != "replaced" {
		t.Errorf("sentinel in root = %q", got)
	}
}

// Links that stay inside the root are followed: absolute targets are
// read relative to the root, as they will be in the image.
func TestSymlinkedParentsInsideRoot(t *testing.T) {
	tests := []struct {
		name string
		ents []ent
		want string // where the file must land
	}{
		{"relative", []ent{dir("usr/"), dir("usr/lib/"), symlink("lib", "usr/lib"), file("lib/libc.so", "elf")}, "usr/lib/libc.so"},
		{"absolute", []ent{dir("usr/"), dir("usr/lib/"), symlink("lib", "/usr/lib"), file("lib/libc.so", "elf")}, "usr/lib/libc.so"},
		{"dotdot inside", []ent{dir("usr/"), dir("usr/lib/"), dir("var/"), symlink("var/lib", "../usr/lib"), file("var/lib/db", "x")}, "usr/lib/db"},
		{"dir entry over link", []ent{dir("usr/"), dir("usr/bin/"), symlink("bin", "usr/bin"), dir("bin/"), file("bin/sh", "x")}, "usr/bin/sh"},
		{"absolute var/run", []ent{dir("run/"), dir("var/"), symlink("var/run", "/run"), file("var/run/pid", "1")}, "run/pid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			in := newInstaller(t, s.root, Options{})
			if err := in.Install(pkgInfo("a"), tarOf(t, tc.ents...), Control{}); err != nil {
				t.Fatal(err)
			}
			if fi := lstat(t, s.root, tc.want); !fi.Mode().IsRegular() {
				t.Errorf("%s is %v", tc.want, fi.Mode())
			}
			s.checkOutside(t)
		})
	}
}

func TestHardlinks(t *testing.T) {
	tests := []struct {
		name    string
		ents    []ent
		wantErr bool
	}{
		{"to a file of the package", []ent{dir("bin/"), file("bin/a", "exe"), hardlink("bin/b", "bin/a")}, false},
		{"through an inside symlink", []ent{dir("usr/"), file("usr/a", "exe"), symlink("u", "usr"), hardlink("b", "u/a")}, false},
		{"to a missing file", []ent{hardlink("b", "nothere")}, true},
		{"to a directory", []ent{dir("d/"), hardlink("b", "d")}, true},
		{"to a symlink", []ent{symlink("s", "x"), hardlink("b", "s")}, true},
		{"to the root", []ent{hardlink("b", "./")}, true},
		// A symlink drops the resolved directories, so resolving the
		// target's directory walks its 20 components again, more than
		// the directories the installer keeps open: the link's own
		// directory must still be where the link goes.
		{"to a file deeper than the open directories", deepLink(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			in := newInstaller(t, s.root, Options{})
			err := in.Install(pkgInfo("a"), tarOf(t, tc.ents...), Control{})
			if tc.wantErr {
				if err == nil {
					t.Fatal("Install succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			last := tc.ents[len(tc.ents)-1]
			src := lstat(t, s.root, strings.Replace(last.link, "u/", "usr/", 1))
			dst := lstat(t, s.root, last.name)
			if !os.SameFile(src, dst) {
				t.Errorf("%s and %s are different files", last.link, last.name)
			}
			var sums []string
			for _, f := range in.Files("a") {
				sums = append(sums, f.Path+"="+f.Checksum)
			}
			if want := last.name + "=" + sha1Of("exe"); !strings.Contains(strings.Join(sums, " "), want) {
				t.Errorf("files %q lack %s", sums, want)
			}
			s.checkOutside(t)
		})
	}
}

// deepLink ends in a hard link in h/ to a file 20 directories deep,
// after a symlink.
func deepLink() []ent {
	var ents []ent
	p := ""
	for i := range 20 {
		p += fmt.Sprintf("d%d/", i)
		ents = append(ents, dir(p))
	}
	return append(ents, file(p+"a", "exe"), dir("h/"), symlink("s", "x"), hardlink("h/b", p+"a"))
}

// A hard link may not name a file another package installed: apk only
// links within one archive.
func TestHardlinkToOtherPackageRejected(t *testing.T) {
	s := newSandbox(t)
	in := newInstaller(t, s.root, Options{})
	if err := in.Install(pkgInfo("a"), tarOf(t, file("f", "x")), Control{}); err != nil {
		t.Fatal(err)
	}
	err := in.Install(pkgInfo("b"), tarOf(t, hardlink("g", "f")), Control{})
	if !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("Install = %v, want ErrUnsafePath", err)
	}
}

func TestParentMustExist(t *testing.T) {
	s := newSandbox(t)
	in := newInstaller(t, s.root, Options{})
	err := in.Install(pkgInfo("a"), tarOf(t, file("usr/bin/x", "x")), Control{})
	if err == nil || !strings.Contains(err.Error(), "usr/bin/x") {
		t.Fatalf("Install = %v, want an error naming usr/bin/x", err)
	}
	if _, err := os.Lstat(filepath.Join(s.root, "usr")); !os.IsNotExist(err) {
		t.Errorf("usr was created: %v", err)
	}
}

func TestControlEntriesSkipped(t *testing.T) {
	s := newSandbox(t)
	in := newInstaller(t, s.root, Options{})
	ents := []ent{file(".PKGINFO", "pkgname = a"), file(".post-install", "#!/bin/sh"), dir("etc/"), file("etc/.keep_etc", ""), file("etc/motd", "hi")}
	if err := in.Install(pkgInfo("a"), tarOf(t, ents...), Control{}); err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, s.root); !equalStrings(got, []string{"etc"}) {
		t.Errorf("root holds %q", got)
	}
	if got := dirNames(t, filepath.Join(s.root, "etc")); !equalStrings(got, []string{"motd"}) {
		t.Errorf("etc holds %q", got)
	}
}
