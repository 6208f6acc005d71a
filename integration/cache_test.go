package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestCacheExportImport checks --cache-to and --cache-from as a CI job
// uses them: a build exports its cache (local directories, mode=max and
// mode=min, and the registry), the builder's own cache is wiped, and a
// build importing any of them runs no install step and gives the same
// image.
//
// A mode=min cache (build-push-action's default) holds the image's layers
// only, not the install steps' outputs: a build finds every step by its
// key and needs none of them. That is why the metadata layer is a step
// and not written by the frontend from the install records, which it
// could read only by running (mode=min) or downloading (mode=max) every
// install step's output.
//
// It prunes the shared builder's cache (other tests then run cold once).
func TestCacheExportImport(t *testing.T) {
	requireStack(t)
	requireArm64Busybox(t)
	ctx := exampleContext(t, "local-repo", nil, 0)
	platforms := []string{"--platform", "linux/amd64,linux/arm64"}
	localCache := filepath.Join(t.TempDir(), "cache")
	minCache := filepath.Join(t.TempDir(), "cache-min")
	registryCache := fmt.Sprintf("%s/kiln-e2e/cache:%d", registry, time.Now().UnixNano())

	exported, log := cacheBuild(t, ctx, append(platforms,
		"--cache-to", "type=local,dest="+localCache+",mode=max",
		"--cache-to", "type=local,dest="+minCache+",mode=min",
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

	wholeLocalCache(t, ctx, platforms, localCache, "max")
	wholeLocalCache(t, ctx, platforms, minCache, "min")

	for _, from := range []struct{ name, ref string }{
		{"local", "type=local,src=" + localCache},
		{"local-min", "type=local,src=" + minCache},
		{"registry", "type=registry,ref=" + registryCache + ",registry.insecure=true"},
	} {
		t.Run(from.name, func(t *testing.T) {
			pruneBuilder(t)
			imported, log := cacheBuild(t, ctx, append(platforms, "--cache-from", from.ref)...)
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

// wholeLocalCache exports ctx's cache to dir again (the build itself is
// cached) while the export lacks blobs its index names, at most twice.
// BuildKit v0.33's local cache exporter, racing itself over a shared
// layer, now and then finishes without one (seen in about one export in
// four here); an import then skips the whole cache and every step runs
// again. kiln cannot prevent it; the imports need a whole export.
func wholeLocalCache(t *testing.T, ctx string, platforms []string, dir, mode string) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		missing := missingBlobs(t, dir)
		if len(missing) == 0 {
			return
		}
		t.Logf("export %d (mode=%s): BuildKit's local cache export lacks %d blob(s) its index names (%s); exporting again", attempt, mode, len(missing), strings.Join(missing, ", "))
		if attempt == 3 {
			t.Fatalf("three local cache exports (mode=%s) in a row lacked blobs", mode)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		cacheBuild(t, ctx, append(platforms, "--cache-to", "type=local,dest="+dir+",mode="+mode)...)
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

// missingBlobs lists the blobs an OCI layout's index, and every index and
// manifest under it, names but the layout does not hold.
func missingBlobs(t *testing.T, layout string) []string {
	t.Helper()
	var missing []string
	seen := map[string]bool{}
	var walk func(doc []byte)
	walk = func(doc []byte) {
		var m struct {
			Config    *ocispec.Descriptor  `json:"config"`
			Layers    []ocispec.Descriptor `json:"layers"`
			Manifests []ocispec.Descriptor `json:"manifests"`
		}
		if json.Unmarshal(doc, &m) != nil {
			return
		}
		descs := append(append([]ocispec.Descriptor{}, m.Layers...), m.Manifests...)
		if m.Config != nil {
			descs = append(descs, *m.Config)
		}
		for _, d := range descs {
			if seen[d.Digest.String()] {
				continue
			}
			seen[d.Digest.String()] = true
			blob, err := os.ReadFile(filepath.Join(layout, "blobs", d.Digest.Algorithm().String(), d.Digest.Encoded()))
			if err != nil {
				missing = append(missing, d.Digest.String())
				continue
			}
			if strings.Contains(d.MediaType, "manifest") || strings.Contains(d.MediaType, "index") {
				walk(blob)
			}
		}
	}
	index, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		t.Fatalf("cache export: %v", err)
	}
	walk(index)
	return missing
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
