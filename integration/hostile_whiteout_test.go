package integration

import (
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
)

// TestHostileWhiteouts: every package is a layer of its own, so an entry
// named like an OCI whiteout would delete other packages' files from the
// image (".wh.passwd" removes the baselayout's /etc/passwd, ".wh..wh..opq"
// empties a directory). kiln refuses the package, naming it and the entry.
func TestHostileWhiteouts(t *testing.T) {
	requireStack(t)
	base := apktest.Package{Name: "base", Version: "1.0-r0", Files: []apktest.File{
		{Path: "etc", Dir: true}, {Path: "etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/sh\n")},
		{Path: "usr", Dir: true}, {Path: "usr/lib", Dir: true}, {Path: "usr/lib/libkeep.so", Data: []byte("keep")},
	}}
	tests := []struct {
		name  string
		files []apktest.File
		want  string
	}{
		{"file whiteout", []apktest.File{{Path: "etc", Dir: true}, {Path: "etc/.wh.passwd"}},
			`[x86_64] install evil-1.0-r0: "etc/.wh.passwd": OCI whiteout name in a package: ".wh.passwd" is reserved for whiteouts`},
		{"opaque directory", []apktest.File{{Path: "usr", Dir: true}, {Path: "usr/lib", Dir: true}, {Path: "usr/lib/.wh..wh..opq"}},
			`[x86_64] install evil-1.0-r0: "usr/lib/.wh..wh..opq": OCI whiteout name in a package: ".wh..wh..opq" is reserved for whiteouts`},
		{"whiteout directory", []apktest.File{{Path: "usr", Dir: true}, {Path: "usr/.wh.lib", Dir: true}},
			`[x86_64] install evil-1.0-r0: "usr/.wh.lib": OCI whiteout name in a package: ".wh.lib" is reserved for whiteouts`},
		{"whiteout symlink", []apktest.File{{Path: "etc", Dir: true}, {Path: "etc/.wh.passwd", Symlink: "/dev/null"}},
			`[x86_64] install evil-1.0-r0: "etc/.wh.passwd": OCI whiteout name in a package: ".wh.passwd" is reserved for whiteouts`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newHostileRepo(t).add(base, apktest.Package{Name: "evil", Version: "1.0-r0", Files: tt.files}).writeIndex(nil)
			refused(t, r.config("base", "evil"), tt.want)
		})
	}
	// Names that only look like the prefix are ordinary files and build.
	t.Run("near misses build", func(t *testing.T) {
		r := newHostileRepo(t).add(base, apktest.Package{Name: "fine", Version: "1.0-r0", Files: []apktest.File{
			{Path: "etc", Dir: true}, {Path: "etc/a.wh.b", Data: []byte("1")}, {Path: "etc/.wh", Data: []byte("2")},
		}}).writeIndex(nil)
		fs, _ := builtRootfs(t, r.config("base", "fine"))
		for _, p := range []string{"etc/passwd", "usr/lib/libkeep.so", "etc/a.wh.b", "etc/.wh"} {
			if _, ok := fs[p]; !ok {
				t.Errorf("image lacks %s", p)
			}
		}
	})
	checkServes(t)
}
