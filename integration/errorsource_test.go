package integration

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorsShowTheYAML checks what buildx shows when a config is wrong
// or something it names cannot be fetched: the one ERROR line, with
// file:line:col and what kiln was doing (the URL and HTTP status for a
// download), and the YAML lines around the offending one, marked, as
// buildx shows a Dockerfile's. The config starts with the "# syntax="
// line users write (no BUILDKIT_SYNTAX override), so the snippet must be
// kiln's, never that line.
func TestErrorsShowTheYAML(t *testing.T) {
	requireStack(t)
	const repo = "contents:\n  repositories:\n    - ./packages\n  keyring:\n    - ./packages/kiln-test.rsa.pub\n"
	tests := []struct {
		name    string
		config  string            // after the syntax line; URL stands for the test server's base
		files   map[string]string // more files in the context
		args    []string
		missing string // a path the test server answers 404 for
		err     string // the ERROR line after "failed to solve: "
		snippet string // buildx's snippet, "" for none
	}{
		{
			name:   "YAML syntax error at the line yaml.v3 means",
			config: repo + "  packages:\n    - hello\n   - busybox\n",
			err:    "apko.yaml:10:4: invalid YAML: did not find expected key",
			snippet: `apko.yaml:10
--------------------
   8 |       packages:
   9 |         - hello
  10 | >>>    - busybox
  11 |     
--------------------`,
		},
		{
			name:   "misspelt top-level key",
			config: repo + "  packages: [hello]\nentrypont:\n  command: /usr/bin/hello\n",
			err:    `apko.yaml:9:1: unknown field "entrypont" (known: accounts, annotations, archs, certificates, cmd, contents, entrypoint, environment, format, include, layering, paths, stop-signal, vcs-url, volumes, work-dir); did you mean "entrypoint"?`,
			snippet: `apko.yaml:9
--------------------
   7 |         - ./packages/kiln-test.rsa.pub
   8 |       packages: [hello]
   9 | >>> entrypont:
  10 |       command: /usr/bin/hello
  11 |     
--------------------`,
		},
		{
			name:   "unknown package at its packages entry",
			config: repo + "  packages:\n    - hello\n    - nosuch\n",
			err:    "apko.yaml:10:7: contents.packages: x86_64: world: nosuch: provided by nothing in [./packages]",
			snippet: `apko.yaml:10
--------------------
   8 |       packages:
   9 |         - hello
  10 | >>>     - nosuch
  11 |     
--------------------`,
		},
		{
			name:   "error in an included file shows that file",
			config: "include: base.yaml\ncontents:\n  packages: [hello]\n",
			files:  map[string]string{"base.yaml": repo + "cmd: [not, a, string]\n"},
			err:    "base.yaml:6:6: cmd: expected a string, got a list",
			snippet: `base.yaml:6
--------------------
   4 |       keyring:
   5 |         - ./packages/kiln-test.rsa.pub
   6 | >>> cmd: [not, a, string]
   7 |     
--------------------`,
		},
		{
			name:   "key missing from the context",
			config: "contents:\n  repositories:\n    - ./packages\n  keyring:\n    - ./packages/nope.rsa.pub\n  packages: [hello]\n",
			err:    "apko.yaml:7:7: keyring: packages/nope.rsa.pub: not found in the build context",
			snippet: `apko.yaml:7
--------------------
   5 |         - ./packages
   6 |       keyring:
   7 | >>>     - ./packages/nope.rsa.pub
   8 |       packages: [hello]
   9 |     
--------------------`,
		},
		{
			name:    "key over HTTP answering 404",
			config:  "contents:\n  repositories:\n    - URL/packages\n  keyring:\n    - URL/packages/kiln-test.rsa.pub\n  packages: [hello]\n",
			missing: "/packages/kiln-test.rsa.pub",
			err:     "apko.yaml:7:7: keyring: fetch URL/packages/kiln-test.rsa.pub: HTTP 404 Not Found",
			snippet: `apko.yaml:7
--------------------
   5 |         - URL/packages
   6 |       keyring:
   7 | >>>     - URL/packages/kiln-test.rsa.pub
   8 |       packages: [hello]
   9 |     
--------------------`,
		},
		{
			name:    "index over HTTP answering 404",
			config:  "contents:\n  repositories:\n    - URL/packages\n  keyring:\n    - URL/packages/kiln-test.rsa.pub\n  packages: [hello]\n",
			missing: "/packages/x86_64/APKINDEX.tar.gz",
			err:     "apko.yaml:5:7: repository URL/packages: fetch URL/packages/x86_64/APKINDEX.tar.gz: HTTP 404 Not Found",
			snippet: `apko.yaml:5
--------------------
   3 |     contents:
   4 |       repositories:
   5 | >>>     - URL/packages
   6 |       keyring:
   7 |         - URL/packages/kiln-test.rsa.pub
--------------------`,
		},
		{
			name:    "package over HTTP answering 404",
			config:  "contents:\n  repositories:\n    - URL/packages\n  keyring:\n    - URL/packages/kiln-test.rsa.pub\n  packages: [hello]\n",
			missing: "/packages/x86_64/hello-2.12-r0.apk",
			err:     "apko.yaml:5:7: repository URL/packages: package hello-2.12-r0 (x86_64): fetch URL/packages/x86_64/hello-2.12-r0.apk: HTTP 404 Not Found",
			snippet: `apko.yaml:5
--------------------
   3 |     contents:
   4 |       repositories:
   5 | >>>     - URL/packages
   6 |       keyring:
   7 |         - URL/packages/kiln-test.rsa.pub
--------------------`,
		},
		{
			name:   "an error at no line shows no lines (not the syntax line)",
			config: repo + "  packages: [hello]\n",
			args:   []string{"--build-arg", "KILN_NOPE=1"},
			err:    "unknown build arg KILN_NOPE: kiln reads SOURCE_DATE_EPOCH, KILN_LOCKFILE, KILN_FETCH_TIMEOUT, KILN_NETWORK, KILN_REPOSITORY_APPEND, KILN_KEYRING_APPEND, KILN_PIPELINE_DIR, KILN_BUILD_OPTIONS, KILN_NAMESPACE",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.TempDir()
			writeRepo(t, filepath.Join(ctx, "packages"), nil, 0)
			files := http.FileServer(http.Dir(ctx))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.missing != "" && r.URL.Path == tt.missing {
					http.NotFound(w, r)
					return
				}
				files.ServeHTTP(w, r)
			}))
			defer srv.Close()
			url := func(s string) string { return strings.ReplaceAll(s, "URL", srv.URL) }
			// Line 2 starts the config, so the syntax line is line 1.
			config := "# syntax=" + frontendImage() + "\n" + "archs: [x86_64]\n" + url(tt.config)
			writeFile(t, filepath.Join(ctx, "apko.yaml"), config)
			for name, content := range tt.files {
				writeFile(t, filepath.Join(ctx, name), content)
			}
			out, err := buildxAsUser(ctx, "apko.yaml", append(tt.args, "--output", "type=oci,dest="+filepath.Join(t.TempDir(), "x.tar"))...)
			if err == nil {
				t.Fatalf("build succeeded:\n%s", lastLines(out, 10))
			}
			if got, want := kilnError(out), url(tt.err); got != want {
				t.Errorf("error line\n got: %s\nwant: %s", got, want)
			}
			if got, want := sourceSnippet(out), url(tt.snippet); got != want {
				t.Errorf("snippet\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// buildxAsUser runs `docker buildx build` exactly as a user would: the
// config's own "# syntax=" line picks the frontend.
func buildxAsUser(ctxDir, file string, args ...string) (string, error) {
	full := append([]string{"buildx", "build", "--builder", builderName(), "--progress", "plain",
		"-f", filepath.Join(ctxDir, file)}, args...)
	cmd := exec.Command("docker", append(full, ctxDir)...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	return b.String(), err
}

// kilnError is the message of buildx's final ERROR line, after buildx's
// own prefixes ("failed to build: ", then "failed to solve: " or, when
// the build function returns first, "failed to run Build function: ").
func kilnError(out string) string {
	l := errorLine(out)
	if msg, ok := failureMessage(l); ok {
		return msg
	}
	return strings.TrimPrefix(l, "ERROR: failed to build: ")
}

// errorLine is buildx's final ERROR line.
func errorLine(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "ERROR: ") {
			return lines[i]
		}
	}
	return ""
}

// sourceSnippet is the source excerpt buildx prints before the ERROR
// line ("file:line", a rule, numbered lines, a rule), or "".
func sourceSnippet(out string) string {
	lines := strings.Split(out, "\n")
	const rule = "--------------------"
	for i := len(lines) - 2; i >= 0; i-- {
		if lines[i+1] != rule || !strings.Contains(lines[i], ".yaml:") {
			continue
		}
		for j := i + 2; j < len(lines); j++ {
			if lines[j] == rule {
				return strings.Join(lines[i:j+1], "\n")
			}
		}
	}
	return ""
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
