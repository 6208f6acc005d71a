package melange

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	config "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/internal/testkit"
	"github.com/kiln-build/kiln/plan/melange/expr"
)

// melangeBin is a melange binary to compare plans with: KILN_MELANGE, or
// where the project's tooling installs one.
func melangeBin() string {
	if b := os.Getenv("KILN_MELANGE"); b != "" {
		return b
	}
	return "/var/lib/kiln-peers/bin/melange"
}

// TestMelangeCompileParity compares plans of a sample of wolfi-dev/os
// configurations with what `melange compile` makes of them, and logs how
// many agree and how the others differ. melange reformats scripts with a
// shell printer (dropping comments), so scripts are compared as written,
// then ignoring comments and layout. It is a report: the differences are
// for reading, not expectations.
func TestMelangeCompileParity(t *testing.T) {
	bin := melangeBin()
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no melange binary (%v); set KILN_MELANGE", err)
	}
	files := testkit.MirrorFiles(t, "wolfi-dev/os", func(p string) bool {
		return strings.HasSuffix(p, ".yaml") && (!strings.Contains(p, "/") && !strings.HasPrefix(p, ".") || strings.HasPrefix(p, "pipelines/"))
	})
	dirs := corpusDirs(t, files)
	work := t.TempDir()
	var names []string
	for p, data := range files {
		if err := os.MkdirAll(filepath.Join(work, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, p), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p, "pipelines/") {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	sample := 50
	if s := os.Getenv("KILN_PARITY_SAMPLE"); s != "" {
		fmt.Sscan(s, &sample)
	}
	kinds := map[string]int{}
	agree, compared := 0, 0
	for i := 0; i < sample && i < len(names); i++ {
		name := names[i*len(names)/sample]
		c, err := config.Parse(name, files[name])
		if err != nil {
			kinds["kiln cannot parse"]++
			continue
		}
		ours, ourErr := Compile(c, Options{Arch: "x86_64", PipelineDirs: dirs})
		theirs, theirErr := melangeCompile(bin, work, name)
		switch {
		case ourErr != nil && theirErr != nil:
			kinds["both refuse"]++
			continue
		case ourErr != nil:
			t.Logf("%s: kiln refuses what melange compiles: %v", name, ourErr)
			kinds["only kiln refuses"]++
			continue
		case theirErr != nil:
			t.Logf("%s: melange refuses what kiln plans: %v", name, theirErr)
			kinds["only melange refuses"]++
			continue
		}
		compared++
		diffs := compareWithMelange(ours, theirs)
		if len(diffs) == 0 {
			agree++
		}
		seen := map[string]bool{}
		for _, d := range diffs {
			t.Logf("%s: %s", name, d.detail)
			if !seen[d.kind] {
				seen[d.kind] = true
				kinds[d.kind]++
			}
		}
	}
	var ks []string
	for k, n := range kinds {
		ks = append(ks, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(ks)
	t.Logf("melange compile --arch x86_64 on %d configurations: %d compared, %d agree (scripts equal ignoring comments and layout, same steps, subpackages and packages); configurations per kind of difference: %s",
		sample, compared, agree, strings.Join(ks, "; "))
}

// melangeCompile runs melange compile on one configuration.
func melangeCompile(bin, work, name string) (*melangeConfig, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "compile", "--arch", "x86_64", "--pipeline-dir", filepath.Join(work, "pipelines"),
		"--git-commit", "unknown", "--git-repo-url", "https://example.com/unknown", filepath.Join(work, name))
	cmd.Dir = work
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := stderr.String()
		if i := strings.LastIndex(strings.TrimSpace(msg), "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(msg))
	}
	var c melangeConfig
	if err := json.Unmarshal(out, &c); err != nil {
		return nil, fmt.Errorf("reading melange compile output: %v", err)
	}
	return &c, nil
}

// melangeConfig is the part of melange compile's JSON compared here.
type melangeConfig struct {
	Environment struct {
		Contents struct {
			Packages []string `json:"packages"`
		} `json:"contents"`
	} `json:"environment"`
	Pipeline    []melangeStep `json:"pipeline"`
	Subpackages []struct {
		If       string        `json:"if"`
		Name     string        `json:"name"`
		Pipeline []melangeStep `json:"pipeline"`
		Test     *melangeTest  `json:"test"`
	} `json:"subpackages"`
	Test *melangeTest `json:"test"`
}

type melangeTest struct {
	Pipeline []melangeStep `json:"pipeline"`
}

type melangeStep struct {
	If       string            `json:"if"`
	Uses     string            `json:"uses"`
	With     map[string]string `json:"with"`
	Runs     string            `json:"runs"`
	WorkDir  string            `json:"working-directory"`
	Pipeline []melangeStep     `json:"pipeline"`
}

type difference struct{ kind, detail string }

func compareWithMelange(ours *Plan, theirs *melangeConfig) []difference {
	var diffs []difference
	add := func(kind, format string, args ...any) {
		diffs = append(diffs, difference{kind, kind + ": " + fmt.Sprintf(format, args...)})
	}
	compareSteps := func(where string, ourSteps []Step, their []melangeStep) {
		a := describeOurs(ourSteps)
		b, err := describeTheirs(their)
		if err != nil {
			add("melange condition kiln cannot read", "%s: %v", where, err)
			return
		}
		if len(a) != len(b) {
			add("different steps", "%s: kiln has %d steps, melange %d:\nkiln:    %q\nmelange: %q", where, len(a), len(b), a, b)
			return
		}
		for i := range a {
			switch {
			case a[i] == b[i]:
			case normalise(a[i]) == normalise(b[i]):
				// melange's printer reformats; nothing to report.
			case squeeze(normalise(a[i])) == squeeze(normalise(b[i])):
				add("scripts differ in layout beyond comments", "%s step %d", where, i)
			default:
				add("scripts differ", "%s step %d:\nkiln:\n%s\nmelange:\n%s", where, i, normalise(a[i]), normalise(b[i]))
			}
		}
	}
	compareSteps("pipeline", ours.Pipeline, theirs.Pipeline)

	var theirSubs []int
	for i, s := range theirs.Subpackages {
		ok, err := evalMelangeIf(s.If)
		if err != nil {
			add("melange condition kiln cannot read", "subpackage %s: %v", s.Name, err)
			continue
		}
		if ok {
			theirSubs = append(theirSubs, i)
		}
	}
	if len(theirSubs) != len(ours.Subpackages) {
		add("different subpackages", "kiln %d, melange %d", len(ours.Subpackages), len(theirSubs))
	} else {
		for j, i := range theirSubs {
			s, o := theirs.Subpackages[i], ours.Subpackages[j]
			if s.Name != o.Name.Value {
				add("different subpackages", "%d: kiln %s, melange %s", j, o.Name.Value, s.Name)
				continue
			}
			compareSteps("subpackage "+s.Name, o.Pipeline, s.Pipeline)
			if (s.Test == nil) != (o.Test == nil) {
				add("different tests", "subpackage %s", s.Name)
			} else if s.Test != nil {
				compareSteps("subpackage "+s.Name+" test", o.Test.Pipeline, s.Test.Pipeline)
			}
		}
	}
	if (theirs.Test == nil) != (ours.Test == nil) {
		add("different tests", "main package")
	} else if theirs.Test != nil {
		compareSteps("test", ours.Test.Pipeline, theirs.Test.Pipeline)
	}

	// melange appends what pipelines need to the packages; kiln lists
	// them apart. Compare the sets.
	var ourPkgs []string
	for _, p := range ours.Environment.Config.Contents.Packages {
		ourPkgs = append(ourPkgs, p.Value)
	}
	ourPkgs = append(ourPkgs, values(ours.Environment.ExtraPackages)...)
	theirPkgs := slices.Clone(theirs.Environment.Contents.Packages)
	slices.Sort(ourPkgs)
	slices.Sort(theirPkgs)
	ourPkgs, theirPkgs = slices.Compact(ourPkgs), slices.Compact(theirPkgs)
	if !slices.Equal(ourPkgs, theirPkgs) {
		add("different build packages", "kiln %q, melange %q", ourPkgs, theirPkgs)
	}
	return diffs
}

// describeOurs writes each step as a comparable string.
func describeOurs(steps []Step) []string {
	var out []string
	for _, s := range steps {
		switch s := s.(type) {
		case *Run:
			out = append(out, s.Script)
		case *Fetch:
			out = append(out, fmt.Sprintf("fetch %s sha256=%s sha512=%s", s.URI.Value, s.ExpectedSHA256.Value, s.ExpectedSHA512.Value))
		case *GitCheckout:
			out = append(out, fmt.Sprintf("git-checkout %s tag=%s branch=%s commit=%s", s.Repository.Value, s.Tag.Value, s.Branch.Value, s.ExpectedCommit.Value))
		}
	}
	return out
}

// describeTheirs flattens melange's compiled steps the way kiln does:
// steps whose condition is false go, fetch and git-checkout are compared
// by what they fetch.
func describeTheirs(steps []melangeStep) ([]string, error) {
	var out []string
	for _, s := range steps {
		ok, err := evalMelangeIf(s.If)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		switch s.Uses {
		case "fetch":
			out = append(out, fmt.Sprintf("fetch %s sha256=%s sha512=%s", s.With["uri"], s.With["expected-sha256"], s.With["expected-sha512"]))
			continue
		case "git-checkout":
			out = append(out, fmt.Sprintf("git-checkout %s tag=%s branch=%s commit=%s", s.With["repository"], s.With["tag"], s.With["branch"], s.With["expected-commit"]))
			continue
		}
		if strings.TrimSpace(s.Runs) != "" {
			out = append(out, s.Runs)
		}
		nested, err := describeTheirs(s.Pipeline)
		if err != nil {
			return nil, err
		}
		out = append(out, nested...)
	}
	return out, nil
}

// evalMelangeIf evaluates a condition as melange compile leaves it:
// substituted, values quoted.
func evalMelangeIf(cond string) (bool, error) {
	if cond == "" {
		return true, nil
	}
	return expr.Eval(cond)
}

// normalise drops comment lines, blank lines and indentation, and
// collapses runs of blanks: what melange's shell printer changes.
func normalise(script string) string {
	var out []string
	for _, l := range strings.Split(script, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "#!") {
			continue
		}
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(out, "\n")
}

// squeeze drops all blanks and line continuations.
func squeeze(s string) string {
	s = strings.ReplaceAll(s, "\\\n", "")
	return strings.Join(strings.Fields(s), "")
}

func TestCompareWithMelange(t *testing.T) {
	// The comparison itself, on a plan and a hand-written melange output.
	p := mustCompile(t, header+`pipeline:
  - uses: fetch
    with: {uri: https://x/y.tgz, expected-sha256: `+sha256hex+`}
  - runs: |
      # configure
      ./configure   --prefix=/usr
  - if: ${{build.arch}} == 'aarch64'
    runs: arm
subpackages:
  - name: hello-doc
    if: ${{build.arch}} == 'x86_64'
    pipeline: [{uses: greet, with: {greeting: hi}}]
`, Options{})
	theirs := &melangeConfig{}
	if err := json.Unmarshal([]byte(`{
  "environment": {"contents": {"packages": ["wget", "busybox"]}},
  "pipeline": [
    {"uses": "fetch", "with": {"uri": "https://x/y.tgz", "expected-sha256": "`+sha256hex+`"}, "pipeline": [{"runs": "wget ..."}]},
    {"runs": "./configure --prefix=/usr\n"},
    {"if": "\"x86_64\" == 'aarch64'", "runs": "arm\n"}
  ],
  "subpackages": [
    {"name": "hello-doc", "if": "\"x86_64\" == 'x86_64'", "pipeline": [{"uses": "greet", "pipeline": [{"runs": "echo hi world\n"}]}]},
    {"name": "hello-arm", "if": "\"x86_64\" == 'aarch64'"}
  ]
}`), theirs); err != nil {
		t.Fatal(err)
	}
	if d := compareWithMelange(p, theirs); len(d) != 0 {
		t.Errorf("differences where there are none: %+v", d)
	}
	theirs.Pipeline[1].Runs = "./configure --prefix=/opt\n"
	theirs.Environment.Contents.Packages = []string{"wget"}
	var kinds []string
	for _, d := range compareWithMelange(p, theirs) {
		kinds = append(kinds, d.kind)
	}
	if want := "[scripts differ different build packages]"; fmt.Sprint(kinds) != want {
		t.Errorf("differences %q, want %s", kinds, want)
	}
}
