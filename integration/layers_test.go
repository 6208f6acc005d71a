package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/integration/ocitest"
)

func TestOnePackageBump(t *testing.T) {
	requireStack(t)
	ctx := exampleContext(t, "local-repo", nil, 0)
	before, _ := buildOCI(t, ctx, "--platform", "linux/amd64")
	// Bump hello; every other package is rewritten byte-identical.
	os.RemoveAll(filepath.Join(ctx, "packages"))
	writeRepo(t, filepath.Join(ctx, "packages"), map[string]string{"hello": "2.13-r0"}, 0)
	after, log := buildOCI(t, ctx, "--platform", "linux/amd64")

	// Only the install batch that holds hello ran again.
	steps := installSteps(log)
	var ran []string
	for name, didRun := range steps {
		if didRun {
			ran = append(ran, name)
		}
	}
	if len(ran) != 1 || !strings.Contains(ran[0], "hello-2.13-r0") {
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
