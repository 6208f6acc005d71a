package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestLintCommand checks kiln lint's output and exit status: one line per
// finding with its position, config errors at their line, exit 1 only when
// something is at error level.
func TestLintCommand(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"clean.yaml": "contents:\n  repositories: [https://r.example/os]\n  keyring: [https://r.example/k.rsa.pub]\n  packages: [hello=2.12-r0]\n",
		"warn.yaml":  "contents:\n  repositories: [http://r.example/os]\n  keyring: [https://r.example/k.rsa.pub]\n  packages: [hello]\n",
		"key.yaml":   "contents:\n  repositories: [https://r.example/os]\n  keyring: [http://r.example/k.rsa.pub]\n  packages: [hello=2.12-r0]\n",
		"bad.yaml":   "contents:\n  repositories: [https://r.example/os]\nentrypont: {}\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		files  []string
		out    string
		status int
	}{
		{[]string{"clean.yaml"}, "", 0},
		{[]string{"warn.yaml"}, "warn.yaml:2:18: warning: PlainHTTPRepository: repositories entry http://r.example/os is served over plain HTTP: use https://\n" +
			`warn.yaml:4:14: warning: UnpinnedPackage: package "hello" has no version: pin it (hello=VERSION, or hello~VERSION to follow patch releases) or lock the config (kiln lock)` + "\n", 0},
		{[]string{"clean.yaml", "key.yaml"}, "key.yaml:3:13: error: PlainHTTPKey: key http://r.example/k.rsa.pub is fetched over plain HTTP: use https://, or a key file in the build context\n", 1},
		{[]string{"bad.yaml", "clean.yaml"}, `bad.yaml:3:1: error: unknown field "entrypont" (known: accounts, annotations, archs, certificates, cmd, contents, entrypoint, environment, format, include, layering, paths, stop-signal, vcs-url, volumes, work-dir); did you mean "entrypoint"?` + "\n", 1},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		args := append([]string{"lint", "--context", dir}, tt.files...)
		t.Chdir(dir)
		status := run(context.Background(), args, &out, &errOut)
		if out.String() != tt.out || status != tt.status {
			t.Errorf("kiln lint %v: status %d, stdout:\n%s\nwant status %d, stdout:\n%s\nstderr: %s", tt.files, status, out.String(), tt.status, tt.out, errOut.String())
		}
	}
}
