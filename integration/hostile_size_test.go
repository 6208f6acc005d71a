package integration

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/apk/install"
)

// TestHostileSizes: a package may write at most install.SizeAllowance of
// the installed size it declares (.PKGINFO size, the index's I:), so a
// package that declares kilobytes cannot fill the build machine's disk
// with zeros that compress to nothing. Extraction stops at the first file
// past the allowance, naming it; honest declarations build.
func TestHostileSizes(t *testing.T) {
	requireStack(t)
	const mib = 1 << 20
	zeros := func(n int) string { return strings.Repeat("\x00", n) }
	const declared = 1000
	allowed := install.SizeAllowance(declared)
	many := []apktest.RawEntry{rawDir("opt")}
	for i := 0; i < 20; i++ {
		many = append(many, rawFile(fmt.Sprintf("opt/f%02d", i), zeros(mib), 0o644))
	}
	tests := []struct {
		name     string
		raw      apktest.Raw
		want     string
		wantPath string
	}{
		{name: "one file past the allowance",
			raw:  apktest.Raw{InstalledSize: declared, Entries: []apktest.RawEntry{rawDir("opt"), rawFile("opt/blob", zeros(17*mib), 0o644)}},
			want: fmt.Sprintf(`[x86_64] install big-1.0-r0: "opt/blob": size limit exceeded: %d bytes of files would be written, the package declares an installed size of %d bytes (allowed: %d)`, 17*mib, declared, allowed)},
		{name: "many files past the allowance",
			raw:  apktest.Raw{InstalledSize: declared, Entries: many},
			want: fmt.Sprintf(`[x86_64] install big-1.0-r0: "opt/f16": size limit exceeded: %d bytes of files would be written, the package declares an installed size of %d bytes (allowed: %d)`, 17*mib, declared, allowed)},
		{name: "hard links cost nothing",
			raw: apktest.Raw{InstalledSize: declared, Entries: []apktest.RawEntry{rawDir("opt"), rawFile("opt/one", zeros(8*mib), 0o644),
				rawHardlink("opt/two", "opt/one"), rawHardlink("opt/three", "opt/one")}},
			wantPath: "opt/three"},
		{name: "an honest declaration",
			raw:      apktest.Raw{InstalledSize: 17 * mib, Entries: []apktest.RawEntry{rawDir("opt"), rawFile("opt/blob", zeros(17*mib), 0o644)}},
			wantPath: "opt/blob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.raw
			p.Name, p.Version = "big", "1.0-r0"
			r := newHostileRepo(t).addRaw(p).writeIndex(nil)
			ctx := r.config("big")
			if tt.want != "" {
				refused(t, ctx, tt.want)
				return
			}
			files, _ := builtRootfs(t, ctx)
			if _, ok := files[tt.wantPath]; !ok {
				t.Errorf("image lacks %s", tt.wantPath)
			}
		})
	}
	checkServes(t)
}
