package integration

import (
	"sort"
	"strings"
	"testing"
)

// TestNoPackages builds a config that installs nothing, as apko does: one
// layer of apko's skeleton, the accounts and an empty apk database.
func TestNoPackages(t *testing.T) {
	requireStack(t)
	ctx := exampleContext(t, "no-packages", nil, 0)
	l, _ := buildOCI(t, ctx, "--platform", "linux/amd64")
	img := onlyImage(t, l)
	if n := len(img.Manifest.Layers); n != 1 {
		t.Errorf("%d layers, want the metadata layer alone", n)
	}
	fs, err := l.Rootfs(img)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for p := range fs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	want := "dev dev/console dev/null dev/random dev/urandom dev/zero etc etc/apk etc/apk/arch etc/apk/keys " +
		"etc/apk/keys/kiln-test.rsa.pub etc/apk/repositories etc/apk/world etc/passwd etc/shadow home home/nonroot " +
		"lib lib/apk opt proc tmp usr usr/lib usr/lib/apk usr/lib/apk/db usr/lib/apk/db/installed usr/lib/apk/db/lock " +
		"usr/lib/apk/db/scripts.tar usr/lib/apk/db/triggers usr/lib/apk/exec var var/cache var/cache/apk var/cache/misc"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("image tree:\n%s\nwant:\n%s", got, want)
	}
	if got := string(fs["etc/passwd"].Data); got != "nonroot:x:65532:65532:Account created by apko:/home/nonroot:/bin/sh\n" {
		t.Errorf("passwd %q", got)
	}
	if len(fs["etc/apk/world"].Data) != 0 || len(fs["usr/lib/apk/db/installed"].Data) != 0 {
		t.Errorf("world %q, installed %q: want both empty", fs["etc/apk/world"].Data, fs["usr/lib/apk/db/installed"].Data)
	}
	if img.Config.Config.User != "65532" {
		t.Errorf("user %q", img.Config.Config.User)
	}
}
