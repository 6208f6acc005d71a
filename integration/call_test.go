package integration

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestCallSubrequests checks `docker buildx build --call outline|targets|
// check` on apko configs: each answers without building (no install step
// in the progress), prints what the Dockerfile frontend's answers print,
// and exits as buildx does for them. `kiln lint` on the host reports the
// same findings at the same places.
func TestCallSubrequests(t *testing.T) {
	requireStack(t)
	kiln := hostKiln(t)
	const config = `# syntax=ghcr.io/kiln-build/kiln:v0
contents:
  repositories:
    - ./packages
    - http://mirror.example/os
  keyring:
    - ./packages/kiln-test.rsa.pub
  packages:
    - busybox=1.36.1-r0
    - hello
archs: [x86_64, aarch64]
`
	tests := []struct {
		name, call, config string
		status             int
		stdout             string
		stderr             string // the error buildx prints, "" for none
	}{
		{"outline", "outline", config, 0, `TARGET:      image
DESCRIPTION: the image apko.yaml describes, for x86_64 (linux/amd64), aarch64 (linux/arm64); without --platform, linux/amd64

BUILD ARG            VALUE   DESCRIPTION
SOURCE_DATE_EPOCH    0       seconds since 1970 for every file mtime, the image's created time and labels, and the SBOM's creation time
KILN_LOCKFILE                an apko lockfile in the build context to build from; default the one next to the config (apko.lock.json for apko.yaml) if there is one; none: resolve from the indexes
KILN_FETCH_TIMEOUT   2m      how long one attempt at a download (an index, a key, a package) may take, as a duration (90s, 10m), plus a second per 256 KiB of a package; failures a retry may cure are tried 3 times

SECRET                            REQUIRED
HTTP_AUTH_HEADER_mirror.example   

`, ""},
		{"targets", "targets", config, 0, `TARGET          DESCRIPTION
image (default) the image apko.yaml describes, for x86_64 (linux/amd64), aarch64 (linux/arm64); without --platform, linux/amd64
`, ""},
		{"targets without archs", "targets", strings.Replace(config, "archs: [x86_64, aarch64]\n", "", 1), 0, `TARGET          DESCRIPTION
image (default) the image apko.yaml describes, for x86_64 (linux/amd64): it names no archs, so the builder's platform
`, ""},
		{"check: warnings", "check", config, 1, `Check complete, 2 warnings have been found!

WARNING: PlainHTTPRepository
repositories entry http://mirror.example/os is served over plain HTTP: use https://
apko.yaml:5
--------------------
   3 |       repositories:
   4 |         - ./packages
   5 | >>>     - http://mirror.example/os
   6 |       keyring:
   7 |         - ./packages/kiln-test.rsa.pub
--------------------

WARNING: UnpinnedPackage
package "hello" has no version: pin it (hello=VERSION, or hello~VERSION to follow patch releases) or lock the config (kiln lock)
apko.yaml:10
--------------------
   8 |       packages:
   9 |         - busybox=1.36.1-r0
  10 | >>>     - hello
  11 |     archs: [x86_64, aarch64]
  12 |     
--------------------
`, ""},
		{"check: clean", "check", strings.Replace(strings.Replace(config, "    - hello\n", "    - hello~2.12\n", 1), "    - http://mirror.example/os\n", "", 1), 0,
			"Check complete, no warnings found.\n", ""},
		{"check: a key over plain HTTP is an error", "check", strings.Replace(config, "    - ./packages/kiln-test.rsa.pub\n", "    - http://mirror.example/k.rsa.pub\n", 1), 1, `Check complete, 2 warnings have been found!

WARNING: PlainHTTPRepository
repositories entry http://mirror.example/os is served over plain HTTP: use https://
apko.yaml:5
--------------------
   3 |       repositories:
   4 |         - ./packages
   5 | >>>     - http://mirror.example/os
   6 |       keyring:
   7 |         - http://mirror.example/k.rsa.pub
--------------------

WARNING: UnpinnedPackage
package "hello" has no version: pin it (hello=VERSION, or hello~VERSION to follow patch releases) or lock the config (kiln lock)
apko.yaml:10
--------------------
   8 |       packages:
   9 |         - busybox=1.36.1-r0
  10 | >>>     - hello
  11 |     archs: [x86_64, aarch64]
  12 |     
--------------------

`, `ERROR: apko.yaml:7:7: PlainHTTPKey: key http://mirror.example/k.rsa.pub is fetched over plain HTTP: use https://, or a key file in the build context
apko.yaml:7
--------------------
   5 |         - http://mirror.example/os
   6 |       keyring:
   7 | >>>     - http://mirror.example/k.rsa.pub
   8 |       packages:
   9 |         - busybox=1.36.1-r0
--------------------

`},
		{"check: a config error", "check", strings.Replace(config, "archs:", "arch:", 1), 1, "", `ERROR: apko.yaml:11:1: unknown field "arch" (known: accounts, annotations, archs, certificates, cmd, contents, entrypoint, environment, format, include, layering, paths, stop-signal, vcs-url, volumes, work-dir); did you mean "archs"?
apko.yaml:11
--------------------
   9 |         - busybox=1.36.1-r0
  10 |         - hello
  11 | >>> arch: [x86_64, aarch64]
  12 |     
--------------------

`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.TempDir()
			writeRepo(t, filepath.Join(ctx, "packages"), nil, 0)
			writeFile(t, filepath.Join(ctx, "apko.yaml"), tt.config)
			stdout, stderr, status := callBuildx(ctx, "--call", tt.call)
			if status != tt.status || stdout != tt.stdout {
				t.Errorf("exit %d, stdout:\n%s\nwant exit %d, stdout:\n%s\nstderr:\n%s\n(%q)", status, stdout, tt.status, tt.stdout, lastLines(stderr, 8), stdout[max(0, len(stdout)-60):])
			}
			if got := callError(stderr); got != tt.stderr {
				t.Errorf("error:\n%s\nwant:\n%s\n(%q)", got, tt.stderr, got[max(0, len(got)-60):])
			}
			if strings.Contains(stderr, "] install ") {
				t.Errorf("--call %s built:\n%s", tt.call, stderr)
			}
			if tt.call != "check" {
				return
			}
			// kiln lint reports the same rules at the same lines.
			out, _ := exec.Command(kiln, "lint", "--context", ctx, filepath.Join(ctx, "apko.yaml")).Output()
			if got, want := lintPlaces(string(out), `^.*apko\.yaml:(\d+):\d+: (?:warning|error): (\w+):`), lintPlaces(stdout+stderr, `^(?:WARNING: (\w+)\n.*\napko\.yaml:(\d+)|ERROR: apko\.yaml:(\d+):\d+: (\w+):)`); got != want {
				t.Errorf("kiln lint reports %s, --call check %s\n%s", got, want, out)
			}
		})
	}
}

// callError is what buildx prints from the first "ERROR:" line of a
// call's stderr on (progress comes before it).
func callError(stderr string) string {
	if i := strings.Index(stderr, "\nERROR: "); i >= 0 {
		return stderr[i+1:]
	}
	return ""
}

// callBuildx runs a --call subrequest on ctx's apko.yaml: stdout (the
// answer), stderr (progress) and the exit status.
func callBuildx(ctx string, args ...string) (string, string, int) {
	return callBuildxFile(ctx, "apko.yaml", args...)
}

// callBuildxFile is callBuildx on another file of ctx.
func callBuildxFile(ctx, file string, args ...string) (string, string, int) {
	full := append([]string{"buildx", "build", "--builder", builderName(), "--progress", "plain",
		"-f", file, "--build-arg", "BUILDKIT_SYNTAX=" + frontendImage()}, args...)
	cmd := exec.Command("docker", append(full, ".")...)
	cmd.Dir = ctx // as a user runs it, so buildx names the file as written
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	status := 0
	if ee, ok := err.(*exec.ExitError); ok {
		status = ee.ExitCode()
	} else if err != nil {
		status = -1
	}
	return out.String(), errOut.String(), status
}

// lintPlaces lists "line:Rule" for every match of re (whose groups are a
// line and a rule, in either order), sorted.
func lintPlaces(out, re string) string {
	var places []string
	for _, m := range regexp.MustCompile("(?m)"+re).FindAllStringSubmatch(out, -1) {
		var line, rule string
		for _, g := range m[1:] {
			switch {
			case g == "":
			case regexp.MustCompile(`^\d+$`).MatchString(g):
				line = g
			default:
				rule = g
			}
		}
		places = append(places, line+":"+rule)
	}
	sort.Strings(places)
	return strings.Join(places, " ")
}
