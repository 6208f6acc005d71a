package integration

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spdx/tools-golang/spdx"

	"github.com/kiln-build/kiln/apk/install"
	"github.com/kiln-build/kiln/integration/ocitest"
)

const registry = "127.0.0.1:5000"

// registryGet fetches a manifest or blob from the local registry.
func registryGet(t *testing.T, repo, kind, ref string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/v2/%s/%s/%s", registry, repo, kind, ref), nil)
	req.Header.Set("Accept", strings.Join([]string{ocispecs.MediaTypeImageIndex, ocispecs.MediaTypeImageManifest,
		"application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json"}, ", "))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s %s: %s %s", kind, ref, resp.Status, b)
	}
	return b
}

// pushedPackages reads the installed database out of one pushed image.
func pushedPackages(t *testing.T, repo string, desc ocispecs.Descriptor) []string {
	t.Helper()
	var m ocispecs.Manifest
	if err := json.Unmarshal(registryGet(t, repo, "manifests", desc.Digest.String()), &m); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range m.Layers {
		blob := registryGet(t, repo, "blobs", l.Digest.String())
		zr, err := gzip.NewReader(bytes.NewReader(blob))
		if err != nil {
			t.Fatal(err)
		}
		tr := tarReader(zr)
		for {
			h, data, ok := tr()
			if !ok {
				break
			}
			if strings.TrimPrefix(h, "./") == install.DefaultDBPath {
				pkgs, err := install.ReadDatabase(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range pkgs {
					names = append(names, p.Name+"-"+p.Version)
				}
			}
		}
	}
	sort.Strings(names)
	return names
}

func TestMultiPlatformPush(t *testing.T) {
	requireStack(t)
	requireArm64Busybox(t)
	ctx := exampleContext(t, "local-repo", nil, 0)
	ref := registry + "/kiln-e2e/local:multi"
	buildx(t, ctx, "apko.yaml", "--platform", "linux/amd64,linux/arm64", "--sbom=true",
		"--output", "type=image,name="+ref+",push=true,registry.insecure=true")

	var idx ocispecs.Index
	if err := json.Unmarshal(registryGet(t, "kiln-e2e/local", "manifests", "multi"), &idx); err != nil {
		t.Fatal(err)
	}
	byArch := map[string][]string{}
	for _, d := range idx.Manifests {
		if d.Platform == nil || d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			continue
		}
		byArch[d.Platform.Architecture] = pushedPackages(t, "kiln-e2e/local", d)
	}
	if len(byArch) != 2 || len(byArch["amd64"]) == 0 {
		t.Fatalf("index has %v", byArch)
	}
	if a, b := strings.Join(byArch["amd64"], " "), strings.Join(byArch["arm64"], " "); a != b {
		t.Fatalf("package versions differ:\namd64 %s\narm64 %s", a, b)
	}
	// One SBOM per platform, each listing that platform's packages.
	apkArch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}
	for _, d := range idx.Manifests {
		if d.Platform == nil || d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			continue
		}
		doc := pushedSBOM(t, "kiln-e2e/local", idx, d)
		if got := apkPackages(t, doc, apkArch[d.Platform.Architecture]); strings.Join(got, " ") != strings.Join(byArch[d.Platform.Architecture], " ") {
			t.Errorf("%s SBOM lists %v, image has %v", d.Platform.Architecture, got, byArch[d.Platform.Architecture])
		}
	}

	// The arm64 image's busybox runs (under qemu) in a build step.
	run := t.TempDir()
	os.WriteFile(filepath.Join(run, "Dockerfile"), []byte("FROM "+ref+"\nRUN [\"/bin/busybox\", \"uname\", \"-m\"]\nRUN [\"/bin/sh\", \"-c\", \"uname -m > /tmp/arch\"]\n"), 0o644)
	out, err := exec.Command("docker", "buildx", "build", "--builder", builderName(), "--progress", "plain", "--no-cache",
		"--platform", "linux/arm64", "--output", "type=local,dest="+filepath.Join(run, "out"), run).CombinedOutput()
	if err != nil {
		t.Fatalf("running the arm64 image: %v\n%s", err, lastLines(string(out), 30))
	}
	// The image runs as its run-as user (10001): /tmp is where it may write.
	got, _ := os.ReadFile(filepath.Join(run, "out", "tmp", "arch"))
	if strings.TrimSpace(string(got)) != "aarch64" {
		t.Fatalf("arm64 busybox says %q", got)
	}
}

// installSteps maps "install NAME-VERSION" vertex names to whether the
// step ran (true) or came from the cache (false), from plain progress.
func installSteps(log string) map[string]bool {
	steps := map[string]bool{}
	ids := map[string]string{}
	re := regexp.MustCompile(`^#(\d+) \[x86_64\] install (.*)$`)
	for _, line := range strings.Split(log, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			ids[m[1]] = m[2]
			if _, ok := steps[m[2]]; !ok {
				steps[m[2]] = true
			}
		}
	}
	for _, line := range strings.Split(log, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[1] == "CACHED" {
			if name, ok := ids[strings.TrimPrefix(f[0], "#")]; ok {
				steps[name] = false
			}
		}
	}
	return steps
}

func TestOnePackageBump(t *testing.T) {
	requireStack(t)
	ctx := exampleContext(t, "local-repo", nil, 0)
	before, _ := buildOCI(t, ctx, "--platform", "linux/amd64")
	// Bump hello; every other package is rewritten byte-identical.
	os.RemoveAll(filepath.Join(ctx, "packages"))
	writeRepo(t, filepath.Join(ctx, "packages"), map[string]string{"hello": "2.13-r0"}, 0)
	after, log := buildOCI(t, ctx, "--platform", "linux/amd64")

	steps := installSteps(log)
	var ran []string
	for name, didRun := range steps {
		if didRun {
			ran = append(ran, name)
		}
	}
	if len(steps) != 5 || strings.Join(ran, ",") != "hello-2.13-r0" {
		t.Errorf("install steps that ran: %v (all: %v)", ran, steps)
	}

	layers := func(l *ocitest.Layout) []string {
		img := onlyImage(t, l)
		var out []string
		for _, d := range img.Manifest.Layers {
			out = append(out, d.Digest.String())
		}
		return out
	}
	a, b := layers(before), layers(after)
	if len(a) != len(b) {
		t.Fatalf("layer count %d -> %d", len(a), len(b))
	}
	var changed []int
	for i := range a {
		if a[i] != b[i] {
			changed = append(changed, i)
		}
	}
	// hello's layer and the metadata layer (last) change, nothing else.
	if len(changed) != 2 || changed[1] != len(a)-1 {
		t.Errorf("changed layers %v of %d", changed, len(a))
	}
}

// pushedSBOM fetches the SPDX document attached to one pushed image.
func pushedSBOM(t *testing.T, repo string, idx ocispecs.Index, img ocispecs.Descriptor) *spdx.Document {
	t.Helper()
	var found []*spdx.Document
	for _, d := range idx.Manifests {
		if d.Annotations["vnd.docker.reference.type"] != "attestation-manifest" || d.Annotations["vnd.docker.reference.digest"] != img.Digest.String() {
			continue
		}
		var m ocispecs.Manifest
		if err := json.Unmarshal(registryGet(t, repo, "manifests", d.Digest.String()), &m); err != nil {
			t.Fatal(err)
		}
		for _, l := range m.Layers {
			if l.Annotations["in-toto.io/predicate-type"] != predicateSPDX {
				continue
			}
			var st struct {
				Subject []struct {
					Digest map[string]string `json:"digest"`
				} `json:"subject"`
				Predicate json.RawMessage `json:"predicate"`
			}
			if err := json.Unmarshal(registryGet(t, repo, "blobs", l.Digest.String()), &st); err != nil {
				t.Fatal(err)
			}
			if len(st.Subject) != 1 || "sha256:"+st.Subject[0].Digest["sha256"] != img.Digest.String() {
				t.Errorf("SBOM subject %+v, want %s", st.Subject, img.Digest)
			}
			found = append(found, checkDocument(t, st.Predicate))
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d SBOMs for %s, want 1", len(found), img.Digest)
	}
	return found[0]
}
