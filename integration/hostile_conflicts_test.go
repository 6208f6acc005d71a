package integration

import (
	"archive/tar"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
)

// TestHostileConflicts: two packages claiming one path. Each package is
// its own layer, so the later layer would silently win in the image; kiln
// applies apk's rules instead (contents differ and neither replaces the
// other: refused; a directory and a file or symlink at one path: refused
// whatever they replace), naming both packages. Each case runs with the
// two packages in one install step and in two ("dirpkg" ends an install
// batch, "a" does not).
func TestHostileConflicts(t *testing.T) {
	requireStack(t)
	opt := rawDir("opt")
	pkg := func(name string, replaces []string, entries ...apktest.RawEntry) apktest.Raw {
		r := raw(name, append([]apktest.RawEntry{opt}, entries...)...)
		r.Replaces = replaces
		return r
	}
	tests := []struct {
		name          string
		lower, upper  []apktest.RawEntry
		upperReplaces []string
		want          string // the last line's message after "[x86_64] "; "" when the image builds
		wantFile      string // opt/x's contents in the built image
		wantLink      string // or opt/x's target
		wantPath      string // and a path that must be in the image
	}{
		{name: "files differ",
			lower: []apktest.RawEntry{rawFile("opt/x", "lower", 0o644)}, upper: []apktest.RawEntry{rawFile("opt/x", "upper", 0o644)},
			want: "package b-1.0-r0: opt/x is already owned by LOWER-1.0-r0 (contents differ, neither package replaces the other, origins differ)"},
		{name: "identical files",
			lower: []apktest.RawEntry{rawFile("opt/x", "same", 0o644)}, upper: []apktest.RawEntry{rawFile("opt/x", "same", 0o644)},
			wantFile: "same"},
		{name: "upper replaces lower",
			lower: []apktest.RawEntry{rawFile("opt/x", "lower", 0o644)}, upper: []apktest.RawEntry{rawFile("opt/x", "upper", 0o644)},
			upperReplaces: []string{"LOWER"}, wantFile: "upper"},
		{name: "file over symlink",
			lower: []apktest.RawEntry{rawSymlink("opt/x", "/etc/passwd")}, upper: []apktest.RawEntry{rawFile("opt/x", "upper", 0o644)},
			want: "package b-1.0-r0: opt/x is already owned by LOWER-1.0-r0 (contents differ, neither package replaces the other, origins differ)"},
		{name: "file over symlink replacing",
			lower: []apktest.RawEntry{rawSymlink("opt/x", "/etc/passwd")}, upper: []apktest.RawEntry{rawFile("opt/x", "upper", 0o644)},
			upperReplaces: []string{"LOWER"}, wantFile: "upper"},
		{name: "file over directory",
			lower: []apktest.RawEntry{rawDir("opt/x"), rawFile("opt/x/kept", "k", 0o644)}, upper: []apktest.RawEntry{rawFile("opt/x", "upper", 0o644)},
			want: "package b-1.0-r0 ships opt/x as a file or a symlink, where LOWER-1.0-r0 (an earlier layer) ships a directory: a path cannot be both"},
		{name: "symlink over directory",
			lower: []apktest.RawEntry{rawDir("opt/x"), rawFile("opt/x/kept", "k", 0o644)}, upper: []apktest.RawEntry{rawSymlink("opt/x", "/tmp")},
			want: "package b-1.0-r0 ships opt/x as a file or a symlink, where LOWER-1.0-r0 (an earlier layer) ships a directory: a path cannot be both"},
		{name: "directory over file",
			lower: []apktest.RawEntry{rawFile("opt/x", "lower", 0o644)}, upper: []apktest.RawEntry{rawDir("opt/x"), rawFile("opt/x/f", "f", 0o644)},
			want: "package b-1.0-r0 ships directory opt/x, where LOWER-1.0-r0 (an earlier layer) ships a file or a symlink that does not lead to a directory: a path cannot be both"},
		// Packages that replace one another share a layer (as apko groups
		// them), so the install step refuses: replaces does not let a
		// directory and a file share a path.
		{name: "file over directory replacing",
			lower: []apktest.RawEntry{rawDir("opt/x"), rawFile("opt/x/kept", "k", 0o644)}, upper: []apktest.RawEntry{rawFile("opt/x", "upper", 0o644)},
			upperReplaces: []string{"LOWER"},
			want:          `install b-1.0-r0: "opt/x": a directory of LOWER-1.0-r0 is in the way`},
		{name: "symlink over directory replacing",
			lower: []apktest.RawEntry{rawDir("opt/x"), rawFile("opt/x/kept", "k", 0o644)}, upper: []apktest.RawEntry{rawSymlink("opt/x", "/tmp")},
			upperReplaces: []string{"LOWER"},
			want:          `install b-1.0-r0: "opt/x": a directory of LOWER-1.0-r0 is in the way`},
		{name: "directory over file replacing",
			lower: []apktest.RawEntry{rawFile("opt/x", "lower", 0o644)}, upper: []apktest.RawEntry{rawDir("opt/x"), rawFile("opt/x/f", "f", 0o644)},
			upperReplaces: []string{"LOWER"},
			want:          `install b-1.0-r0: "opt/x": cannot create a directory, a file or symlink of LOWER-1.0-r0 is in the way`},
		// A directory entry over a symlink goes through it, as in apk's one
		// tree; the directory it names is made inside the image.
		{name: "directory over dangling symlink",
			lower: []apktest.RawEntry{rawSymlink("opt/x", "nowhere")}, upper: []apktest.RawEntry{rawDir("opt/x"), rawFile("opt/x/f", "f", 0o644)},
			wantLink: "nowhere", wantPath: "opt/nowhere/f"},
	}
	for _, lower := range []string{"a", "dirpkg"} {
		for _, tt := range tests {
			t.Run(lower+"/"+tt.name, func(t *testing.T) {
				replaces := make([]string, len(tt.upperReplaces))
				for i, r := range tt.upperReplaces {
					replaces[i] = strings.ReplaceAll(r, "LOWER", lower)
				}
				r := newHostileRepo(t).addRaw(pkg(lower, nil, tt.lower...), pkg("b", replaces, tt.upper...)).writeIndex(nil)
				ctx := r.config(lower, "b")
				if tt.want != "" {
					refused(t, ctx, "[x86_64] "+strings.ReplaceAll(tt.want, "LOWER", lower))
					return
				}
				files, _ := builtRootfs(t, ctx)
				e, ok := files["opt/x"]
				switch {
				case !ok:
					t.Errorf("image lacks opt/x")
				case tt.wantLink != "" && (e.Header.Typeflag != tar.TypeSymlink || e.Header.Linkname != tt.wantLink):
					t.Errorf("opt/x in the image: %+v, want a symlink to %s", e.Header, tt.wantLink)
				case tt.wantLink == "" && (e.Header.Typeflag != tar.TypeReg || string(e.Data) != tt.wantFile):
					t.Errorf("opt/x in the image: %+v %q, want a file of %q", e.Header, e.Data, tt.wantFile)
				}
				if _, ok := files[tt.wantPath]; tt.wantPath != "" && !ok {
					t.Errorf("image lacks %s", tt.wantPath)
				}
			})
		}
	}
	// Packages of one origin share a layer (layering by origin): the
	// install step itself refuses, naming the package in the way.
	t.Run("one layer", func(t *testing.T) {
		lower, upper := pkg("a", nil, rawDir("opt/x")), pkg("b", []string{"a"}, rawFile("opt/x", "upper", 0o644))
		lower.Origin, upper.Origin = "src", "src"
		r := newHostileRepo(t).addRaw(lower, upper).writeIndex(nil)
		refused(t, r.configWith("layering:\n  strategy: origin\n  budget: 2\n", "a", "b"),
			`[x86_64] install b-1.0-r0: "opt/x": a directory of a-1.0-r0 is in the way`)
	})
	checkServes(t)
}
