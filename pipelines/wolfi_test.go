package pipelines

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"gopkg.in/yaml.v3"

	config "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/internal/testkit"
	"github.com/kiln-build/kiln/plan/melange"
)

// wolfi is the public wolfi-dev/os repository, from its mirror: its
// package configurations (top-level *.yaml) and its own pipeline
// directory, which its builds pass to melange with --pipeline-dir.
type wolfi struct {
	configs   map[string][]byte
	pipelines fstest.MapFS
}

func loadWolfi(t *testing.T) wolfi {
	t.Helper()
	files := testkit.MirrorFiles(t, "wolfi-dev/os", func(p string) bool {
		return strings.HasSuffix(p, ".yaml") && (!strings.Contains(p, "/") && !strings.HasPrefix(p, ".") || strings.HasPrefix(p, "pipelines/"))
	})
	w := wolfi{configs: map[string][]byte{}, pipelines: fstest.MapFS{}}
	for p, data := range files {
		if rel, ok := strings.CutPrefix(p, "pipelines/"); ok {
			w.pipelines[rel] = &fstest.MapFile{Data: data}
		} else {
			w.configs[p] = data
		}
	}
	if len(w.configs) < 1000 {
		t.Fatalf("only %d configurations; is the mirror wolfi-dev/os?", len(w.configs))
	}
	return w
}

// dirs are the pipeline directories a wolfi build searches: wolfi's own,
// then the built-ins.
func (w wolfi) dirs() []melange.PipelineDir {
	return []melange.PipelineDir{{Name: "pipelines", FS: w.pipelines}, Dir()}
}

// stepUses appends the uses: of steps and of the steps nested in them.
func stepUses(steps []config.Step, out *[]string) {
	for _, s := range steps {
		if s.Uses.Value != "" {
			*out = append(*out, s.Uses.Value)
		}
		stepUses(s.Pipeline, out)
	}
}

// configUses lists every uses: of a configuration: its pipeline, its
// subpackages' and its tests'.
func configUses(c *config.Config) []string {
	var out []string
	stepUses(c.Pipeline, &out)
	if c.Test != nil {
		stepUses(c.Test.Pipeline, &out)
	}
	for _, sp := range c.Subpackages {
		stepUses(sp.Pipeline, &out)
		if sp.Test != nil {
			stepUses(sp.Test.Pipeline, &out)
		}
	}
	return out
}

// nodeUses lists the uses: values anywhere in a YAML document, for the
// configurations kiln's parser refuses.
func nodeUses(n *yaml.Node, out *[]string) {
	if n == nil {
		return
	}
	if n.Kind == yaml.AliasNode {
		nodeUses(n.Alias, out)
		return
	}
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 && c.Value == "uses" && i+1 < len(n.Content) && n.Content[i+1].Kind == yaml.ScalarNode {
			*out = append(*out, n.Content[i+1].Value)
		}
		nodeUses(c, out)
	}
}

// Where a uses: name resolves in a wolfi build.
const (
	classNative  = "native (plan/melange)"
	classWolfi   = "wolfi's pipeline directory"
	classBuiltin = "kiln built-in"
	classMissing = "MISSING"
)

func (w wolfi) classify(name string) string {
	switch {
	case slices.Contains(native, name):
		return classNative
	case w.pipelines[name+".yaml"] != nil:
		return classWolfi
	case slices.Contains(Names(), name):
		return classBuiltin
	}
	return classMissing
}

// TestWolfiUses lists every uses: of wolfi-dev/os (configurations and
// wolfi's own pipeline definitions), says where each resolves, and
// fails when one that kiln lists as supported does not resolve. Names
// resolving nowhere are printed, not failed on.
func TestWolfiUses(t *testing.T) {
	w := loadWolfi(t)
	count := map[string]int{} // uses: name -> times used
	fallback := 0
	for name, data := range w.configs {
		var uses []string
		c, err := config.Parse(name, data)
		if err == nil {
			uses = configUses(c)
		} else {
			var doc yaml.Node
			if yaml.Unmarshal(data, &doc) != nil {
				t.Errorf("%s: not YAML", name)
				continue
			}
			fallback++
			nodeUses(&doc, &uses)
		}
		for _, u := range uses {
			count[u]++
		}
	}
	for p, f := range w.pipelines {
		pf, err := config.ParsePipeline("pipelines/"+p, f.Data)
		if err != nil {
			t.Errorf("wolfi's pipeline %s: %v", p, err)
			continue
		}
		var uses []string
		stepUses(pf.Pipeline, &uses)
		for _, u := range uses {
			count[u]++
		}
	}

	byClass := map[string][]string{}
	total := map[string]int{}
	for name, n := range count {
		c := w.classify(name)
		byClass[c] = append(byClass[c], name)
		total[c] += n
		if _, ok := supported[name]; ok && c == classMissing {
			t.Errorf("%s is used %d times and listed as supported, but kiln has no definition", name, n)
		}
	}
	byUse := func(names []string) []string {
		sort.Slice(names, func(i, j int) bool {
			if count[names[i]] != count[names[j]] {
				return count[names[i]] > count[names[j]]
			}
			return names[i] < names[j]
		})
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = fmt.Sprintf("%s (%d)", n, count[n])
		}
		return out
	}
	t.Logf("%d configurations (%d read without kiln's parser, which refuses them) and %d wolfi pipeline definitions: %d distinct uses: names",
		len(w.configs), fallback, len(w.pipelines), len(count))
	for _, c := range []string{classNative, classBuiltin, classWolfi, classMissing} {
		t.Logf("%s: %d names, %d uses: %s", c, len(byClass[c]), total[c], strings.Join(byUse(byClass[c]), ", "))
	}

	t.Run("melange's built-ins", func(t *testing.T) {
		mel := melangeDefinitions(t)
		var used, unused []string
		for name := range mel {
			if count[name] > 0 && w.classify(name) != classWolfi {
				used = append(used, name)
			} else {
				unused = append(unused, name)
			}
			if count[name] > 0 && w.classify(name) == classMissing {
				t.Errorf("wolfi uses melange's built-in %s, which kiln lacks", name)
			}
		}
		slices.Sort(unused)
		t.Logf("wolfi-dev/os uses %d of melange's %d built-ins; not used: %s", len(used), len(mel), strings.Join(unused, ", "))
	})
}

// allSteps are the steps of every pipeline of a plan, tests included.
func allSteps(p *melange.Plan) []melange.Step {
	out := steps(p)
	if p.Test != nil {
		out = append(out, p.Test.Pipeline...)
	}
	for _, sp := range p.Subpackages {
		if sp.Test != nil {
			out = append(out, sp.Test.Pipeline...)
		}
	}
	return out
}

// extraPackages are the packages the used pipelines add to the build
// and test environments.
func extraPackages(p *melange.Plan) string {
	var out []string
	add := func(e melange.Environment) {
		for _, s := range e.ExtraPackages {
			out = append(out, s.Value)
		}
		out = append(out, "|")
	}
	add(p.Environment)
	if p.Test != nil {
		add(p.Test.Environment)
	}
	for _, sp := range p.Subpackages {
		if sp.Test != nil {
			add(sp.Test.Environment)
		}
	}
	return strings.Join(out, " ")
}

// shape describes a step as far as it does not depend on the script's
// text: its kind, name, working directory, environment and nesting.
func shape(s melange.Step) string {
	i := s.Info()
	return fmt.Sprintf("%T %q in %s env %v via %d", s, i.Name, i.WorkDir, i.Env, len(i.Via))
}

// TestWolfiCompile plans every wolfi-dev/os configuration for x86_64 and
// aarch64 with wolfi's pipelines and kiln's built-ins, as a wolfi build
// does. Every plan must succeed; with melange's mirror, each must also
// need the same packages and have the same steps (names, working
// directories, environments) as with melange's own definitions. Every
// distinct script the built-ins compile to must parse with busybox sh.
func TestWolfiCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("plans thousands of configurations")
	}
	w := loadWolfi(t)
	var melDirs []melange.PipelineDir
	t.Run("melange mirror", func(t *testing.T) {
		mel := fstest.MapFS{}
		const dir = "pkg/build/pipelines/"
		for p, data := range testkit.MirrorFiles(t, "chainguard-dev/melange", func(p string) bool {
			return strings.HasPrefix(p, dir) && strings.HasSuffix(p, ".yaml")
		}) {
			mel[strings.TrimPrefix(p, dir)] = &fstest.MapFile{Data: data}
		}
		melDirs = []melange.PipelineDir{{Name: "pipelines", FS: w.pipelines}, {Name: "melange", FS: mel}}
	})

	names := slices.Sorted(maps.Keys(w.configs))
	var planned, notTargeted, unparsed, usesErrors, compared, steps int
	// The distinct scripts the built-ins compile to, by the step of the
	// definition they come from, and where each was first compiled.
	scripts := map[melange.Pos]map[string]string{}
	for _, name := range names {
		c, err := config.Parse(name, w.configs[name])
		if err != nil {
			unparsed++ // config/melange's corpus test accounts for these
			continue
		}
		for _, arch := range []string{"x86_64", "aarch64"} {
			p, err := melange.Compile(c, melange.Options{Arch: arch, PipelineDirs: w.dirs()})
			if errors.Is(err, melange.ErrArchNotTargeted) {
				notTargeted++
				continue
			}
			if err != nil {
				if strings.Contains(err.Error(), "uses:") || strings.Contains(err.Error(), "with:") {
					usesErrors++
				}
				t.Errorf("%s: %v", arch, err)
				continue
			}
			planned++
			all := allSteps(p)
			steps += len(all)
			for _, s := range all {
				if r, ok := s.(*melange.Run); ok && strings.HasPrefix(r.Pos.File, DirName+"/") {
					if scripts[r.Pos] == nil {
						scripts[r.Pos] = map[string]string{}
					}
					if _, seen := scripts[r.Pos][r.Command()[2]]; !seen {
						scripts[r.Pos][r.Command()[2]] = arch + ": " + r.Where()
					}
				}
			}
			if melDirs == nil {
				continue
			}
			q, err := melange.Compile(c, melange.Options{Arch: arch, PipelineDirs: melDirs})
			if err != nil {
				t.Errorf("%s with melange's definitions: %v", arch, err)
				continue
			}
			compared++
			if got, want := extraPackages(p), extraPackages(q); got != want {
				t.Errorf("%s %s: the built-ins need %s; melange's need %s", name, arch, got, want)
			}
			theirs := allSteps(q)
			if len(all) != len(theirs) {
				t.Errorf("%s %s: %d steps; %d with melange's definitions", name, arch, len(all), len(theirs))
				continue
			}
			for i := range all {
				if got, want := shape(all[i]), shape(theirs[i]); got != want {
					t.Errorf("%s %s: step %d (%s)\n got: %s\nwant: %s", name, arch, i, all[i].Info().Where(), got, want)
				}
			}
		}
	}
	t.Logf("%d configurations: %d plans for x86_64 and aarch64 (%d steps), %d not targeted, %d not parsed, %d failed on uses:/with:; %d compared with melange's definitions",
		len(names), planned, steps, notTargeted, unparsed, usesErrors, compared)
	if planned < 2000 {
		t.Errorf("only %d plans", planned)
	}

	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Log("busybox not found; compiled scripts not checked")
		return
	}
	// Starting busybox for each of the many thousand scripts takes
	// minutes; by default an evenly spread sample of each definition
	// step's scripts is checked. KILN_SCRIPT_SAMPLE=0 checks them all.
	sample := 40
	if v := os.Getenv("KILN_SCRIPT_SAMPLE"); v != "" {
		fmt.Sscan(v, &sample)
	}
	where := map[string]string{}
	distinct := 0
	for _, group := range scripts {
		texts := slices.Sorted(maps.Keys(group))
		distinct += len(texts)
		n := len(texts)
		if sample > 0 && n > sample {
			n = sample
		}
		for i := range n {
			text := texts[i*len(texts)/n]
			where[text] = group[text]
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan string)
	bad := 0
	for range 2 {
		wg.Go(func() {
			for script := range work {
				if err := syntaxError(bb, script); err != nil {
					mu.Lock()
					bad++
					t.Errorf("%s: %v", where[script], err)
					mu.Unlock()
				}
			}
		})
	}
	for script := range where {
		work <- script
	}
	close(work)
	wg.Wait()
	t.Logf("the built-ins compile to %d distinct scripts from %d steps; %d checked with busybox sh -n, %d do not parse",
		distinct, len(scripts), len(where), bad)
}
