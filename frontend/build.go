// Package frontend is kiln's BuildKit gateway glue, as BuildKit's
// dockerfile/builder is for Dockerfiles: it reads the options through
// dockerui and the YAML from the build context, plans the build (package
// plan, reading keys and indexes through BuildKit), converts each
// platform (package plan2llb), solves, and hands BuildKit's exporter the
// images, their configs and their SBOM attestations.
package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/config/kind"
	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/plan2llb"
	"github.com/kiln-build/kiln/step"
)

// Build is the frontend's entry point (grpcclient.RunFromEnvironment).
func Build(ctx context.Context, c client.Client) (_ *client.Result, err error) {
	bc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, err
	}
	src, err := bc.ReadEntrypoint(ctx, "yaml", entrypointFiles(bc))
	if err != nil {
		return nil, err
	}
	// From here on errors reach buildx with the YAML lines they are about.
	srcs := newYAMLSources(src.SourceMap)
	defer func() { err = srcs.userError(err) }()
	args, err := ParseBuildArgs(bc.BuildArgs)
	if err != nil {
		return nil, err
	}
	b := &builder{c: c, bc: bc, args: args, entry: src, srcs: srcs}
	b.src = &llbSource{c: c, bc: bc, named: newNamedContexts(bc), opts: b.cacheOpts(), policy: newFetchPolicy(args.FetchTimeout)}
	switch kind.Of(src.Data) {
	case kind.Apko:
	case kind.Melange:
		// --call outline|targets|check answer before anything builds.
		if res, ok, err := b.melangeSubrequest(ctx, src, srcs); err != nil || ok {
			return res, err
		}
		return b.buildMelange(ctx, src.Filename, src.Data)
	default:
		return nil, fmt.Errorf("%s: neither an apko image config (top-level \"contents\") nor a melange build (top-level \"package\")", src.Filename)
	}
	if res, ok, err := b.subrequest(ctx, src, srcs); err != nil || ok {
		return res, err
	}
	req, err := plan.Load(ctx, src.Filename, src.Data, recordingSource{b.src, srcs})
	if err != nil {
		return nil, err
	}
	return b.buildImage(ctx, req)
}

// builder carries one build's clients and options.
type builder struct {
	c     client.Client
	bc    *dockerui.Client
	args  BuildArgs
	src   *llbSource
	entry *dockerui.Source // the config as read
	srcs  *yamlSources     // the YAML files read, for errors at their lines
}

// cacheOpts applies --no-cache: BuildKit leaves it to the frontend, so
// without this every op of a "--no-cache" build would still come from
// the cache. kiln has no stages, so only the all-stages form means
// anything; --no-cache-filter names nothing here.
func (b *builder) cacheOpts() []llb.ConstraintsOpt {
	if b.bc.IsNoCache("") {
		return []llb.ConstraintsOpt{llb.IgnoreCache}
	}
	return nil
}

// builderPlatform is the platform of the builder's first worker, which
// runs kiln's own steps and is the default target.
func (b *builder) builderPlatform() ocispecs.Platform {
	if len(b.bc.BuildPlatforms) > 0 {
		return b.bc.BuildPlatforms[0]
	}
	return platforms.DefaultSpec()
}

// toolsState is kiln's own image, whose binary runs every step.
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

// buildImage plans, converts and solves every platform of an apko config.
func (b *builder) buildImage(ctx context.Context, req *plan.Request) (*client.Result, error) {
	if err := checkTarget(b.bc.Target, req.File); err != nil {
		return nil, err
	}
	targets, err := plan.Targets(req, requestedPlatforms(req, b.bc.TargetPlatforms, b.builderPlatform()), b.builderPlatform())
	if err != nil {
		return nil, err
	}
	withSBOM, err := wantSBOM(b.bc.SBOM)
	if err != nil {
		return nil, err
	}
	lock, err := b.loadLock(ctx, b.entry)
	if err != nil {
		return nil, err
	}
	pl, err := plan.Resolve(ctx, req, targets, b.src, plan.Options{SourceDateEpoch: b.args.SourceDateEpoch, Lock: lock})
	if err != nil {
		return nil, err
	}
	in := plan2llb.Inputs{Context: llb.Scratch(), ToolsPlatform: b.builderPlatform()}
	if in.Tools, err = b.toolsState(); err != nil {
		return nil, err
	}
	if paths := pl.ContextPaths(); len(paths) > 0 {
		if _, in.ContextFor, err = b.src.named.contextStates(ctx, paths); err != nil {
			return nil, err
		}
	}

	plats := make([]ocispecs.Platform, len(targets))
	for i, t := range targets {
		plats[i] = t.Platform
	}
	b.bc.TargetPlatforms = plats
	b.bc.MultiPlatformRequested = b.bc.MultiPlatformRequested || len(plats) > 1
	labels := make([]map[string]string, len(plats))
	sbomRefs := make([]client.Reference, len(plats))
	rb, err := b.bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, i int) (*dockerui.BuildResult, error) {
		pin := in
		fetched, err := b.prefetch(ctx, pl.Platforms[i], *platform)
		if err != nil {
			return nil, err
		}
		pin.Fetched = fetched
		img, parts, err := b.solvePlatform(ctx, pl, i, pin, *platform, withSBOM)
		if err != nil {
			return nil, err
		}
		sbomRefs[i] = parts.sbom
		labels[i] = img.Labels
		applyLabels(img.Config, b.bc.Labels)
		return &dockerui.BuildResult{Reference: parts.root, Image: img.Config, Epoch: img.Config.Created}, nil
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

// solvePlatform converts and solves one platform's image, and its SBOM
// when asked. When its install batches run side by side, the metadata
// step's check says whether that made other layers than chaining them
// would (a batch went through a symlink that a batch between it and the
// first one made): then the image is converted again with chained
// batches and solved again, and only that one is returned.
func (b *builder) solvePlatform(ctx context.Context, pl *plan.Plan, i int, in plan2llb.Inputs, platform ocispecs.Platform, withSBOM bool) (*plan2llb.Image, solvedParts, error) {
	p := pl.Platforms[i]
	img, err := plan2llb.Convert(pl, p, in)
	if err != nil {
		return nil, solvedParts{}, err
	}
	parts, err := b.solveImageParts(ctx, img, platform, p, withSBOM)
	if err != nil || parts.differs == "" {
		return img, parts, err
	}
	in.ChainInstalls, in.ChainedBecause = true, parts.differs
	if img, err = plan2llb.Convert(pl, p, in); err != nil {
		return nil, solvedParts{}, err
	}
	parts, err = b.solveImageParts(ctx, img, platform, p, withSBOM)
	return img, parts, err
}

// solveImageParts marshals the image's root, its SBOM (when asked) and
// the check of side-by-side batches (when there is one), here, one after
// another, and then solves them side by side. BuildKit's llb sorts an
// exec's mounts in place, unlocked, each time a state reading one of its
// outputs is marshaled: marshaling two states that share an install step
// at once can give a mount the wrong output ("invalid mount: /out/0" when
// it finds none).
func (b *builder) solveImageParts(ctx context.Context, img *plan2llb.Image, platform ocispecs.Platform, p *plan.Platform, withSBOM bool) (solvedParts, error) {
	var defs partDefinitions
	var err error
	if defs.root, err = b.marshal(ctx, img.Root, platform); err != nil {
		return solvedParts{}, err
	}
	if withSBOM {
		if defs.sbom, err = b.marshal(ctx, img.SBOM, platform); err != nil {
			return solvedParts{}, err
		}
	}
	if img.Check != nil {
		if defs.check, err = b.marshal(ctx, *img.Check, platform); err != nil {
			return solvedParts{}, err
		}
	}
	return b.solveParts(ctx, defs, platform, p)
}

// partDefinitions are one platform's image parts, marshaled; sbom and
// check may be nil.
type partDefinitions struct {
	root, sbom, check *llb.Definition
}

// solvedParts is what one platform's image solved to.
type solvedParts struct {
	root, sbom client.Reference
	differs    string // the check's verdict: why side-by-side batches are wrong
}

// solveParts solves the image's root, its SBOM and the check of
// side-by-side batches all at once. None waits for another: a layer's
// by-content copy needs only its install batch and the SBOM only the
// install records, so they run while the other batches and the metadata
// step do. Waiting for the check's verdict first put the copies and the
// SBOM step after the metadata step. A root assembled from side-by-side
// batches the check rejects is dropped, never returned.
//
// Errors are reported as if solved one after another (check, root, SBOM):
// a failed install step fails all three, and the user reads its own
// message, not the SBOM's wrapping of it.
func (b *builder) solveParts(ctx context.Context, defs partDefinitions, platform ocispecs.Platform, p *plan.Platform) (solvedParts, error) {
	var parts solvedParts
	var rootErr, sbomErr, checkErr error
	var wg sync.WaitGroup
	wg.Go(func() { parts.root, rootErr = b.solveImage(ctx, defs.root, platform, p) })
	if defs.sbom != nil {
		wg.Go(func() { parts.sbom, sbomErr = b.solve(ctx, defs.sbom, platform) })
	}
	if defs.check != nil {
		wg.Go(func() { parts.differs, checkErr = b.batchesDiffer(ctx, defs.check, platform, p) })
	}
	wg.Wait()
	switch {
	case checkErr != nil:
		return solvedParts{}, checkErr
	case parts.differs != "":
		return solvedParts{differs: parts.differs}, nil
	case rootErr != nil:
		return solvedParts{}, rootErr
	case sbomErr != nil:
		return solvedParts{}, fmt.Errorf("SBOM for %s: %w", platforms.Format(platform), sbomErr)
	}
	return parts, nil
}

// batchesDiffer solves the metadata step, which checked install batches
// run side by side, and returns the difference its verdict found, if any:
// the step writes a verdict only when they differ.
func (b *builder) batchesDiffer(ctx context.Context, check *llb.Definition, platform ocispecs.Platform, p *plan.Platform) (string, error) {
	ref, err := b.solveImage(ctx, check, platform, p)
	if err != nil {
		return "", err
	}
	found, err := ref.ReadDir(ctx, client.ReadDirRequest{Path: "/", IncludePattern: step.DiffersFile})
	if err != nil {
		return "", fmt.Errorf("reading the install batches' check: %w", err)
	}
	if len(found) == 0 {
		return "", nil
	}
	data, err := ref.ReadFile(ctx, client.ReadRequest{Filename: step.DiffersFile})
	if err != nil {
		return "", fmt.Errorf("reading the install batches' check: %w", err)
	}
	var verdict step.Verdict
	if err := json.Unmarshal(data, &verdict); err != nil {
		return "", fmt.Errorf("the install batches' check: %w", err)
	}
	return verdict.Differs, nil
}

// marshal marshals st for platform, with --no-cache applied.
func (b *builder) marshal(ctx context.Context, st llb.State, platform ocispecs.Platform) (*llb.Definition, error) {
	return st.Marshal(ctx, append(b.cacheOpts(), llb.Platform(platform))...)
}

// solve solves and builds def: a step's refusal comes back as its own
// message (report.go).
func (b *builder) solve(ctx context.Context, def *llb.Definition, platform ocispecs.Platform) (client.Reference, error) {
	ref, err := solveEvaluatedDefinition(ctx, b.c, b.bc.CacheImports, def)
	return ref, onPlatform(err, platform)
}

// solveImage solves one platform's image like solve, naming the package
// and repository entry when downloading a package failed.
func (b *builder) solveImage(ctx context.Context, def *llb.Definition, platform ocispecs.Platform, p *plan.Platform) (client.Reference, error) {
	ref, err := solveEvaluatedDefinition(ctx, b.c, b.bc.CacheImports, def)
	if err != nil {
		return nil, onPlatform(packageFetchError(err, def, p), platform)
	}
	return ref, nil
}

// addAnnotations puts the image labels on each manifest (and on the index
// of a multi-platform build) as apko does.
//
// A single-platform result's manifest takes only annotations keyed with no
// platform, so the key names one only when there are several.
func addAnnotations(res *client.Result, plats []ocispecs.Platform, labels []map[string]string, multi bool) {
	for i, p := range plats {
		var key *ocispecs.Platform
		if multi {
			key = &p
		}
		for k, v := range labels[i] {
			res.AddMeta(exptypes.AnnotationManifestKey(key, k), []byte(v))
			if multi && i == 0 {
				res.AddMeta(exptypes.AnnotationIndexKey(k), []byte(v))
			}
		}
	}
}
