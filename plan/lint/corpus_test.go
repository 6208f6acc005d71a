package lint

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	config "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/internal/testkit"
	"github.com/kiln-build/kiln/pipelines"
	"github.com/kiln-build/kiln/plan/melange"
)

// TestWolfiCorpus lints every package configuration of wolfi-dev/os as
// `kiln lint --pipeline-dir pipelines` does: with its pipelines and
// kiln's built-ins, for x86_64 and aarch64. Every configuration must
// compile and every uses: must find a definition (kiln's built-ins cover
// what wolfi uses); the findings per rule are logged.
func TestWolfiCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("lints thousands of configurations")
	}
	files := testkit.MirrorFiles(t, "wolfi-dev/os", func(p string) bool {
		return strings.HasSuffix(p, ".yaml") && (!strings.Contains(p, "/") && !strings.HasPrefix(p, ".") || strings.HasPrefix(p, "pipelines/"))
	})
	user := fstest.MapFS{}
	var names []string
	for p, data := range files {
		if rel, ok := strings.CutPrefix(p, "pipelines/"); ok {
			user[rel] = &fstest.MapFile{Data: data}
		} else {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	opts := MelangeOptions{PipelineDirs: []melange.PipelineDir{{Name: "pipelines", FS: user}, pipelines.Dir()}}
	findings := map[string]int{} // rule -> findings
	withRule := map[string]int{} // rule -> files
	clean := 0
	for _, name := range names {
		c, err := config.Parse(name, files[name])
		if err != nil {
			t.Errorf("parse: %v", err)
			continue
		}
		fs, err := CheckMelange(c, opts)
		if err != nil {
			t.Errorf("compile: %v", err)
			continue
		}
		if len(fs) == 0 {
			clean++
		}
		rules := map[string]bool{}
		for _, f := range fs {
			if f.Rule.Level == Error {
				t.Errorf("%s", f)
			}
			findings[f.Rule.Name]++
			rules[f.Rule.Name] = true
		}
		for r := range rules {
			withRule[r]++
		}
	}
	if len(names) < 1000 {
		t.Errorf("only %d configurations; is the mirror wolfi-dev/os?", len(names))
	}
	var by []string
	for _, r := range Rules {
		if findings[r.Name] > 0 {
			by = append(by, fmt.Sprintf("%s %d in %d files", r.Name, findings[r.Name], withRule[r.Name]))
		}
	}
	t.Logf("%d configurations: %d clean; %s", len(names), clean, strings.Join(by, ", "))
}
