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
	}{
		{"disjoint", [][]InstalledPackage{{layerPkg("a", "a", nil, frec("usr/bin/a", "Q1a"))}, {layerPkg("b", "b", nil, frec("usr/bin/b", "Q1b"))}},
			map[string]string{"a": "usr/bin/a", "b": "usr/bin/b"}, ""},
		{"identical copies", [][]InstalledPackage{{layerPkg("a", "a", nil, frec("usr/bin/x", "Q1same"))}, {layerPkg("b", "b", nil, frec("usr/bin/x", "Q1same"))}},
			map[string]string{"a": "usr/bin/x", "b": "usr/bin/x"}, ""},
		{"later replaces earlier", [][]InstalledPackage{{layerPkg("a", "a", nil, frec("usr/bin/x", "Q1a"))}, {layerPkg("b", "b", []string{"a"}, frec("usr/bin/x", "Q1b"))}},
			map[string]string{"a": "", "b": "usr/bin/x"}, ""},
		{"same origin", [][]InstalledPackage{{layerPkg("a", "src", nil, frec("usr/bin/x", "Q1a"))}, {layerPkg("a-extra", "src", nil, frec("usr/bin/x", "Q1b"))}},
			map[string]string{"a": "", "a-extra": "usr/bin/x"}, ""},
		{"conflict", [][]InstalledPackage{{layerPkg("a", "a", nil, frec("usr/bin/x", "Q1a"))}, {layerPkg("b", "b", nil, frec("usr/bin/x", "Q1b"))}},
			nil, "package b-1-r0: usr/bin/x is already owned by a-1-r0"},
		{"earlier replaces later across layers", [][]InstalledPackage{{layerPkg("a", "a", []string{"b"}, frec("usr/bin/x", "Q1a"))}, {layerPkg("b", "b", nil, frec("usr/bin/x", "Q1b"))}},
			nil, "must keep a-1-r0's copy, but is in a later layer"},
		{"directory over an earlier layer's symlink", [][]InstalledPackage{
			{{Package: index.Package{Name: "base", Version: "1-r0"}, Dirs: []DirRecord{{Path: "", Files: []FileRecord{{Path: "lib", Checksum: "Q1link"}}}}}},
			{{Package: index.Package{Name: "old", Version: "1-r0"}, Dirs: []DirRecord{{Path: "lib", Files: []FileRecord{frec("lib/libold.so", "Q1x")}}}}},
		}, nil, "package old-1-r0 ships directory lib, which base-1-r0 (an earlier layer) installs as a file or symlink"},
		{"package in two layers", [][]InstalledPackage{{layerPkg("a", "a", nil)}, {layerPkg("a", "a", nil)}}, nil, "package a is in layers 0 and 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MergeLayers(tt.layers)
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
