package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// phase is one stretch of a build's timeline.
type phase struct {
	name string
	secs float64
}

// buildTimeline is one build read from BuildKit's rawjson progress.
type buildTimeline struct {
	phases []phase
	// cheapestInstall is the shortest install step that ran (cached ones
	// left out) and metadata the metadata step, in seconds; 0 if none ran.
	cheapestInstall float64
	metadata        float64
	// afterInstall is how long after the last install step that ran the
	// two branches that follow it ended: the metadata step, and the
	// by-content copies of the layers that changed (which wait for
	// BuildKit to checksum the step's layer directories). The later one
	// is on the build's critical path. 0 where none ran.
	afterInstall struct{ metadata, copies float64 }
}

// phase returns the seconds of the named phase.
func (t buildTimeline) phase(name string) float64 {
	for _, p := range t.phases {
		if p.name == name {
			return p.secs
		}
	}
	return 0
}

// Phase names, for the floor.
const (
	phaseFrontend = "frontend image and start"
	phaseResult   = "result and attestations, before export"
	phaseExport   = "export"
	phaseClient   = "client, outside BuildKit's progress"
)

// progressVertex is one vertex as rawjson progress reports it, merged over
// the lines it appears on.
type progressVertex struct {
	name       string
	start, end time.Time
	cached     bool
}

// progressVertices reads rawjson progress: vertices in the order they
// first appear, each with its earliest start and latest completion.
func progressVertices(rawjson string) []*progressVertex {
	byDigest := map[string]*progressVertex{}
	var out []*progressVertex
	progressLines(rawjson, func(line []byte) {
		var st struct {
			Vertexes []struct {
				Digest    string     `json:"digest"`
				Name      string     `json:"name"`
				Started   *time.Time `json:"started"`
				Completed *time.Time `json:"completed"`
				Cached    bool       `json:"cached"`
			} `json:"vertexes"`
		}
		if json.Unmarshal(line, &st) != nil {
			return
		}
		for _, v := range st.Vertexes {
			if v.Started == nil {
				continue
			}
			end := *v.Started
			if v.Completed != nil {
				end = *v.Completed
			}
			pv := byDigest[v.Digest]
			if pv == nil {
				pv = &progressVertex{name: v.Name, start: *v.Started, end: end}
				byDigest[v.Digest] = pv
				out = append(out, pv)
			}
			if v.Started.Before(pv.start) {
				pv.start = *v.Started
			}
			pv.end = later(pv.end, end)
			pv.cached = pv.cached || v.Cached
		}
	})
	return out
}

// progressLines calls fn with each line of rawjson progress (one JSON
// status update each).
func progressLines(rawjson string, fn func(line []byte)) {
	sc := bufio.NewScanner(strings.NewReader(rawjson))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		fn(sc.Bytes())
	}
}

// timeline splits a build read from BuildKit's rawjson progress into
// where its wall time went: starting the frontend, the frontend's own
// reads and planning, the image graph, the pause before the exporter
// (BuildKit finishing the result and its attestations), the export, and
// what the client spent outside BuildKit's progress (start-up, the
// session, writing the output). wall is the whole process's time.
func timeline(rawjson string, wall float64) (buildTimeline, error) {
	type span struct{ start, end time.Time }
	spans := map[string]*span{} // by class
	var first, last time.Time
	var t buildTimeline
	var installs []float64
	var installEnd, metaEnd, copiesEnd time.Time
	for _, v := range progressVertices(rawjson) {
		if first.IsZero() || v.start.Before(first) {
			first = v.start
		}
		last = later(last, v.end)
		class := vertexClass(v.name)
		if sp := spans[class]; sp == nil {
			spans[class] = &span{v.start, v.end}
		} else {
			if v.start.Before(sp.start) {
				sp.start = v.start
			}
			sp.end = later(sp.end, v.end)
		}
		if v.cached {
			continue
		}
		switch secs := v.end.Sub(v.start).Seconds(); {
		case strings.Contains(v.name, "] install "):
			installs = append(installs, secs)
			installEnd = later(installEnd, v.end)
		case strings.Contains(v.name, "] generate installed database"):
			t.metadata = secs
			metaEnd = v.end
		case strings.Contains(v.name, "] layer of ") && strings.HasSuffix(v.name, ", by content"):
			copiesEnd = later(copiesEnd, v.end)
		}
	}
	if len(installs) > 0 {
		t.cheapestInstall = slices.Min(installs)
		if !metaEnd.IsZero() {
			t.afterInstall.metadata = metaEnd.Sub(installEnd).Seconds()
		}
		if !copiesEnd.IsZero() {
			t.afterInstall.copies = copiesEnd.Sub(installEnd).Seconds()
		}
	}
	reads, graph, export := spans["reads"], spans["graph"], spans["export"]
	if reads == nil || graph == nil || export == nil {
		return t, fmt.Errorf("progress lacks the frontend's reads, the image graph or the export")
	}
	sec := func(a, b time.Time) float64 { return b.Sub(a).Seconds() }
	t.phases = []phase{
		{phaseFrontend, sec(first, reads.start)},
		{"frontend reads and planning", sec(reads.start, graph.start)},
		{"image graph", sec(graph.start, graph.end)},
		{phaseResult, sec(graph.end, export.start)},
		{phaseExport, sec(export.start, export.end)},
		{phaseClient, wall - sec(first, last)},
	}
	return t, nil
}

// later is the later of two times.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// medianTimeline is the median of each phase, of the cheapest install
// step, of the metadata step and of the branches after the last install
// step over builds of one case.
func medianTimeline(ts []buildTimeline) buildTimeline {
	if len(ts) == 0 {
		return buildTimeline{}
	}
	var out buildTimeline
	var cheapest, meta, afterMeta, afterCopies []float64
	for i, p := range ts[0].phases {
		var secs []float64
		for _, t := range ts {
			secs = append(secs, t.phases[i].secs)
		}
		out.phases = append(out.phases, phase{p.name, summarize(secs).med})
	}
	for _, t := range ts {
		cheapest, meta = append(cheapest, t.cheapestInstall), append(meta, t.metadata)
		afterMeta, afterCopies = append(afterMeta, t.afterInstall.metadata), append(afterCopies, t.afterInstall.copies)
	}
	out.cheapestInstall, out.metadata = summarize(cheapest).med, summarize(meta).med
	out.afterInstall.metadata, out.afterInstall.copies = summarize(afterMeta).med, summarize(afterCopies).med
	return out
}

// vertexClass sorts a kiln build's vertex by the phase it belongs to.
func vertexClass(name string) string {
	switch {
	case strings.HasPrefix(name, "exporting"):
		return "export"
	case strings.Contains(name, "resolve image config"), strings.HasPrefix(name, "docker-image://"):
		return "frontend"
	case strings.HasPrefix(name, "[internal] load"), strings.Contains(name, "fetch index"), strings.Contains(name, "metadata"):
		return "reads"
	}
	return "graph"
}

func printTimeline(title string, t buildTimeline) {
	var parts []string
	for _, p := range t.phases {
		parts = append(parts, fmt.Sprintf("%s %.2f s", p.name, p.secs))
	}
	fmt.Printf("\n%s: %s\n", title, strings.Join(parts, " | "))
	var after []string
	if a := t.afterInstall; a.metadata > 0 {
		after = append(after, fmt.Sprintf("the metadata step done in %.2f s", a.metadata))
	}
	if a := t.afterInstall; a.copies > 0 {
		after = append(after, fmt.Sprintf("the new layers' by-content copies (after BuildKit checksums the step's layer directories) in %.2f s", a.copies))
	}
	if len(after) > 0 {
		fmt.Printf("  after the last install step that ran, side by side: %s\n", strings.Join(after, ", "))
	}
}
