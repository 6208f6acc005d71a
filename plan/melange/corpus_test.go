package melange

import (
	"errors"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	config "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/internal/testkit"
)

// corpusDirs are wolfi-dev/os's pipelines and melange's built-in ones,
// from the mirrors, as melange finds them with --pipeline-dir.
func corpusDirs(t *testing.T, wolfi map[string][]byte) []PipelineDir {
	t.Helper()
	const builtin = "pkg/build/pipelines/"
	mel := testkit.MirrorFiles(t, "chainguard-dev/melange", func(p string) bool {
		return strings.HasPrefix(p, builtin) && strings.HasSuffix(p, ".yaml")
	})
	user, std := fstest.MapFS{}, fstest.MapFS{}
	for p, data := range wolfi {
		if rel, ok := strings.CutPrefix(p, "pipelines/"); ok {
			user[rel] = &fstest.MapFile{Data: data}
		}
	}
	for p, data := range mel {
		std[strings.TrimPrefix(p, builtin)] = &fstest.MapFile{Data: data}
	}
	return []PipelineDir{{Name: "pipelines", FS: user}, {Name: "melange", FS: std}}
}

// TestWolfiCorpus plans every package configuration of wolfi-dev/os for
// x86_64 and aarch64, with its pipelines and melange's.
func TestWolfiCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("plans thousands of configurations")
	}
	files := testkit.MirrorFiles(t, "wolfi-dev/os", func(p string) bool {
		return strings.HasSuffix(p, ".yaml") && (!strings.Contains(p, "/") && !strings.HasPrefix(p, ".") || strings.HasPrefix(p, "pipelines/"))
	})
	dirs := corpusDirs(t, files)
	var names []string
	for n := range files {
		if !strings.HasPrefix(n, "pipelines/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var planned, skipped, unparsed, steps, fetches, checkouts int
	for _, name := range names {
		c, err := config.Parse(name, files[name])
		if err != nil {
			unparsed++ // config/melange's corpus test accounts for these
			continue
		}
		for _, arch := range []string{"x86_64", "aarch64"} {
			p, err := Compile(c, Options{Arch: arch, PipelineDirs: dirs})
			if errors.Is(err, ErrArchNotTargeted) {
				skipped++
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", arch, err)
				continue
			}
			planned++
			all := append([]Step{}, p.Pipeline...)
			for _, s := range p.Subpackages {
				all = append(all, s.Pipeline...)
			}
			for _, s := range all {
				switch s.(type) {
				case *Fetch:
					fetches++
				case *GitCheckout:
					checkouts++
				}
			}
			steps += len(all)
		}
	}
	if planned < 2000 {
		t.Errorf("only %d plans; is the mirror wolfi-dev/os?", planned)
	}
	t.Logf("%d configurations: %d plans for x86_64 and aarch64 (%d build steps: %d fetch, %d git-checkout), %d not targeted, %d not parsed",
		len(names), planned, steps, fetches, checkouts, skipped, unparsed)
}
