package main

import (
	"math"
	"testing"
)

func TestTimeline(t *testing.T) {
	// Progress as buildx prints it with --progress rawjson: vertices
	// appear first started, then again completed.
	raw := `{"vertexes":[{"digest":"a","name":"resolve image config for docker-image://r/kiln:dev","started":"2026-12-02T10:00:00Z"}]}
{"vertexes":[{"digest":"a","name":"resolve image config for docker-image://r/kiln:dev","started":"2026-12-02T10:00:00Z","completed":"2026-12-02T10:00:00.1Z"}]}
{"vertexes":[{"digest":"b","name":"[internal] load build definition from apko.yaml","started":"2026-12-02T10:00:00.5Z","completed":"2026-12-02T10:00:00.6Z"}]}
{"vertexes":[{"digest":"c","name":"[internal] load build context","started":"2026-12-02T10:00:00.7Z","completed":"2026-12-02T10:00:00.8Z"}]}
{"vertexes":[{"digest":"d","name":"[x86_64] install busybox-1.36.1-r0","started":"2026-12-02T10:00:00.9Z","completed":"2026-12-02T10:00:01.4Z","cached":false}]}
{"vertexes":[{"digest":"e","name":"[x86_64] assemble image (3 layers)","started":"2026-12-02T10:00:01.4Z","completed":"2026-12-02T10:00:01.5Z"}]}
not json
{"vertexes":[{"digest":"f","name":"exporting to oci image format","started":"2026-12-02T10:00:01.8Z","completed":"2026-12-02T10:00:02.0Z"}]}
`
	ps, err := timeline(raw, 2.5)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.5, 0.4, 0.6, 0.3, 0.2, 0.5}
	if len(ps) != len(want) {
		t.Fatalf("got %d phases, want %d", len(ps), len(want))
	}
	for i, p := range ps {
		if math.Abs(p.secs-want[i]) > 1e-9 {
			t.Errorf("%s: got %.3f s, want %.3f s", p.name, p.secs, want[i])
		}
	}
	if _, err := timeline(`{"vertexes":[]}`, 1); err == nil {
		t.Error("progress without the phases gave no error")
	}
}
