package integration

import (
	"reflect"
	"strings"
	"testing"
)

// TestServiceBundle builds apko's service bundle and runs its entrypoint:
// s6-svscan over /sv starts every service (the test repository's s6 runs
// each once, in place of supervising it).
func TestServiceBundle(t *testing.T) {
	requireStack(t)
	ctx := exampleContext(t, "service-bundle", nil, 0)
	l, _ := buildOCI(t, ctx, "--platform", "linux/amd64")
	img := onlyImage(t, l)
	if got := img.Config.Config.Entrypoint; !reflect.DeepEqual(got, []string{"/bin/s6-svscan", "/sv"}) {
		t.Errorf("entrypoint %q", got)
	}
	fs, err := l.Rootfs(img)
	if err != nil {
		t.Fatal(err)
	}
	run := fs["sv/greeter/run"]
	if run.Header == nil || string(run.Data) != "#!/bin/execlineb\n/usr/bin/hello\n" || run.Header.Mode&0o777 != 0o755 {
		t.Fatalf("sv/greeter/run: %+v %q", run.Header, run.Data)
	}
	if h := fs["sv"].Header; h == nil || h.Mode&0o777 != 0o777 {
		t.Errorf("sv: %+v, want a 0777 directory as apko makes it", h)
	}
	if world := string(fs["etc/apk/world"].Data); !strings.Contains(world, "s6=2.12-r0\n") || !strings.Contains(world, "execline=2.9-r0\n") {
		t.Errorf("world %q lacks s6 and what it needs", world)
	}

	ref := pushImage(t, ctx, "kiln-e2e/service-bundle", "--platform", "linux/amd64")
	out := runImage(t, ref, "linux/amd64", img.Config.Config.Entrypoint...)
	for _, want := range []string{"hello from kiln 2.12-r0", "service clock ran"} {
		if !strings.Contains(out, want) {
			t.Errorf("running the bundle printed %q, want %q", out, want)
		}
	}
}
