// Package frontend is kiln's BuildKit gateway glue: it reads the YAML from
// the build context, fetches indexes and keys through LLB, resolves every
// platform's packages together, hands the conversion to kiln/llb and
// assembles the multi-platform result. The conversion itself lives in
// kiln/llb so it can be tested without a daemon.
package frontend

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/apk/arch"
)

// Build is the frontend's entry point (grpcclient.RunFromEnvironment).
func Build(ctx context.Context, c client.Client) (*client.Result, error) {
	bc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, err
	}
	args, err := ParseBuildArgs(bc.BuildArgs)
	if err != nil {
		return nil, err
	}
	src, err := bc.ReadEntrypoint(ctx, "yaml")
	if err != nil {
		return nil, err
	}
	file := src.Filename
	switch kind := detectKind(src.Data); kind {
	case kindApko:
	case kindMelange:
		return nil, fmt.Errorf("%s: melange package builds are not supported by this kiln version yet; only apko image configs are", file)
	default:
		return nil, fmt.Errorf("%s: not an apko image config (no top-level \"contents\")", file)
	}
	b := &builder{c: c, bc: bc, args: args, file: file}
	req, err := b.loadApko(ctx, src.Data)
	if err != nil {
		return nil, err
	}
	return b.buildImage(ctx, req)
}

type fileKind int

const (
	kindUnknown fileKind = iota
	kindApko
	kindMelange
)

// detectKind tells apko from melange YAML by their top-level keys; the
// strict parsers report everything else.
func detectKind(data []byte) fileKind {
	for _, line := range bytes.Split(data, []byte("\n")) {
		switch {
		case bytes.HasPrefix(line, []byte("contents:")):
			return kindApko
		case bytes.HasPrefix(line, []byte("package:")), bytes.HasPrefix(line, []byte("pipeline:")):
			return kindMelange
		}
	}
	return kindUnknown
}

// builder carries one build's clients and options.
type builder struct {
	c    client.Client
	bc   *dockerui.Client
	args BuildArgs
	file string
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

// targetArchs picks the apk architectures to build: --platform when given
// (each must be in the config's archs, if it lists any), else the config's
// archs, else the builder's own platform.
func (b *builder) targetArchs(configArchs []string) ([]string, []ocispecs.Platform, error) {
	var out []string
	var plats []ocispecs.Platform
	if len(b.bc.TargetPlatforms) > 0 {
		allowed := map[string]bool{}
		for _, a := range configArchs {
			allowed[a] = true
		}
		for _, p := range b.bc.TargetPlatforms {
			a, err := arch.FromPlatform(p.Architecture, p.Variant)
			if err != nil {
				return nil, nil, fmt.Errorf("--platform %s: %w", platforms.Format(p), err)
			}
			if len(configArchs) > 0 && !allowed[a] {
				return nil, nil, fmt.Errorf("--platform %s: %s builds only for archs [%s]", platforms.Format(p), b.file, strings.Join(configArchs, " "))
			}
			out = append(out, a)
			plats = append(plats, p)
		}
		return out, plats, nil
	}
	archs := configArchs
	if len(archs) == 0 {
		p := platforms.DefaultSpec()
		if len(b.bc.BuildPlatforms) > 0 {
			p = b.bc.BuildPlatforms[0]
		}
		a, err := arch.FromPlatform(p.Architecture, p.Variant)
		if err != nil {
			return nil, nil, err
		}
		archs = []string{a}
	}
	for _, a := range archs {
		p, err := arch.ToPlatform(a)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, a)
		plats = append(plats, ocispecs.Platform{OS: "linux", Architecture: p.Architecture, Variant: p.Variant})
	}
	return out, plats, nil
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
