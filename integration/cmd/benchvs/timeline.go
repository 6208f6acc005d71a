package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// phase is one stretch of a build's timeline.
type phase struct {
	name string
	secs float64
}

// timeline splits a build read from BuildKit's rawjson progress into
// where its wall time went: starting the frontend, the frontend's own
// reads and planning, the image graph, the pause before the exporter
// (BuildKit finishing the result and its attestations), the export, and
// what the client spent outside BuildKit's progress (start-up, the
// session, writing the output). wall is the whole process's time.
func timeline(rawjson string, wall float64) ([]phase, error) {
	type span struct{ start, end time.Time }
	spans := map[string]*span{} // by class
	var first, last time.Time
	widen := func(class string, s, e time.Time) {
		sp := spans[class]
		if sp == nil {
			spans[class] = &span{s, e}
			return
		}
		if s.Before(sp.start) {
			sp.start = s
		}
		if e.After(sp.end) {
			sp.end = e
		}
	}
	sc := bufio.NewScanner(strings.NewReader(rawjson))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var st struct {
			Vertexes []struct {
				Name      string     `json:"name"`
				Started   *time.Time `json:"started"`
				Completed *time.Time `json:"completed"`
			} `json:"vertexes"`
		}
		if json.Unmarshal(sc.Bytes(), &st) != nil {
			continue
		}
		for _, v := range st.Vertexes {
			if v.Started == nil {
				continue
			}
			end := *v.Started
			if v.Completed != nil {
				end = *v.Completed
			}
			if first.IsZero() || v.Started.Before(first) {
				first = *v.Started
			}
			if end.After(last) {
				last = end
			}
			widen(vertexClass(v.Name), *v.Started, end)
		}
	}
	reads, graph, export := spans["reads"], spans["graph"], spans["export"]
	if reads == nil || graph == nil || export == nil {
		return nil, fmt.Errorf("progress lacks the frontend's reads, the image graph or the export")
	}
	sec := func(a, b time.Time) float64 { return b.Sub(a).Seconds() }
	return []phase{
		{"frontend image and start", sec(first, reads.start)},
		{"frontend reads and planning", sec(reads.start, graph.start)},
		{"image graph", sec(graph.start, graph.end)},
		{"result and attestations, before export", sec(graph.end, export.start)},
		{"export", sec(export.start, export.end)},
		{"client, outside BuildKit's progress", wall - sec(first, last)},
	}, nil
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

func printTimeline(title string, ps []phase) {
	var parts []string
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%s %.2f s", p.name, p.secs))
	}
	fmt.Printf("\n%s: %s\n", title, strings.Join(parts, " | "))
}
