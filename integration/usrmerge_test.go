package integration

import (
	"archive/tar"
	"strings"
	"testing"
)

// TestUsrMerge installs packages that ship /bin paths over a usr-merged
// baselayout (/bin -> usr/bin in a lower layer): the files land in
// /usr/bin through the link, as apk puts them, and the link survives.
func TestUsrMerge(t *testing.T) {
	requireStack(t)
	ctx := exampleContext(t, "usr-merge", nil, 0)
	l, _ := buildOCI(t, ctx, "--platform", "linux/amd64")
	img := onlyImage(t, l)
	fs, err := l.Rootfs(img)
	if err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib"} {
		if h := fs[link].Header; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != target {
			t.Errorf("%s: %+v, want a link to %s", link, h, target)
		}
	}
	if h := fs["usr/bin/busybox"].Header; h == nil || h.Typeflag != tar.TypeReg {
		t.Errorf("usr/bin/busybox: %+v, want busybox's bin/busybox there", h)
	}
	if h := fs["usr/bin/sh"].Header; h == nil || h.Linkname != "/bin/busybox" {
		t.Errorf("usr/bin/sh: %+v, want the applet link", h)
	}
	// The database names the paths as the package does.
	var busybox bool
	for _, p := range installedDB(t, fs) {
		if p.Name != "busybox" {
			continue
		}
		for _, f := range p.Files() {
			busybox = busybox || f.Path == "bin/busybox"
		}
	}
	if !busybox {
		t.Error("the installed database does not list bin/busybox")
	}
	// No layer holds a bin directory that would hide the link below it.
	for _, d := range img.Manifest.Layers {
		entries, err := l.Layer(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.TrimSuffix(e.Header.Name, "/") == "bin" && e.Header.Typeflag == tar.TypeDir {
				t.Errorf("layer %s has a bin directory", d.Digest)
			}
		}
	}
	ref := pushImage(t, ctx, "kiln-e2e/usr-merge", "--platform", "linux/amd64")
	if out := runImage(t, ref, "linux/amd64", img.Config.Config.Entrypoint...); !strings.Contains(out, "merged") || !strings.Contains(out, "busybox") {
		t.Errorf("running the image printed %q", out)
	}
}
