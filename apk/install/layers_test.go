package install

import (
	"strings"
	"testing"

	"github.com/kiln-build/kiln/internal/testkit"

	"github.com/kiln-build/kiln/apk/index"
)

func layerPkg(name, origin string, replaces []string, files ...FileRecord) InstalledPackage {
	return InstalledPackage{
		Package: index.Package{Name: name, Version: "1-r0", Origin: origin, Replaces: replaces},
		Dirs:    []DirRecord{{Path: "usr/bin", Mode: 0o755, Files: files}},
	}
}

func frec(path, sum string) FileRecord { return FileRecord{Path: path, Mode: 0o755, Checksum: sum} }

func TestMergeLayers(t *testing.T) {
	tests := []struct {
		name    string
		layers  [][]InstalledPackage
		owners  map[string]string // package name → files it lists, joined
		wantErr string
		physDir func(string) (string, error)
	}{
		{"disjoint", [][]InstalledPackage{{layerPkg("a", "a", nil, frec("usr/bin/a", "Q1a"))}, {layerPkg("b", "b", nil, frec("usr/bin/b", "Q1b"))}},
			map[string]string{"a": "usr/bin/a", "b": "usr/bin/b"}, "", nil},
		{"identical copies", [][]InstalledPackage{{layerPkg("a", "a", nil, frec("usr/bin/x", "Q1same"))}, {layerPkg("b", "b", nil, frec("usr/bin/x", "Q1same"))}},
			map[string]string{"a": "usr/bin/x", "b": "usr/bin/x"}, "", nil},
		{"later replaces earlier", [][]InstalledPackage{{layerPkg("a", "a", nil, frec("usr/bin/x", "Q1a"))}, {layerPkg("b", "b", []string{"a"}, frec("usr/bin/x", "Q1b"))}},
			map[string]string{"a": "", "b": "usr/bin/x"}, "", nil},
		{"same origin", [][]InstalledPackage{{layerPkg("a", "src", nil, frec("usr/bin/x", "Q1a"))}, {layerPkg("a-extra", "src", nil, frec("usr/bin/x", "Q1b"))}},
			map[string]string{"a": "", "a-extra": "usr/bin/x"}, "", nil},
		{"conflict", [][]InstalledPackage{{layerPkg("a", "a", nil, frec("usr/bin/x", "Q1a"))}, {layerPkg("b", "b", nil, frec("usr/bin/x", "Q1b"))}},
			nil, "package b-1-r0: usr/bin/x is already owned by a-1-r0", nil},
		{"earlier replaces later across layers", [][]InstalledPackage{{layerPkg("a", "a", []string{"b"}, frec("usr/bin/x", "Q1a"))}, {layerPkg("b", "b", nil, frec("usr/bin/x", "Q1b"))}},
			nil, "must keep a-1-r0's copy, but is in a later layer", nil},
		{"directory over an earlier layer's symlink", [][]InstalledPackage{
			{{Package: index.Package{Name: "base", Version: "1-r0"}, Dirs: []DirRecord{{Path: "", Files: []FileRecord{{Path: "lib", Checksum: "Q1link"}}}}}},
			{{Package: index.Package{Name: "old", Version: "1-r0"}, Dirs: []DirRecord{{Path: "lib", Files: []FileRecord{frec("lib/libold.so", "Q1x")}}}}},
		}, nil, "package old-1-r0 ships directory lib, where base-1-r0 (an earlier layer) ships a file or a symlink that does not lead to a directory: a path cannot be both", nil},
		{"symlink over an earlier layer's directory", [][]InstalledPackage{
			{{Package: index.Package{Name: "a", Version: "1-r0"}, Dirs: []DirRecord{{Path: "opt"}, {Path: "opt/d", Files: []FileRecord{frec("opt/d/f", "Q1f")}}}}},
			{{Package: index.Package{Name: "b", Version: "1-r0", Replaces: []string{"a"}}, Dirs: []DirRecord{{Path: "opt", Files: []FileRecord{{Path: "opt/d", Checksum: "Q1link"}}}}}},
		}, nil, "package b-1-r0 ships opt/d as a file or a symlink, where a-1-r0 (an earlier layer) ships a directory: a path cannot be both", nil},
		{"file over an earlier layer's directory, found by its parent's place in the image", [][]InstalledPackage{
			{{Package: index.Package{Name: "a", Version: "1-r0"}, Dirs: []DirRecord{{Path: "usr/lib/d", Files: []FileRecord{frec("usr/lib/d/f", "Q1f")}}}}},
			{{Package: index.Package{Name: "b", Version: "1-r0"}, Dirs: []DirRecord{{Path: "lib", Files: []FileRecord{frec("lib/d", "Q1file")}}}}},
		}, nil, "package b-1-r0 ships lib/d as a file or a symlink, where a-1-r0 (an earlier layer) ships a directory: a path cannot be both", usrMerged},
		{"directory over an earlier layer's file", [][]InstalledPackage{
			{{Package: index.Package{Name: "a", Version: "1-r0"}, Dirs: []DirRecord{{Path: "opt", Files: []FileRecord{frec("opt/x", "Q1f")}}}}},
			{{Package: index.Package{Name: "b", Version: "1-r0"}, Dirs: []DirRecord{{Path: "opt/x", Files: []FileRecord{frec("opt/x/y", "Q1y")}}}}},
		}, nil, "package b-1-r0 ships directory opt/x, where a-1-r0 (an earlier layer) ships a file or a symlink that does not lead to a directory: a path cannot be both", nil},
		{"directory and file of one layer are the installer's to judge", [][]InstalledPackage{
			{{Package: index.Package{Name: "a", Version: "1-r0"}, Dirs: []DirRecord{{Path: "opt", Files: []FileRecord{frec("opt/x", "Q1f")}}}},
				{Package: index.Package{Name: "b", Version: "1-r0"}, Dirs: []DirRecord{{Path: "opt/x"}}}},
		}, map[string]string{"a": "opt/x", "b": ""}, "", nil},
		{"directory through an earlier layer's usr-merge link", [][]InstalledPackage{
			{{Package: index.Package{Name: "base", Version: "1-r0"}, Dirs: []DirRecord{{Path: "", Files: []FileRecord{{Path: "lib", Checksum: "Q1link"}}}}}},
			{{Package: index.Package{Name: "old", Version: "1-r0"}, Dirs: []DirRecord{{Path: "lib", Files: []FileRecord{frec("lib/libold.so", "Q1x")}}}}},
		}, map[string]string{"base": "lib", "old": "lib/libold.so"}, "", usrMerged},
		{"conflict through a link", [][]InstalledPackage{
			{{Package: index.Package{Name: "a", Version: "1-r0"}, Dirs: []DirRecord{{Path: "usr/lib", Files: []FileRecord{frec("usr/lib/libx.so", "Q1a")}}}}},
			{{Package: index.Package{Name: "b", Version: "1-r0"}, Dirs: []DirRecord{{Path: "lib", Files: []FileRecord{frec("lib/libx.so", "Q1b")}}}}},
		}, nil, "package b-1-r0: lib/libx.so is already owned by a-1-r0", usrMerged},
		{"package in two layers", [][]InstalledPackage{{layerPkg("a", "a", nil)}, {layerPkg("a", "a", nil)}}, nil, "package a is in layers 0 and 1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MergeLayers(tt.layers, tt.physDir)
			if testkit.ErrorCase(t, err, tt.wantErr) {
				return
			}
			for _, p := range got {
				var paths []string
				for _, d := range p.Dirs {
					for _, f := range d.Files {
						paths = append(paths, f.Path)
					}
				}
				if want := tt.owners[p.Name]; strings.Join(paths, " ") != want {
					t.Errorf("%s lists %v, want %q", p.Name, paths, want)
				}
			}
		})
	}
}

// usrMerged maps lib to usr/lib, as a merged image's links do.
func usrMerged(dir string) (string, error) {
	if dir == "lib" || strings.HasPrefix(dir, "lib/") {
		return "usr/" + dir, nil
	}
	return dir, nil
}
