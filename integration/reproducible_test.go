package integration

import "testing"

func TestReproducibleNoCache(t *testing.T) {
	requireStack(t)
	ctx := exampleContext(t, "local-repo", nil, 0)
	var digests []string
	for i := 0; i < 2; i++ {
		l, log := buildOCI(t, ctx, "--no-cache", "--platform", "linux/amd64")
		digests = append(digests, l.Index.Manifests[0].Digest.String())
		// --no-cache means every package is installed again, not served
		// from the cache (BuildKit leaves that to the frontend).
		steps := installSteps(log)
		if len(steps) == 0 {
			t.Fatalf("no install steps in the progress:\n%s", lastLines(log, 20))
		}
		for name, ran := range steps {
			if !ran {
				t.Errorf("build %d: install %s came from the cache despite --no-cache", i+1, name)
			}
		}
	}
	if digests[0] != digests[1] {
		t.Fatalf("two --no-cache builds: %s and %s", digests[0], digests[1])
	}
}
