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

// TestLintMelange checks kiln lint on melange builds: compiled for
// x86_64 and aarch64 with --pipeline-dir before the built-ins, findings
// at their lines, unknown pipelines and compile errors failing it.
func TestLintMelange(t *testing.T) {
	dir := t.TempDir()
	const head = "package:\n  name: hello\n  version: 1.0.0\nenvironment:\n  contents:\n    packages: [busybox=1.36.1-r0]\n"
	files := map[string]string{
		"clean.yaml":           head + "pipeline:\n  - uses: mine/build\n  - uses: go/build\n    with: {packages: ., output: hello}\n",
		"network.yaml":         head + "pipeline:\n  - uses: mine/build\n  - if: ${{build.arch}} == 'aarch64'\n    runs: curl -O https://example.com/arm-only.bin\n",
		"unknown.yaml":         head + "pipeline:\n  - uses: mine/biuld\n  - uses: fetch\n    with: {uri: https://example.com/x.tgz, expected-none: true}\n",
		"broken.yaml":          head + "pipeline:\n  - runs: echo ${{vars.nope}}\n",
		"ci/mine/build.yaml":   "name: build it\npipeline:\n  - runs: make\n",
		"pipelines/other.yaml": "name: the default directory\npipeline:\n  - runs: make\n",
	}
	for name, content := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		args   []string
		out    string
		status int
	}{
		{[]string{"--pipeline-dir", "ci", "clean.yaml"}, "", 0},
		{[]string{"--pipeline-dir", "ci", "network.yaml"}, `network.yaml:10:11: warning: NeedsNetwork: "curl -O https://example.com/arm-only.bin" (line 1 of the script) needs the network: give the steps the network with --build-arg KILN_NETWORK=1, or fetch sources with uses: fetch or git-checkout, which kiln verifies` + "\n", 0},
		// The step runs on aarch64 only: checking x86_64 alone finds nothing.
		{[]string{"--pipeline-dir", "ci", "--arch", "amd64", "network.yaml"}, "", 0},
		{[]string{"--pipeline-dir", "ci", "--network", "network.yaml"}, "", 0},
		{[]string{"--pipeline-dir", "ci", "unknown.yaml", "clean.yaml"}, `unknown.yaml:8:11: error: UnknownPipeline: uses: mine/biuld names no built-in pipeline and no file mine/biuld.yaml in the pipeline directory; did you mean "mine/build"?` + "\n" +
			"unknown.yaml:9:11: warning: UnverifiedSource: fetch of https://example.com/x.tgz checks no digest (expected-none): give expected-sha256 or expected-sha512\n", 1},
		// Without --pipeline-dir, pipelines/ in the context is the directory.
		{[]string{"clean.yaml"}, `clean.yaml:8:11: error: UnknownPipeline: uses: mine/build names no built-in pipeline and no file mine/build.yaml in the pipeline directory` + "\n", 1},
		{[]string{"broken.yaml"}, "broken.yaml:8:11: error: runs: unknown variable ${{vars.nope}} (not defined in vars: or by var-transforms:)\n", 1},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		t.Chdir(dir)
		status := run(context.Background(), append([]string{"lint", "--context", dir}, tt.args...), &out, &errOut)
		if out.String() != tt.out || status != tt.status {
			t.Errorf("kiln lint %v: status %d, stdout:\n%s\nwant status %d, stdout:\n%s\nstderr: %s", tt.args, status, out.String(), tt.status, tt.out, errOut.String())
		}
	}
}
