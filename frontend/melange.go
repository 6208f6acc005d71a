package frontend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/identity"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/patternmatcher/ignorefile"
	fstypes "github.com/tonistiigi/fsutil/types"

	"github.com/kiln-build/kiln/apk/arch"
	"github.com/kiln-build/kiln/config/apko"
	melangecfg "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/pipelines"
	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/plan/melange"
	"github.com/kiln-build/kiln/plan2llb"
	"github.com/kiln-build/kiln/step"
)

// builtDir is where the packages a build made are found, as a repository
// and key in the context, while its tests are planned.
const builtDir = ".kiln-built-packages"

// buildMelange builds a melange.yaml: for every target architecture the
// pipelines, the signed packages and index, then the tests against the
// packages just built. The result is one directory tree, <arch>/ per
// architecture and the public key beside them, as melange lays out
// its packages directory.
func (b *builder) buildMelange(ctx context.Context, file string, data []byte) (*client.Result, error) {
	cfg, err := melangecfg.Parse(file, data)
	if err != nil {
		return nil, err
	}
	dirs, err := b.pipelineDirs(ctx)
	if err != nil {
		return nil, err
	}
	archs, err := b.melangeArchs(cfg)
	if err != nil {
		return nil, err
	}
	in := plan2llb.Inputs{Context: llb.Scratch(), ToolsPlatform: b.builderPlatform()}
	if in.Tools, err = b.toolsState(); err != nil {
		return nil, err
	}
	source, err := b.workspaceSource(ctx, file)
	if err != nil {
		return nil, err
	}
	min := plan2llb.MelangeInputs{Inputs: in, Source: *source, Network: b.args.Network, StepOptions: b.stepOptions(), BuildID: identity.NewID(),
		SourceDateEpoch: b.args.SourceDateEpoch, Namespace: b.args.Namespace}

	var builds []*plan2llb.Melange
	var plans []*melange.Plan
	for _, a := range archs {
		mp, err := melange.Compile(cfg, melange.Options{Arch: a, PipelineDirs: dirs, BuildOptions: b.args.BuildOptions, NativeSources: true})
		if errors.Is(err, melange.ErrArchNotTargeted) {
			if len(b.bc.TargetPlatforms) > 0 {
				return nil, fmt.Errorf("%s: --platform asks for %s, which package.target-architecture leaves out", file, a)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		build, err := b.convertMelangeArch(ctx, mp, min)
		if err != nil {
			return nil, err
		}
		builds = append(builds, build)
		plans = append(plans, mp)
	}
	if len(builds) == 0 {
		return nil, fmt.Errorf("%s: no architecture to build (package.target-architecture)", file)
	}
	if err := checkMelangeTarget(b.bc.Target, file, plans); err != nil {
		return nil, err
	}
	// One package step for every architecture: they share the signing key.
	result, err := plan2llb.ConvertMelangePackages(builds, min)
	if err != nil {
		return nil, err
	}
	// Solved now, not lazily at export, so a failing step's error can say
	// what the user can do about it.
	pkgs, def, err := solve(ctx, b.c, b.bc.CacheImports, result, true, b.cacheOpts()...)
	if err != nil {
		return nil, b.buildFailed(def, err)
	}
	for _, mp := range plans {
		if err := b.testMelangeArch(ctx, mp, result, pkgs, min); err != nil {
			return nil, err
		}
	}
	res := client.NewResult()
	res.SetRef(pkgs)
	return res, nil
}

// convertMelangeArch plans one architecture's build environment and
// converts its pipelines.
func (b *builder) convertMelangeArch(ctx context.Context, mp *melange.Plan, in plan2llb.MelangeInputs) (*plan2llb.Melange, error) {
	t, err := plan.TargetOf(mp.Arch)
	if err != nil {
		return nil, err
	}
	env, err := b.planEnvironment(ctx, mp.Environment, t, b.src)
	if err != nil {
		return nil, err
	}
	if paths := env.ContextPaths(); len(paths) > 0 {
		st, err := b.bc.MainContext(ctx, llb.FollowPaths(paths))
		if err != nil {
			return nil, err
		}
		in.Context = *st
	}
	return plan2llb.ConvertMelange(mp, env, in)
}

// testMelangeArch runs an architecture's tests, the main package's and
// the subpackages', against the packages just built.
func (b *builder) testMelangeArch(ctx context.Context, mp *melange.Plan, built llb.State, ref client.Reference, in plan2llb.MelangeInputs) error {
	t, err := plan.TargetOf(mp.Arch)
	if err != nil {
		return err
	}
	if mp.Test != nil {
		if err := b.testMelange(ctx, mp, t, built, ref, in); err != nil {
			return err
		}
	}
	for _, sp := range mp.Subpackages {
		if sp.Test != nil {
			if err := b.testMelange(ctx, &melange.Plan{Arch: mp.Arch, Test: sp.Test}, t, built, ref, in); err != nil {
				return err
			}
		}
	}
	return nil
}

// testMelange runs a test pipeline in a fresh environment that installs
// the packages just built: their index is read from the solved packages
// and offered as one more (trusted: signed with the build's key)
// repository.
func (b *builder) testMelange(ctx context.Context, mp *melange.Plan, t plan.Target, built llb.State, ref client.Reference, in plan2llb.MelangeInputs) error {
	src := &builtSource{Source: b.src, ref: ref}
	envCfg := *mp.Test.Environment.Config
	envCfg.Contents.Repositories = append(slices.Clone(envCfg.Contents.Repositories), apko.Repository{Value: builtDir, URL: builtDir})
	envCfg.Contents.Keyring = append(slices.Clone(envCfg.Contents.Keyring), apko.Str{Value: builtDir + "/" + step.PublicKeyName})
	envCopy := mp.Test.Environment
	envCopy.Config = &envCfg
	env, err := b.planEnvironment(ctx, envCopy, t, src)
	if err != nil {
		return err
	}
	// Local packages of the test environment: the context's, and the
	// built ones under builtDir.
	parts := []llb.State{llb.Scratch().File(llb.Copy(built, "/", "/"+builtDir+"/", &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}))}
	var ctxPaths []string
	for _, p := range env.ContextPaths() {
		if !strings.HasPrefix(p, builtDir+"/") {
			ctxPaths = append(ctxPaths, p)
		}
	}
	if len(ctxPaths) > 0 {
		st, err := b.bc.MainContext(ctx, llb.FollowPaths(ctxPaths))
		if err != nil {
			return err
		}
		parts = append(parts, *st)
	}
	in.Context = llb.Merge(parts)
	st, err := plan2llb.ConvertMelangeTest(mp.Arch, mp.Test, env, in)
	if err != nil {
		return err
	}
	if _, def, err := solve(ctx, b.c, b.bc.CacheImports, st, true, b.cacheOpts()...); err != nil {
		return fmt.Errorf("%s: test failed on %s: %s", mp.Test.Pos, mp.Arch, stepError(def, err))
	}
	return nil
}

// planEnvironment resolves a build or test environment as an image of one
// platform: the configuration's packages and what the pipelines need,
// from its repositories and those the build args append.
func (b *builder) planEnvironment(ctx context.Context, e melange.Environment, t plan.Target, src plan.Source) (*plan.Plan, error) {
	cfg := *e.Config
	cfg.Contents.Packages = append(slices.Clone(cfg.Contents.Packages), extraPackages(e)...)
	for _, r := range b.args.RepositoryAppend {
		cfg.Contents.Repositories = append(cfg.Contents.Repositories, apko.Repository{Value: r, URL: strings.TrimRight(r, "/")})
	}
	for _, k := range b.args.KeyringAppend {
		cfg.Contents.Keyring = append(cfg.Contents.Keyring, apko.Str{Value: k})
	}
	cfg.Archs = nil
	req, err := plan.FromApko(&cfg)
	if err != nil {
		return nil, err
	}
	return plan.Resolve(ctx, req, []plan.Target{t}, src, plan.Options{SourceDateEpoch: b.args.SourceDateEpoch})
}

// extraPackages are the packages the pipelines need, as config entries.
func extraPackages(e melange.Environment) []apko.Package {
	var out []apko.Package
	for _, p := range e.ExtraPackages {
		if pk, err := apko.ParsePackage(p, "needs.packages"); err == nil {
			out = append(out, pk)
		}
	}
	return out
}

// melangeArchs are the architectures to build: --platform's, else the
// builder's own.
func (b *builder) melangeArchs(cfg *melangecfg.Config) ([]string, error) {
	archs, err := b.requestedArchs()
	if err != nil || len(archs) > 0 {
		return archs, err
	}
	bp := b.builderPlatform()
	a, err := arch.FromPlatform(bp.Architecture, bp.Variant)
	if err != nil {
		return nil, err
	}
	return []string{a}, nil
}

// requestedArchs are --platform's platforms as apk architectures (none
// without --platform).
func (b *builder) requestedArchs() ([]string, error) {
	var out []string
	for _, p := range b.bc.TargetPlatforms {
		a, err := arch.FromPlatform(p.Architecture, p.Variant)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// pipelineDirs are where `uses:` looks: the build context's pipeline
// directory (KILN_PIPELINE_DIR, default ./pipelines when there is one),
// then kiln's built-ins.
func (b *builder) pipelineDirs(ctx context.Context) ([]melange.PipelineDir, error) {
	dir := b.args.PipelineDir
	if dir == "" {
		dir = "pipelines"
	}
	p, err := plan.ContextPath(dir)
	if err != nil {
		return nil, fmt.Errorf("build arg KILN_PIPELINE_DIR=%q: %w", dir, err)
	}
	st, err := b.bc.MainContext(ctx, llb.FollowPaths([]string{p}))
	if err != nil {
		return nil, err
	}
	ref, err := solveState(ctx, b.c, b.bc.CacheImports, *st, b.cacheOpts()...)
	if err != nil {
		return nil, err
	}
	if _, err := ref.StatFile(ctx, client.StatRequest{Path: p}); err != nil {
		if b.args.pipelineDirWasSet {
			return nil, fmt.Errorf("build arg KILN_PIPELINE_DIR=%q: not a directory in the build context", dir)
		}
		return []melange.PipelineDir{pipelines.Dir()}, nil
	}
	return []melange.PipelineDir{{Name: p, FS: &refFS{ctx: ctx, ref: ref, dir: p, srcs: b.srcs}}, pipelines.Dir()}, nil
}

// refFS reads a directory of a solved reference as an fs.FS, for the
// planner's pipeline definitions: fs.ReadFile for a definition, and
// fs.WalkDir to list them all for "did you mean".
type refFS struct {
	ctx  context.Context
	ref  client.Reference
	dir  string
	srcs *yamlSources // records what is read, so errors show its lines
}

func (f *refFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	p := path.Join(f.dir, name)
	data, err := readAll(f.ctx, f.ref, p, plan.MaxConfigBytes)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	if f.srcs != nil {
		f.srcs.mu.Lock()
		f.srcs.included[p] = data
		f.srcs.mu.Unlock()
	}
	return data, nil
}

func (f *refFS) Open(name string) (fs.File, error) {
	data, err := f.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return &memFile{name: path.Base(name), Reader: bytes.NewReader(data)}, nil
}

// ReadDir lists a directory, so fs.WalkDir can list the definitions.
func (f *refFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	stats, err := f.ref.ReadDir(f.ctx, client.ReadDirRequest{Path: path.Join(f.dir, name)})
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	out := make([]fs.DirEntry, 0, len(stats))
	for _, st := range stats {
		out = append(out, fs.FileInfoToDirEntry(statInfo{st}))
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// Stat is what fs.WalkDir asks of its root.
func (f *refFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	st, err := f.ref.StatFile(f.ctx, client.StatRequest{Path: path.Join(f.dir, name)})
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return statInfo{st}, nil
}

// statInfo is a file's stat from a reference as an fs.FileInfo.
type statInfo struct{ st *fstypes.Stat }

func (i statInfo) Name() string       { return path.Base(i.st.Path) }
func (i statInfo) Size() int64        { return i.st.Size }
func (i statInfo) Mode() fs.FileMode  { return fs.FileMode(i.st.Mode) }
func (i statInfo) ModTime() time.Time { return time.Unix(0, i.st.ModTime) }
func (i statInfo) IsDir() bool        { return i.Mode().IsDir() }
func (i statInfo) Sys() any           { return i.st }

type memFile struct {
	name string
	*bytes.Reader
}

func (m *memFile) Stat() (fs.FileInfo, error) { return memInfo{m}, nil }
func (m *memFile) Close() error               { return nil }

type memInfo struct{ f *memFile }

func (i memInfo) Name() string       { return i.f.name }
func (i memInfo) Size() int64        { return i.f.Size() }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// builtSource reads the built packages' repository (under builtDir) from
// their solved reference, and everything else as the build does.
type builtSource struct {
	plan.Source
	ref client.Reference
}

func (s *builtSource) ReadContext(ctx context.Context, paths []string, max int64) (map[string][]byte, error) {
	var rest []string
	out := map[string][]byte{}
	for _, p := range paths {
		rel, ok := strings.CutPrefix(p, builtDir+"/")
		if !ok {
			rest = append(rest, p)
			continue
		}
		data, err := readAll(ctx, s.ref, rel, max)
		if err != nil {
			return nil, &plan.PathError{Path: p, Err: err}
		}
		out[p] = data
	}
	more, err := s.Source.ReadContext(ctx, rest, max)
	if err != nil {
		return nil, err
	}
	for p, d := range more {
		out[p] = d
	}
	return out, nil
}

// buildFailed is a failed build's error: which step, and, since the
// likeliest cause of a surprise failure is a step reaching for the
// network, how to give it one.
func (b *builder) buildFailed(def *llb.Definition, err error) error {
	msg := stepError(def, err)
	if _, _, isStep := failedStep(def, err); !isStep || b.args.Network {
		return fmt.Errorf("%s", msg)
	}
	return fmt.Errorf("%s (pipeline steps run without network: fetch sources with `uses: fetch` or `uses: git-checkout`, "+
		"which kiln verifies, or give the steps BuildKit's sandbox network with --build-arg KILN_NETWORK=1)", msg)
}

// ignoreFiles are read for the patterns the workspace leaves out: Docker's
// and melange's own (whose syntax is gitignore's; the common forms mean
// the same as in .dockerignore).
var ignoreFiles = []string{".dockerignore", ".melangeignore"}

// workspaceSource is the build context as melange's source directory,
// without the config itself and what .dockerignore and .melangeignore
// exclude (a packages/ directory of earlier builds belongs there, or
// every build would see a changed workspace).
func (b *builder) workspaceSource(ctx context.Context, config string) (*llb.State, error) {
	st, err := b.bc.MainContext(ctx, llb.FollowPaths(ignoreFiles))
	if err != nil {
		return nil, err
	}
	ref, err := solveState(ctx, b.c, b.bc.CacheImports, *st, b.cacheOpts()...)
	if err != nil {
		return nil, err
	}
	// The config is the build's definition, not a source: leaving it out
	// means editing a test, say, re-runs no build step.
	patterns := []string{config}
	for _, f := range ignoreFiles {
		if _, err := ref.StatFile(ctx, client.StatRequest{Path: f}); err != nil {
			continue
		}
		data, err := readAll(ctx, ref, f, plan.MaxConfigBytes)
		if err != nil {
			return nil, err
		}
		ps, err := ignorefile.ReadAll(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		patterns = append(patterns, ps...)
	}
	return b.bc.MainContext(ctx, llb.ExcludePatterns(patterns), llb.WithCustomName("workspace: the build context"))
}

// checkMelangeTarget accepts --target naming the package or one of its
// subpackages (what --call targets lists): melange builds them together,
// so each builds the whole repository.
func checkMelangeTarget(target, file string, plans []*melange.Plan) error {
	if target == "" {
		return nil
	}
	var names []string
	for _, mp := range plans {
		names = append(names, mp.Package.Name.Value)
		for _, sp := range mp.Subpackages {
			names = append(names, sp.Name.Value)
		}
	}
	if slices.Contains(names, target) {
		return nil
	}
	slices.Sort(names)
	return fmt.Errorf("--target %s: %s builds %s (a melange build makes them all together); drop --target or name one of them", target, file, strings.Join(slices.Compact(names), ", "))
}

// stepOptions carries the client's settings for RUN steps to melange's
// pipeline steps, where the builder supports them, as BuildKit's
// Dockerfile frontend does.
func (b *builder) stepOptions() []llb.RunOption {
	caps := b.c.BuildOpts().LLBCaps
	var opts []llb.RunOption
	for _, h := range b.bc.ExtraHosts {
		opts = append(opts, llb.AddExtraHost(h.Host, h.IP))
	}
	if b.bc.Hostname != "" {
		opts = append(opts, llb.Hostname(b.bc.Hostname))
	}
	if caps.Supports(pb.CapExecMetaUlimit) == nil {
		for _, u := range b.bc.Ulimits {
			opts = append(opts, llb.AddUlimit(llb.UlimitName(u.Name), u.Soft, u.Hard))
		}
	}
	if b.bc.ShmSize > 0 && caps.Supports(pb.CapExecMountTmpfsSize) == nil {
		opts = append(opts, llb.AddMount("/dev/shm", llb.Scratch(), llb.Tmpfs(llb.TmpfsSize(b.bc.ShmSize))))
	}
	if b.bc.CgroupParent != "" && caps.Supports(pb.CapExecMetaCgroupParent) == nil {
		opts = append(opts, llb.WithCgroupParent(b.bc.CgroupParent))
	}
	return opts
}
