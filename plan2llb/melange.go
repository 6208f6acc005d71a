package plan2llb

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/moby/buildkit/client/llb"
	digest "github.com/opencontainers/go-digest"

	config "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/plan/melange"
	"github.com/kiln-build/kiln/step"
)

// MelangeInputs are what a melange build's conversion starts from, beyond
// an image's.
type MelangeInputs struct {
	Inputs
	// Source is the workspace's initial content (melange's source
	// directory: the build context).
	Source llb.State
	// Network runs pipeline steps on BuildKit's sandbox network; without
	// it they have none (only fetch and git-checkout, verified sources,
	// reach the network).
	Network bool
	// StepOptions are the client's settings for RUN-like steps (buildx's
	// --add-host, --ulimit, --shm-size, --cgroup-parent), given to every
	// pipeline step as a Dockerfile's RUN gets them.
	StepOptions []llb.RunOption
	// BuildID differs on every build: the key step, whose output follows
	// the signing secret, must never come from the cache.
	BuildID         string
	SourceDateEpoch int64
	Namespace       string
	Config          []byte // the melange.yaml, kept in each package
}

// Melange is one architecture's melange build as LLB, up to packaging.
type Melange struct {
	Arch string
	// Workspace is /home/build after every pipeline ran.
	Workspace llb.State
	// Spec is what the package step makes of its output directories.
	Spec step.PackageSpec
}

// melangeKey is the step that reports the public half of the signing
// secret (step.PublicKeyFile; empty without a secret). It runs on every
// build: no cache key covers a secret's content, so a build ID in its
// environment keeps it out of the cache, and the package step, which
// mounts its output, runs again only when the key changed.
func melangeKey(in MelangeInputs) llb.State {
	s := step.MelangeKey{Secret: step.MountSecret, Out: step.MountOut}
	run := in.Tools.Run(append(sandbox(in.Inputs, "read the signing key", s.Args()),
		llb.AddEnv("KILN_BUILD_ID", in.BuildID),
		llb.AddSecret(step.MountSecret, llb.SecretID(step.SecretID), llb.SecretOptional))...)
	return run.AddMount(step.MountOut, llb.Scratch())
}

// ConvertMelange makes the LLB of one architecture's melange build: the
// pipelines run in order, each as its own exec op on the build
// environment (env, an image plan of one platform), with the workspace
// carried from step to step; then one step packages every output
// directory and writes the signed index.
func ConvertMelange(mp *melange.Plan, env *plan.Plan, in MelangeInputs) (*Melange, error) {
	p := env.Platforms[0]
	envImg, err := Convert(env, p, in.Inputs)
	if err != nil {
		return nil, err
	}
	r := &runner{arch: mp.Arch, target: p.Target, in: in, env: envVars(mp.Environment), user: mp.Environment.Config.Accounts.RunAs.Value}
	r.root = envImg.Root
	// The workspace: the source directory, with an output directory for
	// every package, as melange prepares it.
	ws := llb.Scratch().File(llb.Copy(in.Source, "/", "/", &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}),
		llb.WithCustomNamef("[%s] workspace from the build context", mp.Arch))
	names := []string{mp.Package.Name.Value}
	for _, sp := range mp.Subpackages {
		names = append(names, sp.Name.Value)
	}
	mk := llb.Mkdir(outDir(names[0]), 0o755, llb.WithParents(true))
	for _, n := range names[1:] {
		mk = mk.Mkdir(outDir(n), 0o755, llb.WithParents(true))
	}
	r.ws = ws.File(mk, llb.WithCustomNamef("[%s] output directories", mp.Arch))

	if err := r.steps(mp.Pipeline); err != nil {
		return nil, err
	}
	for _, sp := range mp.Subpackages {
		if err := r.steps(sp.Pipeline); err != nil {
			return nil, err
		}
	}
	return &Melange{Arch: mp.Arch, Workspace: r.ws, Spec: packageSpec(mp, in)}, nil
}

// ConvertMelangeTest makes the LLB of a test: its pipeline on env (an
// image plan whose repositories include the built packages), in a fresh
// workspace. Solving the result runs the test; a failing step fails it.
func ConvertMelangeTest(arch string, t *melange.Test, env *plan.Plan, in MelangeInputs) (llb.State, error) {
	p := env.Platforms[0]
	envImg, err := Convert(env, p, in.Inputs)
	if err != nil {
		return llb.State{}, err
	}
	r := &runner{arch: arch, target: p.Target, in: in, env: envVars(t.Environment), user: t.Environment.Config.Accounts.RunAs.Value, test: true}
	r.root = envImg.Root
	r.ws = llb.Scratch().File(llb.Copy(in.Source, "/", "/", &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}),
		llb.WithCustomNamef("[%s] test workspace from the build context", arch))
	if err := r.steps(t.Pipeline); err != nil {
		return llb.State{}, err
	}
	return r.ws, nil
}

func outDir(name string) string { return "/melange-out/" + name }

// runner threads the root filesystem and the workspace through a
// pipeline's steps, as melange runs them one after another in one
// container: what a step writes anywhere is there for the next.
type runner struct {
	arch   string
	target plan.Target
	in     MelangeInputs
	env    []melange.EnvVar
	user   string
	test   bool
	root   llb.State
	ws     llb.State
	n      int
}

func (r *runner) steps(steps []melange.Step) error {
	for _, s := range steps {
		r.n++
		var err error
		switch s := s.(type) {
		case *melange.Run:
			r.run(s)
		case *melange.Fetch:
			err = r.fetch(s)
		case *melange.GitCheckout:
			err = r.gitCheckout(s)
		default:
			err = fmt.Errorf("%s: unknown step %T", s.Info().Where(), s)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// name is a step's progress name: arch, test or build, its number and
// what it is.
func (r *runner) name(info *melange.StepInfo, what string) string {
	kind := "build"
	if r.test {
		kind = "test"
	}
	net := ""
	if r.in.Network && !strings.HasPrefix(what, "fetch ") && !strings.HasPrefix(what, "git-checkout ") {
		net = " (network)"
	}
	return fmt.Sprintf("[%s] %s step %d%s: %s", r.arch, kind, r.n, net, what)
}

func (r *runner) run(s *melange.Run) {
	what := s.Name
	if what == "" {
		what = "runs"
	}
	opts := []llb.RunOption{
		llb.Args(s.Command()),
		llb.Platform(r.target.Platform),
		llb.WithCustomName(r.name(&s.StepInfo, what)),
		llb.Network(llb.NetModeNone),
	}
	if r.in.Network {
		opts[3] = llb.Network(llb.NetModeSandbox)
	}
	opts = append(opts, r.in.StepOptions...)
	if r.user != "" {
		opts = append(opts, llb.User(r.user))
	}
	for _, e := range mergeEnv(r.env, s.Env) {
		opts = append(opts, llb.AddEnv(e.Name, e.Value))
	}
	es := r.root.Run(opts...)
	r.ws = es.AddMount(melange.WorkDir, r.ws)
	r.root = es.Root()
}

// fetch is `uses: fetch` as a verified BuildKit source: the HTTP source
// checks the SHA-256 itself; kiln's own step checks either digest again
// and unpacks it into the workspace.
func (r *runner) fetch(f *melange.Fetch) error {
	name := f.FileName()
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return f.Pos.Errorf("fetch %s: the URI names no file", f.URI.Value)
	}
	opts := []llb.HTTPOption{llb.Filename(name), llb.WithCustomName(r.name(&f.StepInfo, "fetch "+f.URI.Value))}
	if f.ExpectedSHA256.Value != "" {
		opts = append(opts, llb.Checksum(digest.NewDigestFromEncoded(digest.SHA256, f.ExpectedSHA256.Value)))
	}
	src := llb.HTTP(f.URI.Value, opts...)
	wd := f.WorkDir
	s := step.MelangeExtract{Archive: path.Join(step.MountSource, name),
		SHA256: f.ExpectedSHA256.Value, SHA512: f.ExpectedSHA512.Value, StripComponents: f.StripComponents}
	if f.Extract {
		s.Dir = f.Directory
		if !path.IsAbs(s.Dir) {
			s.Dir = path.Join(wd, s.Dir)
		}
	}
	if !f.Extract || !f.Delete {
		s.Keep = path.Join(wd, name)
	}
	if !inWorkspace(s.Dir) || !inWorkspace(s.Keep) {
		return f.Pos.Errorf("fetch %s: directory %s is outside the workspace %s", f.URI.Value, s.Dir, melange.WorkDir)
	}
	run := r.in.Tools.Run(append(sandbox(r.in.Inputs, r.name(&f.StepInfo, "unpack "+name), s.Args()),
		llb.AddMount(step.MountSource, src, llb.Readonly))...)
	r.ws = run.AddMount(step.MountWorkspace, r.ws)
	return nil
}

// inWorkspace reports whether an absolute path ("" is fine) is in the
// workspace, the only thing the unpack step can write.
func inWorkspace(p string) bool {
	return p == "" || p == melange.WorkDir || strings.HasPrefix(path.Clean(p), melange.WorkDir+"/")
}

// gitCheckout is `uses: git-checkout` as BuildKit's git source, pinned to
// the expected commit when the configuration gives one.
func (r *runner) gitCheckout(g *melange.GitCheckout) error {
	switch {
	case len(g.CherryPicks) > 0:
		return g.Pos.Errorf("git-checkout %s: cherry-picks are not supported by kiln yet", g.Repository.Value)
	case len(g.SparsePaths) > 0:
		return g.Pos.Errorf("git-checkout %s: sparse-paths are not supported by kiln yet", g.Repository.Value)
	}
	ref := g.Tag.Value
	if ref == "" {
		ref = g.Branch.Value
	}
	if ref == "" {
		ref = g.ExpectedCommit.Value
	}
	opts := []llb.GitOption{llb.KeepGitDir(), llb.WithCustomName(r.name(&g.StepInfo, "git-checkout "+g.Repository.Value))}
	if g.ExpectedCommit.Value != "" {
		opts = append(opts, llb.GitChecksum(g.ExpectedCommit.Value))
	}
	if !g.RecurseSubmodules {
		opts = append(opts, llb.GitSkipSubmodules())
	}
	src := llb.Git(g.Repository.Value, ref, opts...)
	dest := g.Destination
	if !path.IsAbs(dest) {
		dest = path.Join(g.WorkDir, dest)
	}
	if !inWorkspace(dest) {
		return g.Pos.Errorf("git-checkout %s: destination %s is outside the workspace %s", g.Repository.Value, dest, melange.WorkDir)
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(dest, melange.WorkDir), "/")
	r.ws = r.ws.File(llb.Copy(src, "/", "/"+rel, &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}),
		llb.WithCustomName(r.name(&g.StepInfo, "check out into "+dest)))
	return nil
}

// packageSpec is what the package step makes of one architecture's
// output directories: every package, main first, with its metadata.
func packageSpec(mp *melange.Plan, in MelangeInputs) step.PackageSpec {
	spec := step.PackageSpec{Arch: mp.Arch, SourceDateEpoch: in.SourceDateEpoch, Namespace: in.Namespace, Config: string(in.Config)}
	spec.BuildUID, spec.BuildGID = buildAccount(mp)
	main := mp.Package
	info := step.PackageInfo{Name: main.Name.Value, Version: main.FullVersion, Description: main.Description.Value,
		URL: main.URL.Value, Commit: main.Commit.Value, Licenses: licenses(main), Copyright: copyright(main),
		Sources: sources(mp)}
	setDeps(&info, main.Dependencies, main.Options.NoProvides.Value, main.Options.NoDepends.Value, main.Options.NoCommands.Value, main.Scriptlets)
	spec.Packages = append(spec.Packages, info)
	for _, sp := range mp.Subpackages {
		si := step.PackageInfo{Name: sp.Name.Value, Version: main.FullVersion, Origin: main.Name.Value,
			Description: sp.Description.Value, URL: orDefault(sp.URL.Value, main.URL.Value),
			Commit: orDefault(sp.Commit.Value, main.Commit.Value), Licenses: licenses(main), Copyright: copyright(main)}
		setDeps(&si, sp.Dependencies, sp.Options.NoProvides.Value, sp.Options.NoDepends.Value, sp.Options.NoCommands.Value, sp.Scriptlets)
		spec.Packages = append(spec.Packages, si)
	}
	return spec
}

// ConvertMelangePackages is the step that packages every architecture's
// output directories, signed with one key, with each architecture's
// index: <arch>/*.apk, <arch>/APKINDEX.tar.gz and step.PublicKeyName.
func ConvertMelangePackages(builds []*Melange, in MelangeInputs) (llb.State, error) {
	s := step.MelangePackage{Secret: step.MountSecret, Key: step.MountKey, Out: step.MountOut}
	var mounts []llb.RunOption
	var what []string
	for _, b := range builds {
		data, err := json.Marshal(b.Spec)
		if err != nil {
			return llb.State{}, err
		}
		specSt := llb.Scratch().File(llb.Mkfile("/"+step.PackageSpecFile, 0o644, data),
			llb.WithCustomNamef("[%s] plan %d packages", b.Arch, len(b.Spec.Packages)))
		dir := path.Join(step.MountWorkspace, b.Arch)
		s.Archs = append(s.Archs, step.PackageArch{Spec: path.Join(step.MountSpec, b.Arch, step.PackageSpecFile),
			OutDir: path.Join(dir, strings.TrimPrefix(melange.OutDir, melange.WorkDir+"/"))})
		mounts = append(mounts,
			llb.AddMount(path.Join(step.MountSpec, b.Arch), specSt, llb.Readonly),
			llb.AddMount(dir, b.Workspace, llb.Readonly))
		what = append(what, "["+b.Arch+"] "+strings.Join(packageNames(b.Spec), ", "))
	}
	run := in.Tools.Run(append(append(sandbox(in.Inputs, "package and sign "+strings.Join(what, "; "), s.Args()),
		llb.AddSecret(step.MountSecret, llb.SecretID(step.SecretID), llb.SecretOptional),
		llb.AddMount(step.MountKey, melangeKey(in), llb.Readonly)), mounts...)...)
	return run.AddMount(step.MountOut, llb.Scratch()), nil
}

// sandbox is a kiln step's run options: its arguments, no network, a
// read-only root, the tools' own platform.
func sandbox(in Inputs, name string, args []string) []llb.RunOption {
	return []llb.RunOption{
		llb.Args(args),
		llb.Network(llb.NetModeNone),
		llb.ReadonlyRootFS(),
		llb.Platform(in.ToolsPlatform),
		llb.WithCustomName(name),
	}
}

// envVars are an environment's variables (melange's defaults, HOME,
// GOPATH, ... among them), sorted.
func envVars(e melange.Environment) []melange.EnvVar {
	var out []melange.EnvVar
	for _, kv := range e.Config.Environment {
		out = append(out, melange.EnvVar{Name: kv.Key.Value, Value: kv.Value.Value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// mergeEnv lays a step's variables over the environment's.
func mergeEnv(base, step []melange.EnvVar) []melange.EnvVar {
	byName := map[string]melange.EnvVar{}
	for _, e := range base {
		byName[e.Name] = e
	}
	for _, e := range step {
		byName[e.Name] = e
	}
	out := make([]melange.EnvVar, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// buildAccount is the build user's and group's ids, which packages map
// to root as melange does.
func buildAccount(mp *melange.Plan) (int, int) {
	uid, gid := 1000, 1000
	for _, u := range mp.Environment.Config.Accounts.Users {
		if u.UserName.Value == "build" && u.UID != nil {
			uid = int(u.UID.Value)
		}
	}
	for _, g := range mp.Environment.Config.Accounts.Groups {
		if g.GroupName.Value == "build" {
			gid = int(g.GID.Value)
		}
	}
	return uid, gid
}

func licenses(p melange.Package) []string {
	var out []string
	for _, c := range p.Copyright {
		if c.License.Value != "" {
			out = append(out, c.License.Value)
		}
	}
	return out
}

func copyright(p melange.Package) string {
	var out []string
	for _, c := range p.Copyright {
		if c.Attestation.Value != "" {
			out = append(out, c.Attestation.Value)
		}
	}
	return strings.Join(out, "\n")
}

// sources are the fetched and checked-out upstream sources, for the SBOM.
func sources(mp *melange.Plan) []step.Source {
	var out []step.Source
	for _, s := range mp.Pipeline {
		switch s := s.(type) {
		case *melange.Fetch:
			src := step.Source{Name: s.PurlName, Version: s.PurlVersion, URL: s.URI.Value}
			if s.ExpectedSHA256.Value != "" {
				src.Digest = "sha256:" + s.ExpectedSHA256.Value
			} else if s.ExpectedSHA512.Value != "" {
				src.Digest = "sha512:" + s.ExpectedSHA512.Value
			}
			out = append(out, src)
		case *melange.GitCheckout:
			out = append(out, step.Source{Name: path.Base(s.Repository.Value), Version: orDefault(s.Tag.Value, s.ExpectedCommit.Value),
				URL: s.Repository.Value, Digest: ""})
		}
	}
	return out
}

func setDeps(info *step.PackageInfo, d melange.Dependencies, noProvides, noDepends, noCommands bool, sc config.Scriptlets) {
	for _, v := range d.Runtime {
		info.Runtime = append(info.Runtime, v.Value)
	}
	for _, v := range d.Provides {
		info.Provides = append(info.Provides, v.Value)
	}
	for _, v := range d.Replaces {
		info.Replaces = append(info.Replaces, v.Value)
	}
	info.ProviderPriority = d.ProviderPriority.Str.Value
	info.ReplacesPriority = d.ReplacesPriority.Str.Value
	info.NoProvides, info.NoDepends, info.NoCommands = noProvides, noDepends, noCommands
	scripts := map[string]string{}
	for name, v := range map[string]string{
		"pre-install": sc.PreInstall.Value, "post-install": sc.PostInstall.Value,
		"pre-deinstall": sc.PreDeinstall.Value, "post-deinstall": sc.PostDeinstall.Value,
		"pre-upgrade": sc.PreUpgrade.Value, "post-upgrade": sc.PostUpgrade.Value,
		"trigger": sc.Trigger.Script.Value,
	} {
		if v != "" {
			scripts[name] = v
		}
	}
	if len(scripts) > 0 {
		info.Scriptlets = scripts
	}
	for _, p := range sc.Trigger.Paths {
		info.Triggers = append(info.Triggers, p.Value)
	}
}

func packageNames(spec step.PackageSpec) []string {
	var out []string
	for _, p := range spec.Packages {
		out = append(out, p.Name+"-"+p.Version)
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
