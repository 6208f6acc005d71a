package integration

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/integration/ocitest"
)

// TestBakeMelangeImage runs `docker buildx bake hello-go-pkg melange-go`
// on dockerfile-syntax-examples/docker-bake.hcl as a user would: the
// melange-go package and, in the same graph, the image whose apko.yaml
// reads the package's repository from the named context "built"
// (target:hello-go-pkg). The image holds the package's files byte for
// byte, trusts the secret key's public half, and after an edit of the
// package's source only the package's layer (and the metadata layer,
// whose installed database names the package's new checksum) changes.
func TestBakeMelangeImage(t *testing.T) {
	requireStack(t)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../dockerfile-syntax-examples")); err != nil {
		t.Fatal(err)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	ctx := filepath.Join(dir, "melange-go")
	writeRepoWith(t, filepath.Join(ctx, "packages"), nil, strings.TrimSpace(string(goroot)))
	// A fixed signing key: without one the rebuilt package would be
	// signed with a new key, and the image would trust that one instead.
	key, err := sign.GenerateSigner("melange.rsa.pub", 2048)
	if err != nil {
		t.Fatal(err)
	}
	// Next to the bake file, not in the context.
	keyFile := filepath.Join(dir, "melange.rsa")
	if err := os.WriteFile(keyFile, key.PrivateKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := key.PublicKeyPEM()
	if err != nil {
		t.Fatal(err)
	}

	type result struct {
		pkg    map[string]apkEntry // the package's files, from the package target's output
		img    ocitest.Image
		layout *ocitest.Layout
		log    string
	}
	bake := func() result {
		t.Helper()
		out, err := os.MkdirTemp(dir, "out") // bake asks for --allow to write outside its directory
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("docker", "buildx", "bake", "--builder", builderName(), "--progress", "plain", "hello-go-pkg", "melange-go")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "KILN_IMAGE="+frontendImage(), "OUTPUT_DIR="+out, "MELANGE_KEY="+keyFile)
		log, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker buildx bake: %v\n%s", err, lastLines(string(log), 30))
		}
		repo := filepath.Join(out, "hello-go-pkg")
		if got, _ := os.ReadFile(filepath.Join(repo, "melange.rsa.pub")); !bytes.Equal(got, pub) {
			t.Fatalf("hello-go-pkg/melange.rsa.pub is not the secret's public key:\n%s", got)
		}
		p := readRepo(t, repo, "x86_64")["hello-go"] // verifies the index and packages with that key
		if p == nil {
			t.Fatal("the package target built no hello-go")
		}
		l := loadLayout(t, filepath.Join(out, "melange-go.tar"))
		return result{pkg: apkEntries(t, filepath.Join(repo, "x86_64", p.Filename())), img: onlyImage(t, l), layout: l, log: string(log)}
	}
	// check compares the image with the package it was baked with.
	check := func(r result) {
		t.Helper()
		fs, err := r.layout.Rootfs(r.img)
		if err != nil {
			t.Fatal(err)
		}
		files := 0
		for name, e := range r.pkg {
			if e.hdr.Typeflag != '0' {
				continue
			}
			files++
			got, ok := fs[name]
			if !ok {
				t.Errorf("the image lacks the package's %s", name)
			} else if !bytes.Equal(got.Data, e.data) || got.Header.Mode != e.hdr.Mode {
				t.Errorf("the image's %s (%d bytes, mode %o) is not the package's (%d bytes, mode %o)", name, len(got.Data), got.Header.Mode, len(e.data), e.hdr.Mode)
			}
		}
		if _, ok := r.pkg["usr/bin/hello-go"]; !ok || files == 0 {
			t.Fatalf("the package holds no usr/bin/hello-go (%d files)", files)
		}
		if got := fs["etc/apk/keys/melange.rsa.pub"]; !bytes.Equal(got.Data, pub) {
			t.Errorf("the image's /etc/apk/keys/melange.rsa.pub is not the secret's public key:\n%s", got.Data)
		}
	}

	first := bake()
	check(first)

	// Only the package's source changes.
	mainGo := filepath.Join(ctx, "main.go")
	src, err := os.ReadFile(mainGo)
	if err != nil {
		t.Fatal(err)
	}
	// Still one write: the test step pipes the output into grep -q,
	// which may leave before a second write, and under pipefail that
	// write's SIGPIPE fails the step (as it would in melange).
	edited := strings.Replace(string(src), `version %s\n"`, `version %s, edited\n"`, 1)
	if edited == string(src) {
		t.Fatal("main.go: no greeting to edit")
	}
	if err := os.WriteFile(mainGo, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	second := bake()
	check(second)
	if bytes.Equal(first.pkg["usr/bin/hello-go"].data, second.pkg["usr/bin/hello-go"].data) {
		t.Fatal("editing main.go did not change usr/bin/hello-go")
	}
	// The package's build environment came from the cache; its build
	// step and the image's install ran again.
	ran := bakeSteps(second.log)
	for step, want := range map[string]bool{
		"[hello-go-pkg x86_64] install kiln-baselayout-1.0-r0, busybox-1.36.1-r0, build-base-1-r0": false,
		"[hello-go-pkg x86_64] build step 1: go/build":                                             true,
		"[image-melange-go x86_64] install kiln-baselayout-1.0-r0, hello-go-0.3.1-r2":              true,
	} {
		got, ok := false, false
		for name, r := range ran {
			if strings.HasPrefix(name, step) {
				got, ok = r, true
			}
		}
		if !ok || got != want {
			t.Errorf("step %q: in the progress %v, ran %v; want ran %v\n%s", step, ok, got, want, stepLines(second.log, step))
		}
	}

	// The layers: the one holding the package and the metadata layer
	// (last) change; every other is the same blob.
	a, b := first.img.Manifest.Layers, second.img.Manifest.Layers
	if len(a) != len(b) {
		t.Fatalf("layer count %d -> %d", len(a), len(b))
	}
	pkgLayer := -1
	for i, d := range b {
		entries, err := second.layout.Layer(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.TrimPrefix(e.Header.Name, "./") == "usr/bin/hello-go" {
				pkgLayer = i
			}
		}
	}
	var changed, want []int
	for i := range a {
		if a[i].Digest != b[i].Digest {
			changed = append(changed, i)
		}
	}
	want = append(want, pkgLayer, len(a)-1)
	if pkgLayer < 0 || pkgLayer == len(a)-1 || !slices.Equal(changed, want) {
		t.Errorf("changed layers %v of %d, want %v (hello-go's layer, then the metadata layer)", changed, len(a), want)
	}
}

// bakeSteps maps the "[target arch] name" of every step in bake's plain
// progress to whether it ran (true) or came from the cache (false).
func bakeSteps(log string) map[string]bool {
	steps := map[string]bool{}
	ids := map[string][]string{} // a shared step shows under each target's name
	re := regexp.MustCompile(`^#(\d+) (\[[\w.-]+ [\w]+\] .*)$`)
	lines := strings.Split(log, "\n")
	for _, line := range lines {
		if m := re.FindStringSubmatch(line); m != nil {
			ids[m[1]] = append(ids[m[1]], m[2])
			steps[m[2]] = true
		}
	}
	for _, line := range lines {
		if f := strings.Fields(line); len(f) == 2 && f[1] == "CACHED" {
			for _, name := range ids[strings.TrimPrefix(f[0], "#")] {
				steps[name] = false
			}
		}
	}
	return steps
}

// stepLines are the progress lines of the steps whose name starts with
// prefix.
func stepLines(log, prefix string) string {
	var ids []string
	for _, line := range strings.Split(log, "\n") {
		if id, name, ok := strings.Cut(line, " "); ok && strings.HasPrefix(name, prefix) {
			ids = append(ids, id+" ")
		}
	}
	var out []string
	for _, line := range strings.Split(log, "\n") {
		for _, id := range ids {
			if strings.HasPrefix(line, id) {
				out = append(out, line)
			}
		}
	}
	return strings.Join(out, "\n")
}
