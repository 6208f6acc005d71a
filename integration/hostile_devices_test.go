package integration

import (
	"archive/tar"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
)

// TestHostileDevices: a package may not create device nodes or FIFOs (an
// image's devices come from the runtime; apko refuses them too). Neither
// kiln's writer nor apk's would make such a package, so they are made by
// hand. The build fails naming the package, the entry and its kind, and
// no node is created anywhere.
func TestHostileDevices(t *testing.T) {
	requireStack(t)
	node := func(name string, typ byte, major, minor int64) apktest.RawEntry {
		return apktest.RawEntry{Header: tar.Header{Name: name, Typeflag: typ, Mode: 0o666, Devmajor: major, Devminor: minor}}
	}
	m := marker(t)
	tests := []struct {
		name  string
		entry apktest.RawEntry
		want  string
	}{
		{"character device", node("dev/"+m, tar.TypeChar, 1, 1),
			`[x86_64] install evil-1.0-r0: "dev/` + m + `": device nodes and FIFOs are not installed from packages: character device`},
		{"block device", node("dev/"+m, tar.TypeBlock, 8, 0),
			`[x86_64] install evil-1.0-r0: "dev/` + m + `": device nodes and FIFOs are not installed from packages: block device`},
		{"FIFO", node("dev/"+m, tar.TypeFifo, 0, 0),
			`[x86_64] install evil-1.0-r0: "dev/` + m + `": device nodes and FIFOs are not installed from packages: FIFO`},
		{"unknown entry type", apktest.RawEntry{Header: tar.Header{Name: "dev/" + m, Typeflag: 'Z', Mode: 0o644}},
			`[x86_64] install evil-1.0-r0: "dev/` + m + `": unsupported entry type 'Z'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newHostileRepo(t).addRaw(raw("evil", rawDir("dev"), tt.entry)).writeIndex(nil)
			refused(t, r.config("evil"), tt.want)
		})
	}
	checkNowhere(t, m)
	checkServes(t)
}
