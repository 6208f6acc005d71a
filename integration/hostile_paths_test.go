package integration

import (
	"archive/tar"
	"io/fs"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
)

// TestHostilePaths: entries that would write outside the image (absolute
// names, "..", symlinks and hard links that lead out) are refused, naming
// the package and the entry, and nothing lands on the host or in
// BuildKit's state; entries that stay inside by apk's rules build, and the
// file lands inside the image.
func TestHostilePaths(t *testing.T) {
	requireStack(t)
	m := marker(t)
	base := raw("base", rawDir("etc"), rawFile("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0o644),
		rawDir("tmp"), rawDir("opt"), rawSymlink("opt/up", "../../../../../.."), rawSymlink("opt/etc", "/etc"))
	tests := []struct {
		name    string
		entries []apktest.RawEntry
		want    string
	}{
		{"absolute name", []apktest.RawEntry{rawFile("/tmp/"+m, "x", 0o644)},
			`[x86_64] install evil-1.0-r0: unsafe path: "/tmp/` + m + `" is absolute`},
		{"dot-dot name", []apktest.RawEntry{rawFile("../../../../tmp/"+m, "x", 0o644)},
			`[x86_64] install evil-1.0-r0: unsafe path: "../../../../tmp/` + m + `" has a '..' component`},
		{"dot-dot inside a name", []apktest.RawEntry{rawDir("usr"), rawFile("usr/../../tmp/"+m, "x", 0o644)},
			`[x86_64] install evil-1.0-r0: unsafe path: "usr/../../tmp/` + m + `" has a '..' component`},
		{"control character", []apktest.RawEntry{rawFile("tmp/"+m+"\x1b[2J", "x", 0o644)},
			`[x86_64] install evil-1.0-r0: unsafe path: "tmp/` + m + `\x1b[2J" has a control character`},
		{"through its own symlink that climbs out", []apktest.RawEntry{rawDir("usr"), rawSymlink("usr/up", "../../.."), rawFile("usr/up/tmp/"+m, "x", 0o644)},
			`[x86_64] install evil-1.0-r0: "usr/up/tmp/` + m + `": unsafe path: "usr/up/tmp" leads above the root through symlink "usr/up -> ../../.."`},
		{"through a lower layer's symlink that climbs out", []apktest.RawEntry{rawDir("opt"), rawFile("opt/up/tmp/"+m, "x", 0o644)},
			`[x86_64] install evil-1.0-r0: "opt/up/tmp/` + m + `": unsafe path: "opt/up/tmp" leads above the root through symlink "opt/up -> ../../../../../.."`},
		{"hard link to an absolute path", []apktest.RawEntry{rawDir("tmp"), rawHardlink("tmp/"+m, "/etc/passwd")},
			`[x86_64] install evil-1.0-r0: "tmp/` + m + `": hard link target: unsafe path: "/etc/passwd" is absolute`},
		{"hard link climbing out", []apktest.RawEntry{rawDir("tmp"), rawHardlink("tmp/"+m, "../etc/passwd")},
			`[x86_64] install evil-1.0-r0: "tmp/` + m + `": hard link target: unsafe path: "../etc/passwd" has a '..' component`},
		{"hard link to another package's file", []apktest.RawEntry{rawDir("etc"), rawDir("tmp"), rawHardlink("tmp/"+m, "etc/passwd")},
			`[x86_64] install evil-1.0-r0: unsafe path: "tmp/` + m + `": hard link target "etc/passwd" is not a file this package installed`},
		{"hard link through a symlink", []apktest.RawEntry{rawDir("etc"), rawDir("opt"), rawDir("tmp"), rawHardlink("tmp/"+m, "opt/etc/passwd")},
			`[x86_64] install evil-1.0-r0: unsafe path: "tmp/` + m + `": hard link target "opt/etc/passwd" is not a file this package installed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newHostileRepo(t).addRaw(base, raw("evil", tt.entries...)).writeIndex(nil)
			refused(t, r.config("base", "evil"), tt.want)
		})
	}
	checkNowhere(t, m)

	// An absolute symlink means the image's own root, as apk installing
	// into an image's root would have it: the file lands in the image.
	t.Run("absolute symlink stays in the image", func(t *testing.T) {
		inside := marker(t)
		r := newHostileRepo(t).addRaw(base, raw("evil", rawDir("tmp"), rawDir("usr"), rawSymlink("usr/tmp", "/tmp"),
			rawFile("usr/tmp/"+inside, "inside", 0o644))).writeIndex(nil)
		files, _ := builtRootfs(t, r.config("base", "evil"))
		if e, ok := files["tmp/"+inside]; !ok || string(e.Data) != "inside" {
			t.Errorf("image lacks tmp/%s", inside)
		}
		if e, ok := files["usr/tmp"]; !ok || e.Header.Typeflag != tar.TypeSymlink || e.Header.Linkname != "/tmp" {
			t.Errorf("usr/tmp is not the package's symlink: %+v", e.Header)
		}
		checkNotOnHost(t, inside)
	})
	// A package replacing its own symlink by a file writes the file, never
	// through the link.
	t.Run("final symlink is never followed", func(t *testing.T) {
		r := newHostileRepo(t).addRaw(base, raw("evil", rawDir("etc"), rawSymlink("etc/x", "/etc/passwd"),
			rawFile("etc/x", "mine", 0o644))).writeIndex(nil)
		files, _ := builtRootfs(t, r.config("base", "evil"))
		if e := files["etc/x"]; e.Header == nil || e.Header.Typeflag != tar.TypeReg || string(e.Data) != "mine" {
			t.Errorf("etc/x: %+v", e.Header)
		}
		if e := files["etc/passwd"]; string(e.Data) != "root:x:0:0::/root:/bin/sh\n" {
			t.Errorf("etc/passwd changed: %q", e.Data)
		}
	})
	// setuid, setgid and sticky bits, and owners, reach the image layer.
	t.Run("setuid kept", func(t *testing.T) {
		r := newHostileRepo(t).add(apktest.Package{Name: "suid", Version: "1.0-r0", Files: []apktest.File{
			{Path: "usr", Dir: true}, {Path: "usr/bin", Dir: true},
			{Path: "usr/bin/su", Mode: 0o755 | fs.ModeSetuid, Data: []byte("su")},
			{Path: "usr/bin/wall", Mode: 0o755 | fs.ModeSetgid, Gid: 5, Data: []byte("wall")},
			{Path: "scratch", Dir: true, Mode: 0o777 | fs.ModeSticky},
		}}).writeIndex(nil)
		files, _ := builtRootfs(t, r.config("suid"))
		for p, want := range map[string]int64{"usr/bin/su": 0o4755, "usr/bin/wall": 0o2755, "scratch": 0o1777} {
			e, ok := files[p]
			if !ok {
				t.Errorf("image lacks %s", p)
				continue
			}
			if got := e.Header.Mode & 0o7777; got != want {
				t.Errorf("%s: mode %o in the layer, want %o", p, got, want)
			}
		}
		if g := files["usr/bin/wall"].Header.Gid; g != 5 {
			t.Errorf("usr/bin/wall: gid %d, want 5", g)
		}
	})
	checkServes(t)
}
