package pkg

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
)

// A .PKGINFO name or version outside apk's grammar is refused on reading
// and on writing: both become file names (name-version.apk, scripts.tar
// entries) and URL parts.
func TestPkgInfoBadNames(t *testing.T) {
	tests := []struct {
		name, pkgname, pkgver, want string
	}{
		{"name climbs", "../../etc/cron.d/x", "1.0-r0", `pkgname: package name "../../etc/cron.d/x" must start with a letter or digit`},
		{"name has a slash", "a/b", "1.0-r0", `pkgname: package name "a/b" has '/' at byte 1`},
		{"name has a space", "a b", "1.0-r0", `pkgname: package name "a b" has ' ' at byte 1`},
		{"version has a slash", "ok", "1.0/../../x", `pkgver: package version "1.0/../../x" has '/' at byte 3`},
		{"version is a word", "ok", "latest", `pkgver: package version "latest" must start with a digit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := "pkgname = " + tt.pkgname + "\npkgver = " + tt.pkgver + "\n"
			_, _, err := ParsePkgInfo([]byte(text))
			if !errors.Is(err, index.ErrBadName) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParsePkgInfo = %v, want ErrBadName with %q", err, tt.want)
			}
			info := fixtureInfo()
			info.Name, info.Version = tt.pkgname, tt.pkgver
			if _, err := Write(&bytes.Buffer{}, info, fixtureEntries(), WriteOptions{}); !errors.Is(err, index.ErrBadName) {
				t.Errorf("Write = %v, want ErrBadName", err)
			}
		})
	}
}
