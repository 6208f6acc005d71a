package install

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
)

func TestFileConflicts(t *testing.T) {
	base := []ent{dir("usr/"), dir("usr/bin/")}
	withBase := func(es ...ent) []ent { return append(slices.Clone(base), es...) }
	tests := []struct {
		name      string
		a, b      *index.Package
		aEnts     []ent
		bEnts     []ent
		wantErr   bool
		wantOwner string // owner of usr/bin/x afterwards
		wantBody  string // contents of usr/bin/x (or symlink target)
	}{
		{
			name: "different contents, no relation",
			a:    pkgInfo("a"), b: pkgInfo("b"),
			aEnts: withBase(file("usr/bin/x", "A")), bEnts: withBase(file("usr/bin/x", "B")),
			wantErr: true, wantOwner: "a", wantBody: "A",
		},
		{
			name: "identical contents",
			a:    pkgInfo("a"), b: pkgInfo("b"),
			aEnts: withBase(file("usr/bin/x", "same")), bEnts: withBase(file("usr/bin/x", "same")),
			wantOwner: "a", wantBody: "same",
		},
		{
			name: "same origin",
			a:    pkgInfo("a", origin("src")), b: pkgInfo("b", origin("src")),
			aEnts: withBase(file("usr/bin/x", "A")), bEnts: withBase(file("usr/bin/x", "B")),
			wantOwner: "b", wantBody: "B",
		},
		{
			name: "new package replaces the owner",
			a:    pkgInfo("a"), b: pkgInfo("b", replacing("a")),
			aEnts: withBase(file("usr/bin/x", "A")), bEnts: withBase(file("usr/bin/x", "B")),
			wantOwner: "b", wantBody: "B",
		},
		{
			name: "replaces with a matching version constraint",
			a:    pkgInfo("a", ver("1.0-r0")), b: pkgInfo("b", replacing("a<2")),
			aEnts: withBase(file("usr/bin/x", "A")), bEnts: withBase(file("usr/bin/x", "B")),
			wantOwner: "b", wantBody: "B",
		},
		{
			name: "replaces with a constraint the owner misses",
			a:    pkgInfo("a", ver("3.0-r0")), b: pkgInfo("b", replacing("a<2")),
			aEnts: withBase(file("usr/bin/x", "A")), bEnts: withBase(file("usr/bin/x", "B")),
			wantErr: true, wantOwner: "a", wantBody: "A",
		},
		{
			name: "replaces names a provided name only",
			a:    pkgInfo("a", func(p *index.Package) { p.Provides = []string{"virt"} }), b: pkgInfo("b", replacing("virt")),
			aEnts: withBase(file("usr/bin/x", "A")), bEnts: withBase(file("usr/bin/x", "B")),
			wantErr: true, wantOwner: "a", wantBody: "A",
		},
		{
			name: "owner replaces the new package with priority",
			a:    pkgInfo("a", replacing("b"), replacesPrio(10)), b: pkgInfo("b"),
			aEnts: withBase(file("usr/bin/x", "A")), bEnts: withBase(file("usr/bin/x", "B")),
			wantOwner: "a", wantBody: "A",
		},
		{
			name: "both replace, higher priority wins",
			a:    pkgInfo("a", replacing("b"), replacesPrio(1)), b: pkgInfo("b", replacing("a"), replacesPrio(5)),
			aEnts: withBase(file("usr/bin/x", "A")), bEnts: withBase(file("usr/bin/x", "B")),
			wantOwner: "b", wantBody: "B",
		},
		{
			name: "identical symlinks",
			a:    pkgInfo("a"), b: pkgInfo("b"),
			aEnts: withBase(symlink("usr/bin/x", "busybox")), bEnts: withBase(symlink("usr/bin/x", "busybox")),
			wantOwner: "a", wantBody: "busybox",
		},
		{
			name: "different symlinks",
			a:    pkgInfo("a"), b: pkgInfo("b"),
			aEnts: withBase(symlink("usr/bin/x", "busybox")), bEnts: withBase(symlink("usr/bin/x", "toybox")),
			wantErr: true, wantOwner: "a", wantBody: "busybox",
		},
		{
			name: "same path through a symlinked directory",
			a:    pkgInfo("a"), b: pkgInfo("b"),
			aEnts: withBase(file("usr/bin/x", "A")), bEnts: []ent{symlink("bin", "usr/bin"), file("bin/x", "B")},
			wantErr: true, wantOwner: "a", wantBody: "A",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			in := newInstaller(t, s.root, Options{})
			if err := in.Install(tc.a, tarOf(t, tc.aEnts...), Control{}); err != nil {
				t.Fatal(err)
			}
			err := in.Install(tc.b, tarOf(t, tc.bEnts...), Control{})
			if tc.wantErr {
				var ce *ConflictError
				if !errors.As(err, &ce) {
					t.Fatalf("Install = %v, want a ConflictError", err)
				}
				for _, part := range []string{"a-" + tc.a.Version, "b-" + tc.b.Version, ce.Path} {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("error %q does not mention %q", err, part)
					}
				}
				if !strings.HasSuffix(ce.Path, "bin/x") {
					t.Errorf("conflict path %q", ce.Path)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := in.Owner("usr/bin/x"); got != tc.wantOwner {
				t.Errorf("owner = %q, want %q", got, tc.wantOwner)
			}
			fi := lstat(t, s.root, "usr/bin/x")
			var got string
			if fi.Mode().Type() == 0 {
				got = readFile(t, s.root, "usr/bin/x")
			} else {
				got = readLink(t, s.root, "usr/bin/x")
			}
			if got != tc.wantBody {
				t.Errorf("usr/bin/x = %q, want %q", got, tc.wantBody)
			}
			// Exactly one package lists the file.
			listed := 0
			for _, p := range in.Packages() {
				for _, f := range p.Files() {
					if f.Path == "usr/bin/x" {
						listed++
						if p.Name != tc.wantOwner {
							t.Errorf("usr/bin/x listed under %s, owner is %s", p.Name, tc.wantOwner)
						}
					}
				}
			}
			if listed != 1 && !strings.Contains(tc.name, "through a symlinked") {
				t.Errorf("usr/bin/x listed %d times", listed)
			}
		})
	}
}

func TestSharedDirectoriesAllowed(t *testing.T) {
	s := newSandbox(t)
	in := newInstaller(t, s.root, Options{})
	for _, n := range []string{"a", "b"} {
		ents := []ent{dir("etc/"), withMode(dir("tmp/"), 0o1777), file("etc/"+n, n)}
		if err := in.Install(pkgInfo(n), tarOf(t, ents...), Control{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range in.Packages() {
		var dirs []string
		for _, d := range p.Dirs {
			dirs = append(dirs, d.Path)
		}
		if !equalStrings(dirs, []string{"etc", "tmp"}) {
			t.Errorf("%s dirs = %q", p.Name, dirs)
		}
	}
}

func TestDirectoryFileClash(t *testing.T) {
	tests := []struct {
		name string
		a, b []ent
	}{
		{"dir over file", []ent{file("x", "f")}, []ent{dir("x/")}},
		{"file over dir", []ent{dir("x/")}, []ent{file("x", "f")}},
		{"symlink over dir", []ent{dir("x/")}, []ent{symlink("x", "y")}},
		{"dir over dangling symlink", []ent{symlink("x", "nowhere")}, []ent{dir("x/")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			in := newInstaller(t, s.root, Options{})
			if err := in.Install(pkgInfo("a"), tarOf(t, tc.a...), Control{}); err != nil {
				t.Fatal(err)
			}
			err := in.Install(pkgInfo("b"), tarOf(t, tc.b...), Control{})
			if err == nil || !strings.Contains(err.Error(), `"x"`) {
				t.Fatalf("Install = %v, want an error naming x", err)
			}
		})
	}
}

func TestInstallTwiceRejected(t *testing.T) {
	s := newSandbox(t)
	in := newInstaller(t, s.root, Options{})
	if err := in.Install(pkgInfo("a"), tarOf(t, file("f", "1")), Control{}); err != nil {
		t.Fatal(err)
	}
	err := in.Install(pkgInfo("a", ver("2.0-r0")), tarOf(t, file("f", "2")), Control{})
	if err == nil || !strings.Contains(err.Error(), "already installed") {
		t.Fatalf("second Install = %v", err)
	}
}

// A directory and a file (or symlink) at one path in one layer: the second
// package is refused, and the error names the first.
func TestKindConflictsNameTheOtherPackage(t *testing.T) {
	tests := []struct {
		name         string
		aEnts, bEnts []ent
		want         string
	}{
		{"file over a directory", []ent{dir("opt/"), dir("opt/d/"), file("opt/d/f", "f")}, []ent{dir("opt/"), file("opt/d", "x")},
			`install b-1.0-r0: "opt/d": a directory of a-1.0-r0 is in the way`},
		{"symlink over a directory", []ent{dir("opt/"), dir("opt/d/")}, []ent{dir("opt/"), symlink("opt/d", "/tmp")},
			`install b-1.0-r0: "opt/d": a directory of a-1.0-r0 is in the way`},
		{"directory over a file", []ent{dir("opt/"), file("opt/x", "x")}, []ent{dir("opt/"), dir("opt/x/")},
			`install b-1.0-r0: "opt/x": cannot create a directory, a file or symlink of a-1.0-r0 is in the way`},
		{"directory over a dangling symlink", []ent{dir("opt/"), symlink("opt/x", "nowhere")}, []ent{dir("opt/"), dir("opt/x/")},
			`install b-1.0-r0: "opt/x": the symlink a-1.0-r0 installed there does not lead to a directory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			in := newInstaller(t, s.root, Options{})
			if err := in.Install(pkgInfo("a"), tarOf(t, tt.aEnts...), Control{}); err != nil {
				t.Fatal(err)
			}
			err := in.Install(pkgInfo("b", replacing("a")), tarOf(t, tt.bEnts...), Control{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			s.checkOutside(t)
		})
	}
}
