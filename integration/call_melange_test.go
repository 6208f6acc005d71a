package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestCallMelange checks `docker buildx build --call outline|targets|
// check` on a melange.yaml: each answers without building (no workspace,
// pipeline or package step in the progress), prints what buildx prints
// for the Dockerfile frontend's answers, and exits as buildx does. kiln
// lint on the host reports the same findings at the same lines.
func TestCallMelange(t *testing.T) {
	requireStack(t)
	kiln := hostKiln(t)
	const sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	const config = `# syntax=ghcr.io/kiln-build/kiln:v0
package:
  name: hello
  version: 1.2.0
  epoch: 3
  description: says hello

environment:
  contents:
    repositories: [./packages]
    keyring: [./packages/kiln-test.rsa.pub]
    packages: [busybox=1.36.1-r0]

pipeline:
  - uses: fetch
    with:
      uri: https://example.com/hello-${{package.version}}.tar.gz
      expected-none: true
  - uses: local/build
  - runs: make install DESTDIR=${{targets.destdir}}

subpackages:
  - name: hello-doc
    pipeline:
      - uses: split/manpages
  - name: hello-simd
    if: ${{build.arch}} == 'x86_64'
    pipeline:
      - runs: mkdir -p ${{targets.subpkgdir}}
`
	const pipeline = "name: build with the project's tools\npipeline:\n  - runs: |\n      ./configure\n      make\n"
	verified := strings.Replace(config, "      expected-none: true\n", "      expected-sha256: "+sha+"\n", 1)
	tests := []struct {
		name, config string
		args         []string
		status       int
		stdout       string
		stderr       string // the error buildx prints, "" for none
	}{
		{"outline", config, nil, 0, `TARGET:      hello
DESCRIPTION: the package hello-1.2.0-r3 and its subpackages, as a signed repository (<arch>/APKINDEX.tar.gz), for any architecture --platform names (x86_64 (linux/amd64), aarch64 (linux/arm64), ...); without --platform, linux/amd64; signed with the secret melange.rsa (--secret id=melange.rsa,src=KEY) when given, else with a key made for the build; either way its public half is written as melange.rsa.pub

BUILD ARG                VALUE                      DESCRIPTION
SOURCE_DATE_EPOCH        0                          seconds since 1970 for every file mtime in the packages, their build date and their SBOMs' creation time
KILN_FETCH_TIMEOUT       2m                         how long one attempt at a download (an index, a key, a package) may take, as a duration (90s, 10m), plus a second per 256 KiB of a package; failures a retry may cure are tried 3 times
KILN_NETWORK             0                          1 runs pipeline steps on BuildKit's sandbox network (fetch and git-checkout are verified sources either way)
KILN_REPOSITORY_APPEND                              repositories added to the build environment, comma-separated (melange's --repository-append)
KILN_KEYRING_APPEND                                 keys added to the build environment's keyring, comma-separated (melange's --keyring-append)
KILN_PIPELINE_DIR        ./pipelines when present   directory of pipeline definitions in the build context (melange's --pipeline-dir)
KILN_BUILD_OPTIONS                                  build options to enable, comma-separated (melange's --build-option)
KILN_NAMESPACE                                      the packages' namespace (melange's --namespace): maintainer and purl namespace

SECRET        REQUIRED
melange.rsa   

`, ""},
		{"targets", config, nil, 0, `TARGET          DESCRIPTION
hello (default) the package hello-1.2.0-r3 and its subpackages, as a signed repository (<arch>/APKINDEX.tar.gz), for any architecture --platform names (x86_64 (linux/amd64), aarch64 (linux/arm64), ...); without --platform, linux/amd64
hello-doc       the subpackage hello-doc of hello (built with it), for any architecture --platform names (x86_64 (linux/amd64), aarch64 (linux/arm64), ...); without --platform, linux/amd64
hello-simd      the subpackage hello-simd of hello (built with it), for x86_64 (linux/amd64) only
`, ""},
		{"targets for one platform", config, []string{"--platform", "linux/arm64"}, 0, `TARGET          DESCRIPTION
hello (default) the package hello-1.2.0-r3 and its subpackages, as a signed repository (<arch>/APKINDEX.tar.gz), for aarch64 (linux/arm64)
hello-doc       the subpackage hello-doc of hello (built with it), for aarch64 (linux/arm64)
`, ""},
		{"targets of a config for some archs", strings.Replace(config, "  description: says hello\n", "  description: says hello\n  target-architecture: [aarch64]\n", 1), nil, 0, `TARGET          DESCRIPTION
hello (default) the package hello-1.2.0-r3 and its subpackages, as a signed repository (<arch>/APKINDEX.tar.gz), for aarch64 (linux/arm64) only
hello-doc       the subpackage hello-doc of hello (built with it), for aarch64 (linux/arm64) only
`, ""},
		{"check: warnings", config, nil, 1, `Check complete, 1 warning has been found!

WARNING: UnverifiedSource
fetch of https://example.com/hello-1.2.0.tar.gz checks no digest (expected-none): give expected-sha256 or expected-sha512
melange.yaml:15
--------------------
  13 |     
  14 |     pipeline:
  15 | >>>   - uses: fetch
  16 |         with:
  17 |           uri: https://example.com/hello-${{package.version}}.tar.gz
--------------------
`, ""},
		{"check: clean", verified, nil, 0, "Check complete, no warnings found.\n", ""},
		{"check: a step that downloads", strings.Replace(verified, "DESTDIR=${{targets.destdir}}\n", "DESTDIR=${{targets.destdir}}\n  - runs: curl -fsSLO https://example.com/extra.bin\n", 1), nil, 1, `Check complete, 1 warning has been found!

WARNING: NeedsNetwork
"curl -fsSLO https://example.com/extra.bin" (line 1 of the script) needs the network: give the steps the network with --build-arg KILN_NETWORK=1, or fetch sources with uses: fetch or git-checkout, which kiln verifies
melange.yaml:21
--------------------
  19 |       - uses: local/build
  20 |       - runs: make install DESTDIR=${{targets.destdir}}
  21 | >>>   - runs: curl -fsSLO https://example.com/extra.bin
  22 |     
  23 |     subpackages:
--------------------
`, ""},
		{"check: the network given", strings.Replace(verified, "DESTDIR=${{targets.destdir}}\n", "DESTDIR=${{targets.destdir}}\n  - runs: curl -fsSLO https://example.com/extra.bin\n", 1),
			[]string{"--build-arg", "KILN_NETWORK=1"}, 0, "Check complete, no warnings found.\n", ""},
		{"check: unknown pipelines are errors", strings.Replace(strings.Replace(verified, "local/build", "local/biuld", 1), "split/manpages", "split/mandocs", 1), nil, 1, "", `ERROR: melange.yaml:19:11: UnknownPipeline: uses: local/biuld names no built-in pipeline and no file local/biuld.yaml in the pipeline directory; did you mean "local/build"? (1 more errors: melange.yaml:25:15 UnknownPipeline)
melange.yaml:19
--------------------
  17 |           uri: https://example.com/hello-${{package.version}}.tar.gz
  18 |           expected-sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  19 | >>>   - uses: local/biuld
  20 |       - runs: make install DESTDIR=${{targets.destdir}}
  21 |     
--------------------

`},
		{"check: a config that does not compile", strings.Replace(verified, "make install", "make ${{vars.target}}", 1), nil, 1, "", `ERROR: melange.yaml:20:11: runs: unknown variable ${{vars.target}} (not defined in vars: or by var-transforms:)
melange.yaml:20
--------------------
  18 |           expected-sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  19 |       - uses: local/build
  20 | >>>   - runs: make ${{vars.target}} DESTDIR=${{targets.destdir}}
  21 |     
  22 |     subpackages:
--------------------

`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.TempDir()
			writeFile(t, filepath.Join(ctx, "melange.yaml"), tt.config)
			if err := os.MkdirAll(filepath.Join(ctx, "pipelines", "local"), 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(ctx, "pipelines", "local", "build.yaml"), pipeline)
			stdout, stderr, status := callBuildxFile(ctx, "melange.yaml", append([]string{"--call", strings.TrimSuffix(strings.Fields(tt.name)[0], ":")}, tt.args...)...)
			if status != tt.status || stdout != tt.stdout {
				t.Errorf("exit %d, stdout:\n%s\nwant exit %d, stdout:\n%s\nstderr:\n%s", status, stdout, tt.status, tt.stdout, lastLines(stderr, 8))
			}
			if got := callError(stderr); got != tt.stderr {
				t.Errorf("error:\n%s\nwant:\n%s\n(%q)", got, tt.stderr, got[max(0, len(got)-60):])
			}
			for _, built := range []string{"] workspace from the build context", "] plan ", "[x86_64] ", "[aarch64] "} {
				if strings.Contains(stderr, built) {
					t.Errorf("the call built (%q):\n%s", built, lastLines(stderr, 20))
				}
			}
			if !strings.HasPrefix(tt.name, "check") {
				return
			}
			// kiln lint reports the same rules at the same lines.
			lintArgs := []string{"lint", "--context", ctx}
			if len(tt.args) > 0 {
				lintArgs = append(lintArgs, "--network")
			}
			out, _ := exec.Command(kiln, append(lintArgs, filepath.Join(ctx, "melange.yaml"))...).Output()
			got := lintPlaces(string(out), `^.*melange\.yaml:(\d+):\d+: (?:warning|error): (\w+):`)
			want := lintPlaces(stdout+stderr, `^(?:WARNING: (\w+)\n.*\nmelange\.yaml:(\d+)|ERROR: melange\.yaml:(\d+):\d+: (\w+):)`)
			for _, m := range regexp.MustCompile(`\d+ more errors: (.*)\)`).FindAllStringSubmatch(stderr, -1) {
				for _, e := range strings.Split(m[1], ", ") {
					if f := strings.Fields(e); len(f) == 2 {
						want = strings.TrimSpace(want + " " + strings.Split(f[0], ":")[1] + ":" + f[1])
					}
				}
			}
			if sortedFields(got) != sortedFields(want) {
				t.Errorf("kiln lint reports %s, --call check %s\n%s", got, want, out)
			}
		})
	}
}

func sortedFields(s string) string {
	f := strings.Fields(s)
	sort.Strings(f)
	return strings.Join(f, " ")
}
