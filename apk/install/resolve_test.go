package install

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Directory resolutions are remembered while installing; a symlink put in
// place later must still redirect the paths that go through it, within a
// package (a later header for the same path wins) and across packages (a
// replacing package's link).
func TestResolutionFollowsReplacedSymlink(t *testing.T) {
	tests := []struct {
		name string
		pkgs [][]ent // installed in order; each package replaces the ones before
		want map[string]string
	}{
		{"one package", [][]ent{{
			dir("real1/"), dir("real2/"),
			symlink("d", "real1"), file("d/f", "1"),
			symlink("d", "real2"), file("d/g", "2"),
		}}, map[string]string{"real1/f": "1", "real2/g": "2"}},
		{"replacing package", [][]ent{
			{dir("real1/"), dir("real2/"), symlink("d", "real1"), file("d/f", "1")},
			{symlink("d", "real2"), file("d/g", "2")},
		}, map[string]string{"real1/f": "1", "real2/g": "2"}},
		{"nested link", [][]ent{{
			dir("a/"), dir("a/x/"), dir("b/"), dir("b/x/"),
			symlink("l", "a"), file("l/x/f", "1"),
			symlink("l", "b"), file("l/x/g", "2"),
		}}, map[string]string{"a/x/f": "1", "b/x/g": "2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			in := newInstaller(t, s.root, Options{})
			var names []string
			for i, ents := range tc.pkgs {
				name := fmt.Sprintf("p%d", i)
				if err := in.Install(pkgInfo(name, replacing(names...)), tarOf(t, ents...), Control{}); err != nil {
					t.Fatal(err)
				}
				names = append(names, name)
			}
			for p, body := range tc.want {
				if got := readFile(t, s.root, p); got != body {
					t.Errorf("%s = %q, want %q", p, got, body)
				}
			}
			s.checkOutside(t)
		})
	}
}

// Entries spread over more directories than the Installer keeps open, in
// turn, land where they belong, and Close leaves no directory open.
func TestManyDirectoriesInTurn(t *testing.T) {
	before := openFDs(t)
	s := newSandbox(t)
	in, err := New(s.root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const dirs = 3 * maxOpenDirs
	var ents []ent
	for d := range dirs {
		ents = append(ents, dir(fmt.Sprintf("d%02d/", d)))
	}
	for f := range 3 {
		for d := range dirs {
			ents = append(ents, file(fmt.Sprintf("d%02d/f%d", d, f), fmt.Sprintf("%d/%d", d, f)))
		}
	}
	if err := in.Install(pkgInfo("many"), tarOf(t, ents...), Control{}); err != nil {
		t.Fatal(err)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	for d := range dirs {
		for f := range 3 {
			p := fmt.Sprintf("d%02d/f%d", d, f)
			if got, want := readFile(t, s.root, p), fmt.Sprintf("%d/%d", d, f); got != want {
				t.Errorf("%s = %q, want %q", p, got, want)
			}
		}
	}
	if after := openFDs(t); after != before {
		t.Errorf("%d file descriptors open after Close, %d before", after, before)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir(filepath.Join("/proc", "self", "fd"))
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	return len(es)
}
