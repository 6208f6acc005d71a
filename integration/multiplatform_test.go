package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spdx/tools-golang/spdx"
)

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
