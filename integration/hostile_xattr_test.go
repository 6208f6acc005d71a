package integration

import (
	"archive/tar"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
)

// TestHostileXattrs: extended attributes are part of a package as apk
// installs them. The install step sets them (a symlink's are recorded,
// not set: Linux refuses user.* on symlinks), and a file capability
// (security.capability) reaches the image layer as a SCHILY.xattr PAX
// record. user.* attributes do not: BuildKit writes layers with
// containerd's archive writer, which keeps security.capability only, as
// Docker does (apko writes every attribute). Attributes of the trusted
// namespace would steer the layer's own file system
// (trusted.overlay.opaque hides the layers below as a whiteout would) and
// are refused.
func TestHostileXattrs(t *testing.T) {
	requireStack(t)
	// VFS_CAP_REVISION_2 with cap_net_bind_service (bit 10) permitted and
	// effective, as setcap cap_net_bind_service=+ep writes it.
	netBind := string([]byte{0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00})
	t.Run("kept in the layer", func(t *testing.T) {
		r := newHostileRepo(t).add(apktest.Package{Name: "caps", Version: "1.0-r0", Files: []apktest.File{
			{Path: "usr", Dir: true}, {Path: "usr/bin", Dir: true},
			{Path: "usr/bin/ping", Mode: 0o755, Data: []byte("ping"), Xattrs: map[string]string{"security.capability": netBind}},
			{Path: "usr/share", Dir: true, Xattrs: map[string]string{"user.origin": "caps"}},
			{Path: "usr/share/doc", Data: []byte("doc"), Xattrs: map[string]string{"user.mime_type": "text/plain", "user.empty": ""}},
			{Path: "usr/bin/pong", Symlink: "ping", Xattrs: map[string]string{"user.link": "x"}},
		}}).writeIndex(nil)
		files, _ := builtRootfs(t, r.config("caps"))
		want := map[string]map[string]string{
			"usr/bin/ping":  {"SCHILY.xattr.security.capability": netBind},
			"usr/share":     {}, // user.* set by the step, dropped by the layer writer
			"usr/share/doc": {},
			"usr/bin/pong":  {},
		}
		for p, records := range want {
			e, ok := files[p]
			if !ok {
				t.Errorf("image lacks %s", p)
				continue
			}
			got := map[string]string{}
			for k, v := range e.Header.PAXRecords {
				if len(k) > 13 && k[:13] == "SCHILY.xattr." {
					got[k] = v
				}
			}
			if len(got) != len(records) {
				t.Errorf("%s: xattr records %q, want %q", p, got, records)
			}
			for k, v := range records {
				if gv, ok := got[k]; !ok || gv != v {
					t.Errorf("%s: %s = %q (present %v), want %q", p, k, gv, ok, v)
				}
			}
		}
		if e := files["usr/bin/pong"]; e.Header == nil || e.Header.Typeflag != tar.TypeSymlink {
			t.Errorf("usr/bin/pong is not a symlink")
		}
	})
	tests := []struct {
		name  string
		entry apktest.RawEntry
		want  string
	}{
		{"overlay opaque directory", apktest.RawEntry{Header: tar.Header{Name: "etc", Typeflag: tar.TypeDir, Mode: 0o755,
			PAXRecords: map[string]string{"SCHILY.xattr.trusted.overlay.opaque": "y"}}},
			`[x86_64] install evil-1.0-r0: "etc": extended attribute in the trusted namespace, which packages may not set: "trusted.overlay.opaque"`},
		{"trusted attribute on a file", apktest.RawEntry{Header: tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644,
			PAXRecords: map[string]string{"SCHILY.xattr.trusted.x": "1"}}, Data: []byte("f")},
			`[x86_64] install evil-1.0-r0: "f": extended attribute in the trusted namespace, which packages may not set: "trusted.x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newHostileRepo(t).add(apktest.Package{Name: "base", Version: "1.0-r0", Files: []apktest.File{
				{Path: "etc", Dir: true}, {Path: "etc/passwd", Data: []byte("root:x:0:0::/root:/bin/sh\n")}}}).
				addRaw(raw("evil", tt.entry)).writeIndex(nil)
			refused(t, r.config("base", "evil"), tt.want)
		})
	}
	checkServes(t)
}
