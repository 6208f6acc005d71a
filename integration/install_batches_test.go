package integration

import (
	"archive/tar"
	"crypto/rand"
	"fmt"
	mathrand "math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
)

// TestInstallBatchesSideBySide builds images of three and more install
// batches, which run side by side, each after the first going through the
// first one's symlinks only. When a later batch goes through a directory
// symlink that a batch in between made, the metadata step's check says
// so and the frontend builds the image again with chained batches, so
// the image is what apk's single tree makes: the file lands through the
// link, and the link stays. Without such a symlink, each install runs
// once.
func TestInstallBatchesSideBySide(t *testing.T) {
	requireStack(t)
	// 25 packages in world order (the install order here: no package
	// depends on another): pkg-12-linker cannot be in the first batch
	// (at most 12 layers), and pkg-24-user is after the end of its batch.
	var names []string
	for i := 0; i < 25; i++ {
		switch i {
		case 12:
			names = append(names, "pkg-12-linker")
		case 24:
			names = append(names, "pkg-24-user")
		default:
			names = append(names, fmt.Sprintf("pkg-%02d", i))
		}
	}
	// A seed per run: every step is new to a buildkitd that ran this test.
	seed := rand.Text()
	// Batches run side by side when those after the first install 16 MiB
	// or more (plan2llb): pkg-13 carries that much.
	bulk := make([]byte, 17<<20)
	var key [32]byte
	copy(key[:], seed)
	mathrand.NewChaCha8(key).Read(bulk)
	build := func(t *testing.T, linkerFiles []apktest.File) (map[string]tar.Header, string) {
		r := newHostileRepo(t)
		for _, n := range names {
			p := apktest.Package{Name: n, Version: "1.0-r0", Files: []apktest.File{
				{Path: "usr", Dir: true}, {Path: "usr/share", Dir: true}, {Path: "usr/share/" + n, Data: []byte(seed)}}}
			switch n {
			case "pkg-13":
				p.Files = append(p.Files, apktest.File{Path: "usr/share/bulk", Data: bulk})
			case "pkg-12-linker":
				p.Files = append(p.Files, linkerFiles...)
			case "pkg-24-user":
				p.Files = append(p.Files, apktest.File{Path: "opt", Dir: true}, apktest.File{Path: "opt/current", Dir: true},
					apktest.File{Path: "opt/current/bin", Dir: true}, apktest.File{Path: "opt/current/bin/hello", Data: []byte("hello")})
			}
			r.add(p)
		}
		l, log := buildOCI(t, r.writeIndex(nil).config(names...), "--no-cache")
		fs, err := l.Rootfs(onlyImage(t, l))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]tar.Header{}
		for p, e := range fs {
			out[p] = *e.Header
		}
		return out, log
	}
	batchOf := func(t *testing.T, log string) map[string]int {
		batch := map[string]int{}
		i := 0
		for name := range installSteps(log) {
			i++
			for _, n := range names {
				if strings.Contains(name, n+"-1.0-r0") {
					batch[n] = i
				}
			}
		}
		if batch["pkg-00"] == batch["pkg-12-linker"] || batch["pkg-12-linker"] == batch["pkg-24-user"] || batch["pkg-00"] == batch["pkg-24-user"] {
			t.Fatalf("install steps %v: the test needs pkg-00, pkg-12-linker and pkg-24-user in three batches", installSteps(log))
		}
		return batch
	}

	t.Run("through a link of a batch between", func(t *testing.T) {
		fs, log := build(t, []apktest.File{{Path: "opt", Dir: true}, {Path: "opt/tool-1", Dir: true}, {Path: "opt/current", Symlink: "tool-1"}})
		batchOf(t, log)
		if h := fs["opt/current"]; h.Typeflag != tar.TypeSymlink || h.Linkname != "tool-1" {
			t.Errorf("opt/current: %+v, want the linker's symlink to tool-1", h)
		}
		if h := fs["opt/tool-1/bin/hello"]; h.Typeflag != tar.TypeReg {
			t.Errorf("opt/tool-1/bin/hello: %+v, want the user's file placed through the link", h)
		}
		if n := installRuns(log, "pkg-24-user-1.0-r0"); n != 2 {
			t.Errorf("the user's install step ran %d times, want twice: side by side, then chained", n)
		}
		// The progress says why the installs ran again.
		if !regexp.MustCompile(`(?m)^#\d+ \[x86_64\] generate installed database, accounts and links \(batches one after another: /opt/current\b.*\)$`).MatchString(log) {
			t.Errorf("no metadata step named with the reason the batches ran again:\n%s", log)
		}
	})
	t.Run("no link between", func(t *testing.T) {
		fs, log := build(t, []apktest.File{{Path: "opt", Dir: true}, {Path: "opt/tool-1", Dir: true}})
		batchOf(t, log)
		if h := fs["opt/current/bin/hello"]; h.Typeflag != tar.TypeReg {
			t.Errorf("opt/current/bin/hello: %+v, want the user's file", h)
		}
		if n := installRuns(log, "pkg-24-user-1.0-r0"); n != 1 {
			t.Errorf("the user's install step ran %d times, want once", n)
		}
		if strings.Contains(log, "batches one after another") {
			t.Errorf("steps named as run again one after another:\n%s", log)
		}
	})
}

// installRuns counts the install steps naming pkg that ran (completed
// without coming from the cache).
func installRuns(log, pkg string) int {
	re := regexp.MustCompile(`^#(\d+) \[x86_64\] install (.*)$`)
	ids := map[string]bool{}
	for _, line := range strings.Split(log, "\n") {
		if m := re.FindStringSubmatch(line); m != nil && strings.Contains(m[2], pkg) {
			ids[m[1]] = true
		}
	}
	runs := 0
	for _, line := range strings.Split(log, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[1] == "DONE" && ids[strings.TrimPrefix(f[0], "#")] {
			runs++
		}
	}
	return runs
}
