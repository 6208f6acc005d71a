package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/apk/resolve"
	"github.com/kiln-build/kiln/imagefs"
	kllb "github.com/kiln-build/kiln/llb"
)

// toolsState is kiln's own image, whose binary runs the install and
// metadata steps inside exec ops.
func (b *builder) toolsState() (llb.State, error) {
	cf, ok := b.c.(interface{ CurrentFrontend() (*llb.State, error) })
	if !ok {
		return llb.State{}, fmt.Errorf("this BuildKit gives frontends no access to their own image; kiln needs it to install packages")
	}
	st, err := cf.CurrentFrontend()
	if err != nil {
		return llb.State{}, fmt.Errorf("load kiln's own image: %w", err)
	}
	if st == nil {
		return llb.State{}, fmt.Errorf("kiln must run as a frontend image (# syntax=ghcr.io/kiln-build/kiln:v0 or --frontend gateway.v0)")
	}
	return *st, nil
}

// resolved is one architecture's solution with where each package comes from.
type resolved struct {
	arch     string
	platform ocispecs.Platform
	solution *resolve.Solution
}

func (b *builder) buildImage(ctx context.Context, req *imageRequest) (*client.Result, error) {
	archs, plats, err := b.targetArchs(req.Archs)
	if err != nil {
		return nil, err
	}
	withSBOM, err := wantSBOM(b.bc.SBOM)
	if err != nil {
		return nil, err
	}
	kr, keys, err := b.loadKeys(ctx, req.Keyring)
	if err != nil {
		return nil, err
	}
	repos, err := parseRepos(req.ResolveRepositories)
	if err != nil {
		return nil, err
	}
	if len(repos) == 0 {
		return nil, fmt.Errorf("%s: contents: no repositories to install packages from", req.File)
	}
	indexes, err := b.loadIndexes(ctx, repos, archs, kr)
	if err != nil {
		return nil, err
	}

	world := make([]string, len(req.Packages))
	for i, p := range req.Packages {
		world[i] = p.Value
	}
	byArch := map[string][]resolve.Repository{}
	for _, a := range archs {
		for i, r := range repos {
			byArch[a] = append(byArch[a], resolve.Repository{Name: r.repo.Base, Tag: r.repo.Tag, Arch: a, Packages: indexes[a][i].Packages})
		}
	}
	// Every platform is resolved together, in this one process, so every
	// node of a multi-node builder installs the same name-versions.
	solutions, err := resolve.ResolveArchs(byArch, world)
	if err != nil {
		return nil, fmt.Errorf("%s: contents.packages: %w", req.File, err)
	}

	tools, err := b.toolsState()
	if err != nil {
		return nil, err
	}
	toolsPlatform := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	if len(b.bc.BuildPlatforms) > 0 {
		toolsPlatform = b.bc.BuildPlatforms[0]
	}
	keysState := llb.Scratch()
	for _, n := range slices.Sorted(maps.Keys(keys)) {
		keysState = keysState.File(llb.Mkfile("/"+n, 0o644, keys[n]), llb.WithCustomNamef("keyring %s", n))
	}

	// Package files from the build context come through one local source.
	var localPaths []string
	repoByName := map[string]repoSource{}
	for _, r := range repos {
		repoByName[r.repo.Base] = r
	}
	for _, a := range archs {
		for _, rp := range solutions[a].Packages {
			if r := repoByName[rp.Repository.Name]; r.contextDir != "" {
				localPaths = append(localPaths, path.Join(r.contextDir, a, rp.Package.Filename()))
			}
		}
	}
	localCtx := llb.Scratch()
	if len(localPaths) > 0 {
		st, err := b.bc.MainContext(ctx, llb.FollowPaths(localPaths))
		if err != nil {
			return nil, err
		}
		localCtx = *st
	}

	b.bc.TargetPlatforms = plats
	b.bc.MultiPlatformRequested = b.bc.MultiPlatformRequested || len(plats) > 1
	labels := make([]map[string]string, len(plats))
	sbomRefs := make([]client.Reference, len(plats))
	rb, err := b.bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, i int) (*dockerui.BuildResult, error) {
		a := archs[i]
		sol := solutions[a]
		in := kllb.ImageInput{Arch: a, Layering: req.Layering, Tools: tools, ToolsPlatform: toolsPlatform,
			Keys: keysState, SourceDateEpoch: b.args.SourceDateEpoch}
		for _, rp := range sol.Packages {
			st, p := packageSource(repoByName[rp.Repository.Name], a, rp.Package, localCtx)
			in.Packages = append(in.Packages, kllb.PackageSource{Package: rp.Package, Source: st, Path: p})
		}
		spec := imagefs.Spec{Arch: a, World: world, Repositories: req.RuntimeRepositories,
			Accounts: req.Accounts, Paths: req.Paths}
		if in.MetaSpec, err = json.Marshal(spec); err != nil {
			return nil, err
		}
		built, err := kllb.Image(in)
		if err != nil {
			return nil, err
		}
		def, err := built.Root.Marshal(ctx, append(b.cacheOpts(), llb.Platform(*platform))...)
		if err != nil {
			return nil, err
		}
		res, err := b.c.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
		if err != nil {
			return nil, err
		}
		ref, err := res.SingleRef()
		if err != nil {
			return nil, err
		}
		ic := req.Image
		ic.Platform = *platform
		ic.Epoch = b.args.Epoch()
		ic.Layers = built.Layers
		ic.User = imagefs.RunAsUID(req.RunAs, req.Accounts.Users)
		img, err := kllb.ImageConfig(ic)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", req.File, err)
		}
		labels[i] = ic.Labels()
		if withSBOM {
			if sbomRefs[i], err = b.solveSBOM(ctx, built, sol, req.Image.Annotations, *platform); err != nil {
				return nil, err
			}
		}
		epoch := ic.Epoch
		return &dockerui.BuildResult{Reference: ref, Image: img, Epoch: &epoch}, nil
	})
	if err != nil {
		return nil, err
	}
	addAnnotations(rb.Result, plats, labels, b.bc.MultiPlatformRequested)
	if withSBOM {
		if err := attachSBOMs(ctx, rb, plats, sbomRefs); err != nil {
			return nil, err
		}
	}
	return rb.Finalize()
}
