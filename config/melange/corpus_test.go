package melange

import (
	"sort"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/internal/testkit"
)

// kilnStricter are errors kiln reports on configurations melange builds,
// each on purpose, with why. None at the moment: `pkg==1.0`, the one
// there was, is apk's `pkg=1.0` (apk-tools ORs the operator's characters).
var kilnStricter []struct{ msg, why string }

// TestWolfiCorpus parses every package configuration (the top-level
// YAML files) and every pipeline definition of wolfi-dev/os, thousands
// of real files that melange builds.
func TestWolfiCorpus(t *testing.T) {
	files := testkit.MirrorFiles(t, "wolfi-dev/os", func(p string) bool {
		return strings.HasSuffix(p, ".yaml") && (!strings.Contains(p, "/") && !strings.HasPrefix(p, ".") || strings.HasPrefix(p, "pipelines/"))
	})
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var configs, pipelines, stricter int
	for _, name := range names {
		var err error
		if strings.HasPrefix(name, "pipelines/") {
			pipelines++
			_, err = ParsePipeline(name, files[name])
		} else {
			configs++
			_, err = Parse(name, files[name])
		}
		if err == nil {
			continue
		}
		known := false
		for _, k := range kilnStricter {
			if strings.Contains(err.Error(), k.msg) {
				t.Logf("refused on purpose (%s): %v", k.why, err)
				stricter++
				known = true
			}
		}
		if !known {
			t.Errorf("%v", err)
		}
	}
	if configs < 1000 {
		t.Errorf("only %d configurations in the mirror; is it the wolfi-dev/os repository?", configs)
	}
	t.Logf("parsed %d package configurations and %d pipeline definitions of wolfi-dev/os (%d refused on purpose)",
		configs, pipelines, stricter)
}

// TestMelangePipelines parses the pipeline definitions built into
// melange.
func TestMelangePipelines(t *testing.T) {
	files := testkit.MirrorFiles(t, "chainguard-dev/melange", func(p string) bool {
		return strings.HasPrefix(p, "pkg/build/pipelines/") && strings.HasSuffix(p, ".yaml")
	})
	for name, data := range files {
		if _, err := ParsePipeline(name, data); err != nil {
			t.Error(err)
		}
	}
	if len(files) < 40 {
		t.Errorf("only %d definitions; is the mirror chainguard-dev/melange?", len(files))
	}
	t.Logf("parsed %d of melange's pipeline definitions", len(files))
}
