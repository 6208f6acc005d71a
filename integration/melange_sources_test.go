package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sourceTarball is an upstream release tarball: hello-1.0/ with a README
// and a script.
func sourceTarball(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, f := range []struct{ name, body string }{
		{"hello-1.0/README", "upstream readme\n"},
		{"hello-1.0/hello.sh", "#!/bin/sh\necho hello from the tarball\n"},
	} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(f.body)), ModTime: time.Unix(0, 0)})
		tw.Write([]byte(f.body))
	}
	tw.Close()
	zw.Close()
	return b.Bytes()
}

// gitRepo makes a repository with one commit, served over git's "dumb"
// HTTP protocol from a directory, and returns that directory and the
// commit.
func gitRepo(t *testing.T) (string, string) {
	t.Helper()
	work, bare := t.TempDir(), filepath.Join(t.TempDir(), "repo.git")
	env := append(os.Environ(), "GIT_AUTHOR_NAME=kiln", "GIT_AUTHOR_EMAIL=kiln@example.invalid", "GIT_COMMITTER_NAME=kiln",
		"GIT_COMMITTER_EMAIL=kiln@example.invalid", "GIT_AUTHOR_DATE=2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2024-01-01T00:00:00Z")
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git(work, "init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(work, "VERSION"), []byte("from git\n"), 0o644)
	git(work, "add", "VERSION")
	git(work, "commit", "-q", "-m", "first")
	git(work, "tag", "v1.0")
	commit := git(work, "rev-parse", "HEAD")
	git(work, "clone", "-q", "--bare", work, bare)
	git(bare, "update-server-info")
	return filepath.Dir(bare), commit
}

// TestMelangeSources fetches a tarball and checks out a git repository
// from loopback servers: both are BuildKit sources pinned to their
// digests, and a wrong digest fails the build.
func TestMelangeSources(t *testing.T) {
	requireStack(t)
	tarball := sourceTarball(t)
	sum := sha256.Sum256(tarball)
	gitDir, commit := gitRepo(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/hello-1.0.tar.gz", func(w http.ResponseWriter, r *http.Request) { w.Write(tarball) })
	mux.Handle("/git/", http.StripPrefix("/git/", http.FileServer(http.Dir(gitDir))))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	ctx := melangeContext(t, "melange-shell", false)
	config := func(sha string) string {
		return `package:
  name: sources
  version: "1.0"
  epoch: 0
  description: built from fetched and checked-out sources
  copyright:
    - license: MIT
environment:
  contents:
    repositories: [./packages]
    keyring: [./packages/kiln-test.rsa.pub]
    packages: [busybox]
pipeline:
  - uses: fetch
    with:
      uri: ` + base + `/hello-1.0.tar.gz
      expected-sha256: ` + sha + `
  - uses: git-checkout
    with:
      repository: ` + base + `/git/repo.git
      tag: v1.0
      expected-commit: ` + commit + `
      destination: from-git
  - runs: |
      mkdir -p ${{targets.destdir}}/usr/share/sources
      cp README hello.sh from-git/VERSION ${{targets.destdir}}/usr/share/sources/
      test -e hello-1.0.tar.gz
`
	}
	os.WriteFile(filepath.Join(ctx, "melange.yaml"), []byte(config(hex.EncodeToString(sum[:]))), 0o644)
	out, log := buildPackages(t, ctx, "--platform", "linux/amd64")
	files := apkEntries(t, filepath.Join(out, "x86_64", "sources-1.0-r0.apk"))
	for p, want := range map[string]string{"usr/share/sources/README": "upstream readme\n", "usr/share/sources/VERSION": "from git\n"} {
		if got := string(files[p].data); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	for _, want := range []string{"fetch " + base + "/hello-1.0.tar.gz", "git-checkout " + base + "/git/repo.git"} {
		if !strings.Contains(log, want) {
			t.Errorf("no %q in the progress", want)
		}
	}

	os.WriteFile(filepath.Join(ctx, "melange.yaml"), []byte(config(strings.Repeat("ab", 32))), 0o644)
	if out, err := tryBuildx(ctx, "melange.yaml", "--platform", "linux/amd64", "--output", "type=local,dest="+t.TempDir()); err == nil ||
		!strings.Contains(out, "digest mismatch") {
		t.Errorf("a wrong sha256 did not fail the fetch:\n%s", lastLines(out, 8))
	}
}
