package integration

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCacheExportImport checks --cache-to and --cache-from as a CI job
// uses them: a build exports its cache (a local directory and the
// registry, mode=max), the builder's own cache is wiped, and a build
// importing either runs no install step and gives the same image.
//
// It prunes the shared builder's cache (other tests then run cold once).
func TestCacheExportImport(t *testing.T) {
	requireStack(t)
	requireArm64Busybox(t)
	ctx := exampleContext(t, "local-repo", nil, 0)
	platforms := []string{"--platform", "linux/amd64,linux/arm64"}
	localCache := filepath.Join(t.TempDir(), "cache")
	registryCache := fmt.Sprintf("%s/kiln-e2e/cache:%d", registry, time.Now().UnixNano())

	exported, log := cacheBuild(t, ctx, append(platforms,
		"--cache-to", "type=local,dest="+localCache+",mode=max",
		"--cache-to", "type=registry,ref="+registryCache+",mode=max,registry.insecure=true")...)
	if lines := errorLines(log); len(lines) > 0 {
		// BuildKit v0.33 copies a layer into a local cache once per chain
		// holding it, concurrently; the client's store turns the second
		// writer away until the first is done, and buildx logs that.
		t.Logf("buildx logged during export (BuildKit's local cache exporter):\n%s", strings.Join(lines, "\n"))
		for _, l := range lines {
			if !lockRetry.MatchString(l) {
				t.Errorf("error line on export: %s", l)
			}
		}
	}

	for _, from := range []string{"type=local,src=" + localCache, "type=registry,ref=" + registryCache + ",registry.insecure=true"} {
		t.Run(strings.SplitN(from, ",", 2)[0], func(t *testing.T) {
			pruneBuilder(t)
			imported, log := cacheBuild(t, ctx, append(platforms, "--cache-from", from)...)
			if imported != exported {
				t.Errorf("image %s from cache, %s exported", imported, exported)
			}
			if ran := ranSteps(log, regexp.MustCompile(`^\[(x86_64|aarch64)\] (install|generate) `)); len(ran) > 0 {
				t.Errorf("steps ran despite the imported cache: %v\n%s", ran, log)
			}
			if lines := errorLines(log); len(lines) > 0 {
				t.Errorf("error lines:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}

var lockRetry = regexp.MustCompile(`^ERROR: \(\*service\)\.Write failed: .* locked for .*: unavailable$`)

// cacheBuild builds ctx's apko.yaml into an OCI tar and returns its
// platform images' manifest digests (the provenance attestations record
// each build's own times, so the index differs), and the log.
func cacheBuild(t *testing.T, ctx string, args ...string) (string, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.tar")
	log := buildx(t, ctx, "apko.yaml", append(args, "--output", "type=oci,dest="+out)...)
	imgs, err := loadLayout(t, out).Images()
	if err != nil {
		t.Fatal(err)
	}
	var digests []string
	for _, img := range imgs {
		digests = append(digests, img.Descriptor.Platform.Architecture+"@"+img.Descriptor.Digest.String())
	}
	if len(digests) == 0 {
		t.Fatal("no images")
	}
	return strings.Join(digests, " "), log
}

// pruneBuilder empties the kiln builder's cache, as a fresh CI runner's
// builder is empty.
func pruneBuilder(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("docker", "buildx", "prune", "-af", "--builder", builderName()).CombinedOutput(); err != nil {
		t.Fatalf("buildx prune: %v\n%s", err, out)
	}
}

// errorLines are the lines of a successful build's output that buildx
// prints as errors.
func errorLines(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "ERROR") || strings.Contains(l, "level=error") {
			out = append(out, l)
		}
	}
	return out
}

// ranSteps lists the vertices whose names match re and that ran (rather
// than came from a cache), from plain progress output.
func ranSteps(log string, re *regexp.Regexp) []string {
	names := map[string]string{}
	done := map[string]bool{}
	vertex := regexp.MustCompile(`^#(\d+) (.*)$`)
	for _, l := range strings.Split(log, "\n") {
		m := vertex.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		id, rest := m[1], m[2]
		if _, ok := names[id]; !ok {
			names[id] = rest
			continue
		}
		if strings.HasPrefix(rest, "DONE ") {
			done[id] = true
		}
		if rest == "CACHED" {
			done[id] = false
		}
	}
	var out []string
	for id, name := range names {
		if re.MatchString(name) && done[id] {
			out = append(out, name)
		}
	}
	return out
}
