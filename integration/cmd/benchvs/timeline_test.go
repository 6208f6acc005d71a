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
{"vertexes":[{"digest":"g","name":"[x86_64] install hello-2.12-r0","started":"2026-12-02T10:00:00.9Z","completed":"2026-12-02T10:00:00.9Z","cached":true}]}
{"vertexes":[{"digest":"h","name":"[x86_64] generate installed database, accounts and links","started":"2026-12-02T10:00:01.4Z"}]}
{"vertexes":[{"digest":"h","name":"[x86_64] generate installed database, accounts and links","started":"2026-12-02T10:00:01.4Z","completed":"2026-12-02T10:00:01.45Z"}]}
{"vertexes":[{"digest":"i","name":"[x86_64] layer of hello-2.12-r0, by content","started":"2026-12-02T10:00:01.4Z","completed":"2026-12-02T10:00:01.4Z","cached":true}]}
{"vertexes":[{"digest":"j","name":"[x86_64] layer of busybox-1.36.1-r0, by content","started":"2026-12-02T10:00:01.42Z","completed":"2026-12-02T10:00:01.48Z"}]}
{"vertexes":[{"digest":"e","name":"[x86_64] assemble image (3 layers)","started":"2026-12-02T10:00:01.4Z","completed":"2026-12-02T10:00:01.5Z"}]}
not json
{"vertexes":[{"digest":"f","name":"exporting to oci image format","started":"2026-12-02T10:00:01.8Z","completed":"2026-12-02T10:00:02.0Z"}]}
`
	tl, err := timeline(raw, 2.5)
	if err != nil {
		t.Fatal(err)
	}
	ps := tl.phases
	want := []float64{0.5, 0.4, 0.6, 0.3, 0.2, 0.5}
	if len(ps) != len(want) {
		t.Fatalf("got %d phases, want %d", len(ps), len(want))
	}
	for i, p := range ps {
		if math.Abs(p.secs-want[i]) > 1e-9 {
			t.Errorf("%s: got %.3f s, want %.3f s", p.name, p.secs, want[i])
		}
	}
	// The cached install step is no install step's time.
	if math.Abs(tl.cheapestInstall-0.5) > 1e-9 || math.Abs(tl.metadata-0.05) > 1e-9 {
		t.Errorf("cheapest install step %.3f s, metadata %.3f s; want 0.500, 0.050", tl.cheapestInstall, tl.metadata)
	}
	// After the install step that ran (ended 1.4): the metadata step at
	// 1.45, the copy that ran at 1.48; the cached copy is none.
	if a := tl.afterInstall; math.Abs(a.metadata-0.05) > 1e-9 || math.Abs(a.copies-0.08) > 1e-9 {
		t.Errorf("after the install step: metadata %.3f s, copies %.3f s; want 0.050, 0.080", a.metadata, a.copies)
	}
	if _, err := timeline(`{"vertexes":[]}`, 1); err == nil {
		t.Error("progress without the phases gave no error")
	}
}

func TestFloors(t *testing.T) {
	tl := func(frontend, result, export, client, cheapest float64) buildTimeline {
		return buildTimeline{phases: []phase{{phaseFrontend, frontend}, {phaseResult, result}, {phaseExport, export}, {phaseClient, client}}, cheapestInstall: cheapest}
	}
	got := floors(floorTimelines{
		cold:      tl(9, 9, 1.0, 9, 0.9),
		warm:      tl(0.2, 0.1, 0.05, 0.4, 0),
		bump:      tl(9, 9, 0.5, 9, 0.7),
		container: tl(9, 9, 9, 9, 0.2),
	})
	want := map[string]float64{"cold": 0.7 + 1.0 + 0.2, "warm": 0.7 + 0.05, "bump": 0.7 + 0.5 + 0.2}
	if len(got) != len(want) {
		t.Fatalf("got %d cases, want %d", len(got), len(want))
	}
	for _, c := range got {
		if math.Abs(c.secs()-want[c.name]) > 1e-9 {
			t.Errorf("%s floor %.3f s (%v), want %.3f s", c.name, c.secs(), c.parts, want[c.name])
		}
	}
}

func TestMedianTimeline(t *testing.T) {
	tl := func(export, cheapest, meta float64) buildTimeline {
		return buildTimeline{phases: []phase{{phaseExport, export}}, cheapestInstall: cheapest, metadata: meta}
	}
	m := medianTimeline([]buildTimeline{tl(3, 0.3, 0.5), tl(1, 0.1, 0.4), tl(2, 0.2, 0.9)})
	if m.phase(phaseExport) != 2 || m.cheapestInstall != 0.2 || m.metadata != 0.5 {
		t.Errorf("median timeline: export %.1f, cheapest install %.1f, metadata %.1f; want 2, 0.2, 0.5",
			m.phase(phaseExport), m.cheapestInstall, m.metadata)
	}
}
