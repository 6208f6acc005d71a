package melange

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kiln-build/kiln/apk/version"
	"github.com/kiln-build/kiln/config/apko"
	config "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/config/yamlnode"
)

// Options say what to plan a configuration for.
type Options struct {
	// Arch is the architecture to build for: an apk name (x86_64) or an
	// OCI one (amd64).
	Arch string
	// Libc is the libc flavour of ${{host.triplet.*}}: "gnu" (the
	// default, as in melange) or "musl".
	Libc string
	// BuildOptions are the names of `options` to enable, in order: their
	// vars override the configuration's, and their packages are added to
	// and removed from the build environment.
	BuildOptions []string
	// PipelineDirs are searched in order for `uses:` definitions: the
	// user's pipeline directory (melange's --pipeline-dir) first, then the
	// built-in pipelines. fetch and git-checkout are built into the
	// planner and are not looked up.
	PipelineDirs []PipelineDir
	// Commit is the configuration's commit, used when package.commit is
	// not written.
	Commit string
	// NativeSources says the converter fetches and checks out sources
	// itself (kiln's verified BuildKit sources), so the build environment
	// needs no wget or git for them, as melange's shell versions do.
	NativeSources bool
	// UnknownPipeline, when set, is told of every uses: that names no
	// definition in PipelineDirs (nor a built-in step), and the step
	// compiles to nothing, so a linter sees all of them and the rest of
	// the plan. Unset, the first one is an error, as in melange.
	UnknownPipeline func(UnknownPipeline)
}

// UnknownPipeline is a uses: naming no pipeline definition.
type UnknownPipeline struct {
	Uses Str
	// Via are the uses: values that led to the file Uses is written in,
	// outermost first; empty when it is written in melange.yaml.
	Via []Pos
	// Suggestion is the known definition name closest to Uses, or "".
	Suggestion string
}

// ErrArchNotTargeted says the configuration's package.target-architecture
// leaves out the architecture asked for; melange skips such builds.
var ErrArchNotTargeted = errors.New("architecture not targeted")

// Names of packages and subpackages, as melange checks them.
var packageName = regexp.MustCompile(`^[a-zA-Z\d][a-zA-Z\d+_.-]*$`)

// Compile plans c for one architecture: every ${{...}} substituted,
// every uses: expanded, every if: evaluated. Errors name the file, line
// and column of the value that caused them.
func Compile(c *config.Config, opts Options) (*Plan, error) {
	a, err := lookupArch(opts.Arch)
	if err != nil {
		return nil, err
	}
	libc := opts.Libc
	if libc == "" {
		libc = "gnu"
	}
	if err := checkLibc(libc); err != nil {
		return nil, err
	}
	p := &planner{c: c, opts: opts, arch: a, libc: libc, comp: &compiler{lib: newLibrary(opts.PipelineDirs), nativeSources: opts.NativeSources, unknown: opts.UnknownPipeline}}
	return p.plan()
}

type planner struct {
	c    *config.Config
	opts Options
	arch archInfo
	libc string
	comp *compiler

	enabled []config.BuildOption
	// meta is where package metadata and environments are substituted:
	// package.* and vars.*, what melange fills in when it parses.
	meta *scope
	// build adds what pipelines see: targets, triplets, build.*, ...
	build  *scope
	subs   []subpackage
	needs  []Str  // of every build pipeline that runs
	commit string // the main package's, for subpackages that name none
}

// subpackage is one subpackage after range expansion.
type subpackage struct {
	cfg   *config.Subpackage
	name  Str
	rng   *RangeItem
	meta  *scope // meta plus range.*
	scope *scope // build plus subpackage and range variables
}

func (p *planner) plan() (*Plan, error) {
	c := p.c
	for _, name := range p.opts.BuildOptions {
		i := slices.IndexFunc(c.Options, func(o config.BuildOption) bool { return o.Name.Value == name })
		if i < 0 {
			known := make([]string, 0, len(c.Options))
			for _, o := range c.Options {
				known = append(known, o.Name.Value)
			}
			return nil, Pos{File: c.File}.Errorf("build option %q is not defined in options (known: %s)", name, strings.Join(known, ", "))
		}
		p.enabled = append(p.enabled, c.Options[i])
	}
	if err := p.metaScope(); err != nil {
		return nil, err
	}
	pkg, err := p.pkg()
	if err != nil {
		return nil, err
	}
	p.commit = pkg.Commit.Value
	if err := p.targeted(pkg); err != nil {
		return nil, err
	}
	if err := p.expandSubpackages(); err != nil {
		return nil, err
	}
	p.buildScope(pkg)

	plan := &Plan{Arch: p.arch.apk, Package: *pkg}
	if plan.Pipeline, err = p.pipeline(c.Pipeline, p.build, &p.needs); err != nil {
		return nil, err
	}
	for _, sp := range p.subs {
		out, run, err := p.subpackage(sp)
		if err != nil {
			return nil, err
		}
		if run {
			plan.Subpackages = append(plan.Subpackages, *out)
		}
	}
	if plan.Environment, err = p.environment(c.Environment, p.meta, p.needs, true, "environment"); err != nil {
		return nil, err
	}
	if c.Test != nil {
		if plan.Test, err = p.test(c.Test, p.meta, p.build, pkg.Name); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

func (p *planner) metaScope() error {
	c := p.c
	s := newScope(nil, "package metadata and environments may use package.*, vars.* and, in ranged subpackages, range.*")
	early := func(name string, v Str) { s.vars[name] = &binding{text: v.Value, pos: v.Pos, early: true} }
	early("package.name", c.Package.Name)
	early("package.version", c.Package.Version)
	early("package.description", c.Package.Description)
	epoch := strconv.FormatInt(c.Package.Epoch.Value, 10)
	early("package.epoch", Str{Value: epoch, Pos: c.Package.Epoch.Pos})
	early("package.full-version", Str{Value: c.Package.Version.Value + "-r" + epoch, Pos: c.Package.Version.Pos})
	for _, kv := range c.Vars {
		early("vars."+kv.Key.Value, kv.Value)
	}
	// Enabled options override vars; melange applies them before it
	// compiles pipelines.
	for _, o := range p.enabled {
		for _, kv := range o.Vars {
			early("vars."+kv.Key.Value, kv.Value)
		}
	}
	for i, t := range c.VarTransforms {
		from, err := s.expand(t.From, yamlnode.Index("var-transforms", i)+".from")
		if err != nil {
			return err
		}
		re, err := regexp.Compile(t.Match.Value)
		if err != nil {
			return t.Match.Pos.Errorf("var-transforms[%d].match: %v", i, err)
		}
		early("vars."+t.To.Value, Str{Value: re.ReplaceAllString(from, t.Replace.Value), Pos: t.Pos})
	}
	p.meta = s
	return nil
}

// buildScope adds the variables pipelines see.
func (p *planner) buildScope(pkg *Package) {
	s := newScope(p.meta, "pipelines may use package.*, vars.*, targets.*, build.*, host.*, cross.*, context.name, options.*, inputs.* of the pipeline, and in subpackages subpkg.name and range.*")
	name := pkg.Name.Value
	s.set("package.srcdir", WorkDir)
	s.set("targets.outdir", OutDir)
	s.set("targets.destdir", OutDir+"/"+name)
	s.set("targets.contextdir", OutDir+"/"+name)
	s.set("context.name", name)
	s.set("host.triplet.gnu", p.arch.triplet(p.libc))
	s.set("host.triplet.rust", p.arch.rustTriplet(p.libc))
	s.set("cross.triplet.gnu.glibc", p.arch.triplet("gnu"))
	s.set("cross.triplet.gnu.musl", p.arch.triplet("musl"))
	s.set("cross.triplet.rust.glibc", p.arch.rustTriplet("gnu"))
	s.set("cross.triplet.rust.musl", p.arch.rustTriplet("musl"))
	s.set("build.arch", p.arch.apk)
	s.set("build.goarch", p.arch.goarch)
	s.set("targets.package."+name, OutDir+"/"+name)
	for _, sp := range p.subs {
		s.set("targets.package."+sp.name.Value, OutDir+"/"+sp.name.Value)
	}
	for _, o := range p.c.Options {
		s.set("options."+o.Name.Value+".enabled", "false")
	}
	for _, o := range p.enabled {
		s.set("options."+o.Name.Value+".enabled", "true")
	}
	p.build = s
	for i := range p.subs {
		sp := &p.subs[i]
		ss := newScope(s, "")
		for k, b := range sp.meta.vars {
			ss.vars[k] = b // range.*
		}
		ss.set("subpkg.name", sp.name.Value)
		ss.set("context.name", sp.name.Value)
		ss.set("targets.subpkgdir", OutDir+"/"+sp.name.Value)
		ss.set("targets.contextdir", OutDir+"/"+sp.name.Value)
		sp.scope = ss
	}
}

func (p *planner) pkg() (*Package, error) {
	c := &p.c.Package
	s := p.meta
	out := &Package{Pos: c.Pos, Epoch: uint64(c.Epoch.Value), Options: c.Options, CPE: c.CPE, SetCap: c.SetCap,
		Timeout: c.Timeout.Value, Resources: c.Resources, TestResources: c.TestResources, ChecksDisabled: c.Checks.Disabled}
	var err error
	e := errs{s: s}
	out.Name = e.str(c.Name, "package.name")
	out.Version = e.str(c.Version, "package.version")
	out.TargetArchitecture = e.strs(c.TargetArchitecture, "package.target-architecture")
	freeText(s, out, c)
	if e.err != nil {
		return nil, e.err
	}
	if out.Dependencies, err = deps(s, c.Dependencies, "package.dependencies"); err != nil {
		return nil, err
	}
	if out.Commit.Value == "" {
		out.Commit.Value = p.opts.Commit
	}
	out.FullVersion = out.Version.Value + "-r" + strconv.FormatUint(out.Epoch, 10)
	if !packageName.MatchString(out.Name.Value) {
		return nil, out.Name.Pos.Errorf("package.name: %q is not a package name (letters, digits, '+', '_', '.', '-'; starting with a letter or digit)", out.Name.Value)
	}
	if !version.Valid(out.Version.Value) {
		return nil, out.Version.Pos.Errorf("package.version: %q is not an apk version (like 1.2.3, 2.0_rc1 or 1.0.1a)", out.Version.Value)
	}
	return out, nil
}

// targeted reports ErrArchNotTargeted when target-architecture leaves
// the architecture out. ["all"] is every architecture.
func (p *planner) targeted(pkg *Package) error {
	ta := pkg.TargetArchitecture
	if len(ta) == 0 || len(ta) == 1 && ta[0].Value == "all" {
		return nil
	}
	var names []string
	for _, t := range ta {
		if t.Value == p.arch.apk {
			return nil
		}
		names = append(names, t.Value)
	}
	return ta[0].Pos.Errorf("package.target-architecture: %s is not one of %s: %v", p.arch.apk, strings.Join(names, ", "), ErrArchNotTargeted)
}

// expandSubpackages repeats ranged subpackages for each data item (in
// key order, as melange does) and substitutes and checks the names.
func (p *planner) expandSubpackages() error {
	data := map[string][]KV{}
	for _, d := range p.c.Data {
		data[d.Name.Value] = d.Items
	}
	seen := map[string]Pos{p.c.Package.Name.Value: p.c.Package.Name.Pos}
	for i := range p.c.Subpackages {
		sp := &p.c.Subpackages[i]
		path := yamlnode.Index("subpackages", i)
		type item struct {
			meta *scope
			rng  *RangeItem
		}
		items := []item{{meta: newScope(p.meta, "")}}
		if sp.Range.Value != "" {
			kvs := slices.Clone(data[sp.Range.Value])
			slices.SortFunc(kvs, func(a, b KV) int { return strings.Compare(a.Key.Value, b.Key.Value) })
			items = items[:0]
			for _, kv := range kvs {
				s := newScope(p.meta, "")
				s.vars["range.key"] = &binding{text: kv.Key.Value, pos: kv.Key.Pos, early: true}
				s.vars["range.value"] = &binding{text: kv.Value.Value, pos: kv.Value.Pos, early: true}
				items = append(items, item{meta: s, rng: &RangeItem{Data: sp.Range.Value, Key: kv.Key.Value, Value: kv.Value.Value}})
			}
		}
		for _, it := range items {
			name, err := it.meta.expandStr(sp.Name, path+".name")
			if err != nil {
				return err
			}
			if !packageName.MatchString(name.Value) {
				return name.Pos.Errorf("%s.name: %q is not a package name (letters, digits, '+', '_', '.', '-'; starting with a letter or digit)", path, name.Value)
			}
			if first, dup := seen[name.Value]; dup {
				return name.Pos.Errorf("%s.name: package %q is already defined at %s", path, name.Value, first)
			}
			seen[name.Value] = name.Pos
			p.subs = append(p.subs, subpackage{cfg: sp, name: name, rng: it.rng, meta: it.meta})
		}
	}
	return nil
}

// subpackage plans one subpackage; run says whether its if: holds. Its
// pipeline is compiled either way, and what it needs goes into the build
// environment either way, as in melange.
func (p *planner) subpackage(sp subpackage) (*Subpackage, bool, error) {
	c := sp.cfg
	run, err := sp.scope.cond(c.If, true)
	if err != nil {
		return nil, false, err
	}
	out := &Subpackage{Pos: c.Pos, Name: sp.name, Range: sp.rng, Options: c.Options, SetCap: c.SetCap, ChecksDisabled: c.Checks.Disabled}
	s := sp.meta
	out.Description = s.expandFree(c.Description)
	out.URL = s.expandFree(c.URL)
	out.Commit = s.expandFree(c.Commit)
	out.Annotations = freeKVs(s, c.Annotations)
	out.Scriptlets = freeScriptlets(s, c.Scriptlets)
	if out.Commit.Value == "" {
		out.Commit.Value = p.commit
	}
	if out.Dependencies, err = deps(sp.meta, c.Dependencies, "dependencies"); err != nil {
		return nil, false, err
	}
	if out.Pipeline, err = p.pipeline(c.Pipeline, sp.scope, &p.needs); err != nil {
		return nil, false, err
	}
	if c.Test != nil {
		if out.Test, err = p.test(c.Test, sp.meta, sp.scope, sp.name); err != nil {
			return nil, false, err
		}
	}
	return out, run, nil
}

// pipeline compiles and flattens steps written in melange.yaml.
func (p *planner) pipeline(steps []config.Step, s *scope, needs *[]Str) ([]Step, error) {
	nodes, err := p.comp.compileList(steps, inherited{scope: s, early: true})
	if err != nil {
		return nil, err
	}
	var out []Step
	if err := flatten(nodes, &out, needs); err != nil {
		return nil, err
	}
	return out, nil
}

func (p *planner) test(t *config.Test, meta, s *scope, pkg Str) (*Test, error) {
	out := &Test{Pos: t.Pos}
	var needs []Str
	var err error
	if out.Pipeline, err = p.pipeline(t.Pipeline, s, &needs); err != nil {
		return nil, err
	}
	// The package under test is installed, from the build's output.
	needs = append(needs, pkg)
	if out.Environment, err = p.environment(t.Environment, meta, needs, false, "test.environment"); err != nil {
		return nil, err
	}
	return out, nil
}

// environment substitutes and decodes an embedded apko configuration and
// adds what melange adds to it.
func (p *planner) environment(e *config.Environment, s *scope, needs []Str, build bool, what string) (Environment, error) {
	var ac *apko.Config
	if e == nil {
		ac = &apko.Config{File: p.c.File}
	} else {
		var err error
		ac, err = e.Resolve(func(v Str, path string) (Str, error) { return s.expandStr(v, path) })
		if err != nil {
			return Environment{}, err
		}
		if ac.Include.Value != "" {
			return Environment{}, ac.Include.Pos.Errorf("%s.include: not supported in melange configurations", what)
		}
	}
	if build {
		if err := p.applyOptions(ac); err != nil {
			return Environment{}, err
		}
		addDefaultEnv(ac)
	}
	addBuildAccount(ac)
	if err := ac.Validate(); err != nil {
		return Environment{}, err
	}
	listed := map[string]bool{}
	for _, pk := range ac.Contents.Packages {
		listed[pk.Value] = true
	}
	var extra []Str
	for _, n := range needs {
		if !listed[n.Value] {
			listed[n.Value] = true
			extra = append(extra, n)
		}
	}
	slices.SortStableFunc(extra, func(a, b Str) int { return strings.Compare(a.Value, b.Value) })
	return Environment{Config: ac, ExtraPackages: extra}, nil
}

// applyOptions adds and removes the build environment packages enabled
// options name.
func (p *planner) applyOptions(ac *apko.Config) error {
	for _, o := range p.enabled {
		for i, a := range o.Add {
			v, err := p.meta.expandStr(a, "options."+o.Name.Value+".environment.contents.packages.add")
			if err != nil {
				return err
			}
			pk, err := apko.ParsePackage(v, yamlnode.Index("options."+o.Name.Value+".environment.contents.packages.add", i))
			if err != nil {
				return err
			}
			ac.Contents.Packages = append(ac.Contents.Packages, pk)
		}
		for _, r := range o.Remove {
			ac.Contents.Packages = slices.DeleteFunc(ac.Contents.Packages, func(pk apko.Package) bool { return pk.Value == r.Value })
		}
	}
	return nil
}

// melange's default environment for builds, set unless the
// configuration sets them to something.
var defaultEnv = []struct{ name, value string }{
	{"HOME", "/home/build"},
	{"GOPATH", "/home/build/.cache/go"},
	{"GOMODCACHE", "/var/cache/melange/gomodcache"},
	{"UV_CACHE_DIR", "/var/cache/melange/uv"},
	{"PIP_CACHE_DIR", "/var/cache/melange/pip"},
	{"COMPOSER_CACHE_DIR", "/var/cache/melange/composer"},
	{"npm_config_cache", "/var/cache/melange/npm"},
}

func addDefaultEnv(ac *apko.Config) {
	for _, d := range defaultEnv {
		i := slices.IndexFunc(ac.Environment, func(kv KV) bool { return kv.Key.Value == d.name })
		switch {
		case i < 0:
			ac.Environment = append(ac.Environment, KV{Key: Str{Value: d.name}, Value: Str{Value: d.value}})
		case ac.Environment[i].Value.Value == "":
			ac.Environment[i].Value = Str{Value: d.value}
		}
	}
}

// addBuildAccount adds melange's build user and group (1000:1000)
// unless the configuration defines them.
func addBuildAccount(ac *apko.Config) {
	const name, id = "build", 1000
	if !slices.ContainsFunc(ac.Accounts.Groups, func(g apko.Group) bool { return g.GroupName.Value == name }) {
		ac.Accounts.Groups = append(ac.Accounts.Groups, apko.Group{
			GroupName: Str{Value: name}, GID: apko.Uint32{Value: id}, Members: []Str{{Value: name}},
		})
	}
	if !slices.ContainsFunc(ac.Accounts.Users, func(u apko.User) bool { return u.UserName.Value == name }) {
		ac.Accounts.Users = append(ac.Accounts.Users, apko.User{
			UserName: Str{Value: name}, UID: &apko.Uint32{Value: id}, GID: &apko.Uint32{Value: id},
		})
	}
}

// deps substitutes dependencies and checks the priorities are integers.
func deps(s *scope, d config.Dependencies, what string) (Dependencies, error) {
	e := errs{s: s}
	out := Dependencies{
		Runtime:  e.strs(d.Runtime, what+".runtime"),
		Provides: e.strs(d.Provides, what+".provides"),
		Replaces: e.strs(d.Replaces, what+".replaces"),
	}
	out.ProviderPriority.Str = e.str(d.ProviderPriority, what+".provider-priority")
	out.ReplacesPriority.Str = e.str(d.ReplacesPriority, what+".replaces-priority")
	if e.err != nil {
		return out, e.err
	}
	for _, pr := range []*Priority{&out.ProviderPriority, &out.ReplacesPriority} {
		if pr.Str.Value == "" {
			continue
		}
		v, err := strconv.Atoi(pr.Str.Value)
		if err != nil {
			return out, pr.Pos.Errorf("%s: priority %q is not an integer", what, pr.Str.Value)
		}
		pr.Value = v
	}
	return out, nil
}

// errs substitutes many values, keeping the first error.
type errs struct {
	s   *scope
	err error
}

func (e *errs) str(v Str, what string) Str {
	if e.err != nil || !strings.Contains(v.Value, "${{") {
		return v
	}
	out, err := e.s.expandStr(v, what)
	e.err = err
	return out
}

func (e *errs) strs(l []Str, what string) []Str {
	if l == nil {
		return nil
	}
	out := make([]Str, len(l))
	for i, v := range l {
		out[i] = e.str(v, yamlnode.Index(what, i))
	}
	return out
}

// freeText substitutes the package's descriptive fields, which melange
// substitutes without ever failing: unknown or malformed references stay
// as written.
func freeText(s *scope, out *Package, c *config.Package) {
	out.Description = s.expandFree(c.Description)
	out.URL = s.expandFree(c.URL)
	out.Commit = s.expandFree(c.Commit)
	out.Annotations = freeKVs(s, c.Annotations)
	out.Scriptlets = freeScriptlets(s, c.Scriptlets)
	out.Copyright = slices.Clone(c.Copyright)
	for i := range out.Copyright {
		cp := &out.Copyright[i]
		cp.Paths = freeStrs(s, cp.Paths)
		cp.License = s.expandFree(cp.License)
		cp.LicensePath = s.expandFree(cp.LicensePath)
	}
}

func freeStrs(s *scope, l []Str) []Str {
	if l == nil {
		return nil
	}
	out := make([]Str, len(l))
	for i, v := range l {
		out[i] = s.expandFree(v)
	}
	return out
}

func freeKVs(s *scope, l []KV) []KV {
	if l == nil {
		return nil
	}
	out := make([]KV, len(l))
	for i, kv := range l {
		out[i] = KV{Key: kv.Key, Value: s.expandFree(kv.Value)}
	}
	return out
}

func freeScriptlets(s *scope, sc config.Scriptlets) config.Scriptlets {
	sc.Trigger.Script = s.expandFree(sc.Trigger.Script)
	sc.Trigger.Paths = freeStrs(s, sc.Trigger.Paths)
	for _, f := range []*Str{&sc.PreInstall, &sc.PostInstall, &sc.PreDeinstall, &sc.PostDeinstall, &sc.PreUpgrade, &sc.PostUpgrade} {
		*f = s.expandFree(*f)
	}
	return sc
}
