package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
)

func testRepo(t *testing.T) (dir, key string) {
	t.Helper()
	s, err := apktest.Signer()
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	key, err = apktest.WriteKey(filepath.Join(dir, "keys"), s)
	if err != nil {
		t.Fatal(err)
	}
	r := apktest.NewRepo(filepath.Join(dir, "repo"), s)
	for _, arch := range []string{"x86_64", "aarch64"} {
		r.Add(arch,
			apktest.Package{Name: "hello", Version: "2.12-r0", Depends: []string{"so:libhello.so.1"}},
			apktest.Package{Name: "libhello", Version: "1.0-r0", Provides: []string{"so:libhello.so.1=1.0"}},
		)
	}
	if _, err := r.Write(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "repo"), key
}

func TestResolveCommand(t *testing.T) {
	repoDir, key := testRepo(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(repoDir)))
	defer srv.Close()
	otherKey := filepath.Join(t.TempDir(), "other.rsa.pub")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"directory", []string{"--repository", repoDir, "--keyring", key, "--arch", "x86_64", "hello"}, 0, "libhello-1.0-r0\nhello-2.12-r0\n", ""},
		{"http", []string{"--repository", srv.URL, "--keyring", key, "--arch", "aarch64", "hello"}, 0, "libhello-1.0-r0\nhello-2.12-r0\n", ""},
		{"oci arch name", []string{"--repository", repoDir, "--keyring", key, "--arch", "arm64", "hello"}, 0, "libhello-1.0-r0\nhello-2.12-r0\n", ""},
		{"two archs together", []string{"--repository", repoDir, "--keyring", key, "--arch", "x86_64", "--arch", "aarch64", "libhello"}, 0, "# x86_64\nlibhello-1.0-r0\n# aarch64\nlibhello-1.0-r0\n", ""},
		{"no keyring", []string{"--repository", repoDir, "hello"}, 2, "", "--allow-untrusted"},
		{"missing key file", []string{"--repository", repoDir, "--keyring", otherKey, "hello"}, 1, "", "other.rsa.pub"},
		{"unsatisfiable", []string{"--repository", repoDir, "--keyring", key, "--arch", "x86_64", "hello>=3"}, 1, "", "world: hello>=3: only versions 2.12-r0 available"},
		{"bad constraint", []string{"--repository", repoDir, "--keyring", key, "--arch", "x86_64", "hello>="}, 1, "", `invalid dependency "hello>="`},
		{"unknown arch", []string{"--repository", repoDir, "--keyring", key, "--arch", "sparc", "hello"}, 2, "", `unknown architecture "sparc"`},
		{"404 repository", []string{"--repository", srv.URL + "/nope", "--keyring", key, "--arch", "x86_64", "hello"}, 1, "", "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), append([]string{"resolve"}, tt.args...), &out, &errb)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.wantCode, errb.String())
			}
			if tt.wantOut != "" && out.String() != tt.wantOut {
				t.Errorf("stdout %q, want %q", out.String(), tt.wantOut)
			}
			if tt.wantErr != "" && !strings.Contains(errb.String(), tt.wantErr) {
				t.Errorf("stderr %q, want %q", errb.String(), tt.wantErr)
			}
		})
	}
}

func TestResolveJSON(t *testing.T) {
	repoDir, key := testRepo(t)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"resolve", "--repository", repoDir, "--keyring", key, "--arch", "x86_64", "--json", "hello"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got []resolvedJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Name != "hello" || got[1].Version != "2.12-r0" || got[1].Arch != "x86_64" ||
		got[1].Repository != repoDir || !strings.HasPrefix(got[1].Checksum, "Q1") || got[1].Size == 0 {
		t.Fatalf("json %+v", got)
	}
}

func TestResolveAlpine(t *testing.T) {
	repo := filepath.Join("..", "..", "..", "shared", "testdata", "alpine-3.16")
	if _, err := filepathAbsExists(repo); err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	// The index's signing key is not in shared/testdata: verification is
	// skipped explicitly here.
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"resolve", "--allow-untrusted", "--repository", repo, "--arch", "x86_64", "nginx"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := "musl-1.2.3-r2\nbusybox-1.35.0-r17\nlibcrypto1.1-1.1.1s-r0\npcre-8.45-r2\nlibssl1.1-1.1.1s-r0\nzlib-1.2.12-r3\nnginx-1.22.1-r0\nssl_client-1.35.0-r17\n"
	if out.String() != want {
		t.Fatalf("nginx closure:\n%s", out.String())
	}
}

func filepathAbsExists(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	_, err = os.Stat(abs)
	return abs, err
}

func TestShowPackages(t *testing.T) {
	repoDir, key := testRepo(t)
	dir := filepath.Dir(repoDir)
	cfg := "contents:\n  repositories:\n    - ./repo\n  keyring:\n    - ./keys/" + filepath.Base(key) + "\n  packages:\n    - hello\narchs: [x86_64, arm64]\n"
	os.WriteFile(filepath.Join(dir, "apko.yaml"), []byte(cfg), 0o644)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"show-packages", "--context", dir, filepath.Join(dir, "apko.yaml")}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := "# x86_64\nlibhello 1.0-r0\nhello 2.12-r0\n# aarch64\nlibhello 1.0-r0\nhello 2.12-r0\n"
	if out.String() != want {
		t.Fatalf("got %q", out.String())
	}
	out.Reset()
	errb.Reset()
	os.WriteFile(filepath.Join(dir, "apko.yaml"), []byte(strings.Replace(cfg, "- hello", "- hello>=3", 1)), 0o644)
	if code := run(context.Background(), []string{"show-packages", "--context", dir, "--arch", "x86_64", filepath.Join(dir, "apko.yaml")}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "hello>=3: only versions 2.12-r0") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}
