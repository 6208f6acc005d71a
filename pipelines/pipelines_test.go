package pipelines

import (
	"io/fs"
	"os/exec"
	"slices"
	"strings"
	"testing"

	config "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/internal/testkit"
	"github.com/kiln-build/kiln/plan/melange"
)

// definition is the interface of one of melange's built-in pipelines, as
// its pipeline file declares it (melange's pkg/build/pipelines): the
// inputs, written name=default, name (optional, no default), name!
// (required) or name!=default, and the packages it needs. kiln's
// definition of the same name must declare exactly these.
type definition struct {
	inputs []string
	needs  []string
}

// supported are the built-ins kiln has: all of melange's but fetch and
// git-checkout, which plan/melange builds in.
var supported = map[string]definition{
	"R/build":               {[]string{"package!", "path=.", "version!"}, []string{"R", "R-dev", "R-doc", "busybox"}},
	"autoconf/configure":    {[]string{"dir=.", "host=${{host.triplet.gnu}}", "build=${{host.triplet.gnu}}", "opts="}, []string{"autoconf", "automake", "libtool"}},
	"autoconf/make":         {[]string{"dir=.", "opts=", "targets="}, []string{"make"}},
	"autoconf/make-install": {[]string{"dir=.", "opts=", "targets=install"}, []string{"make"}},
	"cargo/build": {[]string{"output", "opts=--release", "modroot=.", "rustflags=", "prefix=usr", "install-dir=bin", "output-dir=target/release", "jobs"},
		[]string{"build-base", "busybox", "cargo-auditable", "rust"}},
	"cmake/build":     {[]string{"output-dir=output", "opts"}, []string{"cmake", "ninja"}},
	"cmake/configure": {[]string{"output-dir=output", "opts"}, []string{"cmake", "ninja"}},
	"cmake/install":   {[]string{"output-dir=output"}, []string{"cmake", "ninja"}},
	"git-am":          {[]string{"patches!"}, []string{"git"}},
	"go/build": {[]string{"go-package=go", "packages!", "tags", "toolchaintags=netgo,osusergo", "output!", "vendor=false", "modroot=.", "prefix=usr",
		"ldflags", "strip=-w", "install-dir=bin", "deps", "experiments=", "extra-args=", "amd64=v2", "arm64=v8.0", "buildmode=default", "tidy=false",
		"ignore-untracked-files=true"}, []string{"${{inputs.go-package}}", "build-base", "busybox", "ca-certificates-bundle"}},
	"go/build/v2": {[]string{"packages=.", "tags", "toolchaintags=netgo,osusergo", "output=", "vendor=false", "modroot=.", "prefix=usr", "ldflags",
		"strip=-w", "install-dir=bin", "experiments=", "extra-args=", "amd64=v2", "arm64=v8.0", "buildmode=default", "ignore-untracked-files=true"},
		[]string{"busybox", "ca-certificates-bundle"}},
	"go/bump": {[]string{"deps!", "modroot=.", "go-version=", "replaces", "tidy=true", "show-diff=false", "tidy-compat=", "work=false"},
		[]string{"git", "gobump"}},
	"go/covdata": {[]string{"package=go", "cover-dir=/home/build"}, []string{"${{inputs.package}}", "busybox", "jq"}},
	"go/install": {[]string{"go-package=go", "package!", "version", "prefix=usr", "install-dir=bin", "ldflags", "strip=-w", "tags",
		"toolchaintags=netgo,osusergo", "experiments=", "amd64=v2", "arm64=v8.0"},
		[]string{"${{inputs.go-package}}", "busybox", "build-base", "ca-certificates-bundle", "git"}},
	"llvm/covreport":         {[]string{"package=llvm-19", "object=", "ignore-filename-regex="}, []string{"${{inputs.package}}"}},
	"maven/configure-mirror": {nil, []string{"busybox"}},
	"maven/pombump": {[]string{"patch-file=./pombump-deps.yaml", "properties-file=./pombump-properties.yaml", "dependencies", "properties",
		"pom=pom.xml", "debug=false", "show-dependency-tree=false"}, []string{"busybox", "pombump"}},
	"meson/compile":   {[]string{"output-dir=output"}, []string{"meson"}},
	"meson/configure": {[]string{"output-dir=output", "opts"}, []string{"meson"}},
	"meson/install":   {[]string{"output-dir=output"}, []string{"meson"}},
	"npm/install": {[]string{"package!", "version!", "prefix=${{targets.contextdir}}/usr/", "overrides", "npm-package=npm"},
		[]string{"busybox", "nodejs", "${{inputs.npm-package}}", "npm"}},
	"patch":              {[]string{"strip-components=1", "fuzz=2", "patches", "series"}, []string{"patch"}},
	"pecl/install":       {[]string{"extension!"}, []string{"automake", "busybox"}},
	"pecl/phpize":        {[]string{"php-config=php-config", "prefix=/usr"}, []string{"autoconf", "busybox"}},
	"perl/cleanup":       {nil, []string{"busybox"}},
	"perl/make":          {nil, []string{"busybox", "perl"}},
	"python/build":       {nil, []string{"busybox", "python3"}},
	"python/build-wheel": {nil, []string{"busybox", "py3-build", "py3-installer", "python3"}},
	"python/import":      {[]string{"python=DEFAULT", "import", "from", "imports", "venv"}, []string{"wolfi-base"}},
	"python/install":     {nil, []string{"busybox", "python3"}},
	"python/test":        {[]string{"command!"}, []string{"wolfi-base"}},
	"ruby/build":         {[]string{"dir=.", "gem!", "output", "opts"}, []string{"busybox", "ca-certificates-bundle"}},
	"ruby/clean":         {nil, []string{"busybox", "ca-certificates-bundle"}},
	"ruby/install":       {[]string{"dir=.", "gem", "gem-file", "version!", "opts="}, []string{"busybox", "ca-certificates-bundle"}},
	"split/alldocs":      {[]string{"package"}, []string{"busybox"}},
	"split/bin":          {[]string{"package"}, []string{"busybox"}},
	"split/debug":        {[]string{"package"}, []string{"binutils", "busybox", "scanelf"}},
	"split/dev":          {[]string{"package", "prefix=/usr"}, []string{"busybox"}},
	"split/infodir":      {[]string{"package"}, []string{"busybox"}},
	"split/lib":          {[]string{"package", "patterns", "paths"}, []string{"busybox"}},
	"split/locales":      {[]string{"package"}, []string{"busybox"}},
	"split/manpages":     {[]string{"package"}, []string{"busybox"}},
	"split/static":       {[]string{"package"}, []string{"busybox"}},
	"strip":              {[]string{"opts=-g"}, []string{"binutils", "scanelf"}},
	"xcover/ensure":      {[]string{"package=xcover", "min-coverage="}, []string{"busybox", "jq", "${{inputs.package}}"}},
	"xcover/profile": {[]string{"package=xcover", "executable-path!", "exclude-functions", "include-functions", "scope=project", "log-level=info",
		"verbose=false", "wait-timeout=60"}, []string{"busybox", "${{inputs.package}}"}},
	"xcover/status": {[]string{"package=xcover"}, []string{"busybox", "${{inputs.package}}"}},
	"xcover/stop":   {[]string{"package=xcover"}, []string{"busybox"}},
	"xcover/wait":   {[]string{"package=xcover", "wait-timeout=60"}, []string{"busybox", "${{inputs.package}}"}},
}

// native are the built-ins plan/melange makes typed steps of.
var native = []string{"fetch", "git-checkout"}

// load parses one of kiln's definitions.
func load(t *testing.T, name string) *config.PipelineFile {
	t.Helper()
	data, err := fs.ReadFile(FS, name+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	pf, err := config.ParsePipeline(DirName+"/"+name+".yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	return pf
}

// declared writes a definition's interface in the notation of supported.
func declared(pf *config.PipelineFile) definition {
	var d definition
	for _, in := range pf.Inputs {
		s := in.Name.Value
		if in.Required.Value {
			s += "!"
		}
		if in.Default.Pos.IsValid() {
			s += "=" + in.Default.Value
		}
		d.inputs = append(d.inputs, s)
	}
	for _, p := range pf.Needs.Packages {
		d.needs = append(d.needs, p.Value)
	}
	return d
}

// sameSet compares lists whose order does not matter.
func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(a, b)
}

func TestDefinitions(t *testing.T) {
	names := Names()
	for name := range supported {
		if !slices.Contains(names, name) {
			t.Errorf("%s: listed as supported, but there is no %s.yaml", name, name)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, ok := supported[name]
			if !ok {
				t.Fatalf("%s.yaml is not in the supported table", name)
			}
			if slices.Contains(native, name) {
				t.Fatalf("%s is built into plan/melange; a definition would never be read", name)
			}
			pf := load(t, name)
			if pf.Name.Value == "" || pf.Description.Value == "" {
				t.Errorf("no name or description")
			}
			if len(pf.Pipeline) == 0 {
				t.Errorf("no steps")
			}
			got := declared(pf)
			if !sameSet(got.inputs, want.inputs) {
				t.Errorf("inputs\n got: %q\nwant: %q", got.inputs, want.inputs)
			}
			if !sameSet(got.needs, want.needs) {
				t.Errorf("needs\n got: %q\nwant: %q", got.needs, want.needs)
			}
			for _, in := range pf.Inputs {
				if in.Description.Value == "" {
					t.Errorf("input %s has no description", in.Name.Value)
				}
			}
		})
	}
}

// melangeDefinitions reads melange's built-in pipeline files from its
// mirror (skipping the test without it), by name.
func melangeDefinitions(t *testing.T) map[string]*config.PipelineFile {
	t.Helper()
	const dir = "pkg/build/pipelines/"
	files := testkit.MirrorFiles(t, "chainguard-dev/melange", func(p string) bool {
		return strings.HasPrefix(p, dir) && strings.HasSuffix(p, ".yaml")
	})
	out := map[string]*config.PipelineFile{}
	for p, data := range files {
		pf, err := config.ParsePipeline(p, data)
		if err != nil {
			t.Fatalf("melange's own definition: %v", err)
		}
		out[strings.TrimSuffix(strings.TrimPrefix(p, dir), ".yaml")] = pf
	}
	if len(out) == 0 {
		t.Fatal("no pipeline files in the melange mirror")
	}
	return out
}

// TestMatchesMelange compares the interfaces with melange's own files:
// the table above must be what they say, and every built-in of melange
// must be in kiln (or native).
func TestMatchesMelange(t *testing.T) {
	mel := melangeDefinitions(t)
	for name, pf := range mel {
		if slices.Contains(native, name) {
			continue
		}
		want, ok := supported[name]
		if !ok {
			t.Errorf("melange has the built-in %s; kiln does not", name)
			continue
		}
		got := declared(pf)
		if !sameSet(got.inputs, want.inputs) || !sameSet(got.needs, want.needs) {
			t.Errorf("%s: melange declares inputs %q, needs %q; the table says %q, %q", name, got.inputs, got.needs, want.inputs, want.needs)
		}
	}
	for name := range supported {
		if _, ok := mel[name]; !ok {
			t.Errorf("%s: not one of melange's built-ins", name)
		}
	}
	t.Logf("melange has %d built-in pipelines; kiln defines %d and builds in %v", len(mel), len(Names()), native)
}

// busybox finds busybox, skipping the test without it.
func busybox(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not found")
	}
	return p
}

// syntaxError runs busybox sh -n on a script: the shell parses it without
// running anything.
func syntaxError(bb, script string) error {
	out, err := exec.Command(bb, "sh", "-n", "-c", script).CombinedOutput()
	if err != nil {
		return &shError{err: err, out: string(out)}
	}
	return nil
}

type shError struct {
	err error
	out string
}

func (e *shError) Error() string { return e.err.Error() + ": " + strings.TrimSpace(e.out) }

// usingDoc is a melange.yaml whose main package and subpackage both use
// name, with every required input given.
func usingDoc(name string) string {
	with := ""
	for _, in := range supported[name].inputs {
		if n, ok := strings.CutSuffix(in, "!"); ok {
			with += "      " + n + ": value-of-" + n + "\n"
		}
	}
	step := "  - uses: " + name + "\n"
	if with != "" {
		step += "    with:\n" + with
	}
	return "package:\n  name: hello\n  version: 1.2.3\n  epoch: 0\n  description: test\n" +
		"pipeline:\n" + step +
		"subpackages:\n  - name: hello-sub\n    pipeline:\n" + indent(step, "    ")
}

func indent(s, by string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = by + l
		}
	}
	return strings.Join(lines, "")
}

// compile plans doc for the machine's architecture with the built-ins.
func compile(t *testing.T, doc string) *melange.Plan {
	t.Helper()
	c, err := config.Parse("melange.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, doc)
	}
	p, err := melange.Compile(c, melange.Options{Arch: hostArch(), PipelineDirs: []melange.PipelineDir{Dir()}})
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, doc)
	}
	return p
}

// TestScriptsParse compiles a use of every definition and checks the
// shell of each step with busybox sh -n, as the build runs it.
func TestScriptsParse(t *testing.T) {
	bb := busybox(t)
	if syntaxError(bb, "if then fi") == nil {
		t.Fatal("busybox sh -n accepts a syntax error; the check below would prove nothing")
	}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			p := compile(t, usingDoc(name))
			steps := append([]melange.Step{}, p.Pipeline...)
			for _, sp := range p.Subpackages {
				steps = append(steps, sp.Pipeline...)
			}
			runs := 0
			for _, s := range steps {
				r, ok := s.(*melange.Run)
				if !ok {
					t.Fatalf("%s: not a script step", s.Info().Where())
				}
				runs++
				if err := syntaxError(bb, r.Command()[2]); err != nil {
					t.Errorf("%s: %v\n%s", r.Where(), err, r.Script)
				}
			}
			if runs == 0 {
				t.Error("compiles to no steps")
			}
		})
	}
}
