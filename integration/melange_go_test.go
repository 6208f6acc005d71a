package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMelangeGoImage packages a Go program with melange's go/build (the go
// toolchain package made from the host's Go), then builds an image of the
// package with kiln's apko path and runs it.
func TestMelangeGoImage(t *testing.T) {
	requireStack(t)
	ctx := melangeContext(t, "melange-go", true)
	out, log := buildPackages(t, ctx, "--platform", "linux/amd64")
	recs := readRepo(t, out, "x86_64")
	p := recs["hello-go"]
	if p == nil || p.Version != "0.3.1-r2" {
		t.Fatalf("packages %s", names(recs))
	}
	if !strings.Contains(log, "test step 1: hello-go") {
		t.Errorf("the test did not run:\n%s", lastLines(log, 20))
	}
	bin := apkEntries(t, filepath.Join(out, "x86_64", p.Filename()))["usr/bin/hello-go"]
	if bin.hdr == nil || bin.hdr.Mode&0o111 == 0 || !strings.HasPrefix(string(bin.data), "\x7fELF") {
		t.Fatalf("usr/bin/hello-go: %+v", bin.hdr)
	}

	// The image: the built repository next to the test one, in the
	// context as ./built.
	if err := os.Rename(out, filepath.Join(ctx, "built")); err != nil {
		if err := copyDir(out, filepath.Join(ctx, "built")); err != nil {
			t.Fatal(err)
		}
	}
	ref := pushImage(t, ctx, "kiln-e2e/hello-go", "--platform", "linux/amd64")
	l, _ := buildOCI(t, ctx, "--platform", "linux/amd64")
	img := onlyImage(t, l)
	fs, err := l.Rootfs(img)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fs["usr/bin/hello-go"]; !ok {
		t.Fatal("the image lacks usr/bin/hello-go")
	}
	got := runImage(t, ref, "linux/amd64", img.Config.Config.Entrypoint...)
	if got != "hello from go, version 0.3.1-r2\n" {
		t.Errorf("the image printed %q", got)
	}
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
