package integration

import (
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/apk/sign"
)

// TestHostileUnsigned: as in apk, a package needs no signature of its own
// when the signed index pins it: the index's C: covers the control
// section, whose datahash covers the data. Without a datahash nothing
// signed would cover the files, so the package is refused; a signature
// by a key the keyring trusts must still verify.
func TestHostileUnsigned(t *testing.T) {
	requireStack(t)
	files := []apktest.RawEntry{rawDir("opt"), rawFile("opt/tool", "tool", 0o755)}
	stranger, err := sign.GenerateSigner("stranger.rsa.pub", 2048)
	if err != nil {
		t.Fatal(err)
	}
	// A key of the trusted name that is not the trusted key.
	impostor, err := sign.GenerateSigner(apktest.KeyName, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		add  func(r *hostileRepo)
		want string // "" when the image builds
	}{
		{"unsigned with a datahash", func(r *hostileRepo) { r.addRawUnsigned(raw("tool", files...)) }, ""},
		{"signed by a key the keyring does not list", func(r *hostileRepo) {
			p := raw("tool", files...)
			p.Signer, p.Alg = stranger, sign.SHA256
			r.addRaw(p)
		}, ""},
		{"unsigned without a datahash", func(r *hostileRepo) {
			p := raw("tool", files...)
			p.NoDataHash = true
			r.addRawUnsigned(p)
		}, "[x86_64] install tool-1.0-r0.apk: no datahash: the index checksum trusts an unsigned package only through its datahash, and .PKGINFO has none"},
		{"signed by an impostor of the trusted key", func(r *hostileRepo) {
			p := raw("tool", files...)
			p.Signer, p.Alg = impostor, sign.SHA256
			r.addRaw(p)
		}, "[x86_64] install tool-1.0-r0.apk: signature does not verify: RSA-SHA256 by key " + apktest.KeyName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newHostileRepo(t)
			tt.add(r)
			ctx := r.writeIndex(nil).config("tool")
			if tt.want != "" {
				refused(t, ctx, tt.want)
				return
			}
			files, _ := builtRootfs(t, ctx)
			if e, ok := files["opt/tool"]; !ok || string(e.Data) != "tool" {
				t.Errorf("image lacks opt/tool")
			}
		})
	}
	checkServes(t)
}
