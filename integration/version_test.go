package integration

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestVersion checks `kiln version` and that the frontend image under
// test carries the version this checkout builds as (hack/version), which
// push-frontend.sh also links into its binary.
func TestVersion(t *testing.T) {
	requireStack(t)
	out, err := exec.Command(hostKiln(t), "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^kiln \S+ \(go1\.\S+ linux/\w+\)\n$`).Match(out) {
		t.Errorf("kiln version printed %q", out)
	}
	bin := filepath.Join(t.TempDir(), "kiln")
	want, err := exec.Command("bash", "../hack/version").Output()
	if err != nil {
		t.Fatal(err)
	}
	v := strings.TrimSpace(string(want))
	if out, err := exec.Command("go", "build", "-ldflags", "-X main.version="+v, "-o", bin, "../cmd/kiln").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, _ := exec.Command(bin, "version", "--short").Output(); strings.TrimSpace(string(out)) != v {
		t.Errorf("a binary linked with version %s says %q", v, out)
	}

	// The frontend image is an index of one image per architecture
	// (push-frontend.sh builds both); each carries the version label.
	repo, tag, _ := strings.Cut(strings.TrimPrefix(frontendImage(), registry+"/"), ":")
	var idx ocispecs.Index
	if err := json.Unmarshal(registryGet(t, repo, "manifests", tag), &idx); err != nil {
		t.Fatal(err)
	}
	manifests := idx.Manifests
	if idx.MediaType != ocispecs.MediaTypeImageIndex {
		manifests = []ocispecs.Descriptor{{Digest: digest.FromBytes(registryGet(t, repo, "manifests", tag))}}
	}
	for _, d := range manifests {
		var m ocispecs.Manifest
		if err := json.Unmarshal(registryGet(t, repo, "manifests", d.Digest.String()), &m); err != nil {
			t.Fatal(err)
		}
		if m.Config.Digest == "" {
			continue // an attestation manifest's descriptor or an unexpected kind
		}
		var cfg ocispecs.Image
		if err := json.Unmarshal(registryGet(t, repo, "blobs", m.Config.Digest.String()), &cfg); err != nil {
			t.Fatal(err)
		}
		if got := cfg.Config.Labels["org.opencontainers.image.version"]; got != v {
			t.Errorf("the frontend image %s (%s) says version %q, this checkout builds as %q (pushed from another tree?)",
				frontendImage(), cfg.Architecture, got, v)
		}
	}
}
