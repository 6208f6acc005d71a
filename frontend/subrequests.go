package frontend

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/config/kind"
	"github.com/kiln-build/kiln/config/yamlnode"
	"github.com/kiln-build/kiln/plan"
	kilnlint "github.com/kiln-build/kiln/plan/lint"
)

// imageTarget is the one target an apko config has: kiln has no stages.
const imageTarget = "image"

// subrequest answers buildx's --call requests without building, as the
// Dockerfile frontend does: outline (the build arguments kiln reads),
// targets (what the config builds) and check (lint findings, with their
// lines). ok is false for a build.
func (b *builder) subrequest(ctx context.Context, src *dockerui.Source, srcs *yamlSources) (res *client.Result, ok bool, err error) {
	load := func(ctx context.Context) (*plan.Request, error) {
		return plan.Load(ctx, src.Filename, src.Data, recordingSource{b.src, srcs})
	}
	return b.bc.HandleSubrequest(ctx, dockerui.RequestHandler{
		Outline: func(ctx context.Context) (*outline.Outline, error) {
			req, err := load(ctx)
			if err != nil {
				return nil, err
			}
			o := &outline.Outline{Name: imageTarget, Description: describeImage(req, b.builderPlatform())}
			for _, a := range argDocsFor(kind.Apko) {
				o.Args = append(o.Args, outline.Arg{Name: a.Name, Value: a.Default, Description: a.Description})
			}
			o.Secrets = authSecrets(req)
			return o, nil
		},
		ListTargets: func(ctx context.Context) (*targets.List, error) {
			req, err := load(ctx)
			if err != nil {
				return nil, err
			}
			t := targets.Target{Name: imageTarget, Default: true, Description: describeImage(req, b.builderPlatform())}
			var plats []string
			for _, tg := range archTargets(req, nil, b.builderPlatform()) {
				plats = append(plats, platforms.Format(tg.Platform))
			}
			t.Platform = strings.Join(plats, ",")
			// Sources holds the config only: the location is the archs
			// when the config itself lists them.
			if len(req.Archs) > 0 && req.Archs[0].Pos.File == src.Filename {
				t.Location = &pb.Location{Ranges: []*pb.Range{lineRange(src.Data, req.Archs[0].Pos)}}
			}
			return &targets.List{Targets: []targets.Target{t}, Sources: [][]byte{src.Data}}, nil
		},
		Lint: func(ctx context.Context) (*lint.LintResults, error) {
			results := &lint.LintResults{}
			results.AddSource(src.SourceMap)
			req, err := load(ctx)
			if err != nil {
				results.Error = &lint.BuildError{Message: err.Error()}
				if pos, ok := errorPos(err); ok {
					if loc := srcs.location(results, pos); loc != nil {
						results.Error.Location = pb.Location{SourceIndex: loc.SourceIndex, Ranges: loc.Ranges}
					}
				}
				return results, nil
			}
			lock, err := b.loadLock(ctx, src)
			if err != nil {
				return nil, err
			}
			addFindings(results, srcs, kilnlint.Check(req.Config, kilnlint.Options{Locked: lock != nil}))
			return results, nil
		},
	})
}

// describeImage says what a config builds, for outline and targets.
func describeImage(req *plan.Request, builder ocispecs.Platform) string {
	var archs []string
	for _, t := range archTargets(req, nil, builder) {
		archs = append(archs, fmt.Sprintf("%s (%s)", t.Arch, platforms.Format(t.Platform)))
	}
	what := "the image " + req.File + " describes, for " + strings.Join(archs, ", ")
	if len(req.Archs) == 0 {
		return what + ": it names no archs, so the builder's platform"
	}
	if def := archTargets(req, requestedPlatforms(req, nil, builder), builder); len(def) < len(req.Archs) {
		var ps []string
		for _, t := range def {
			ps = append(ps, platforms.Format(t.Platform))
		}
		what += "; without --platform, " + strings.Join(ps, ",")
	}
	return what
}

// archTargets is what a build asking for requested makes.
func archTargets(req *plan.Request, requested []ocispecs.Platform, builder ocispecs.Platform) []plan.Target {
	ts, err := plan.Targets(req, requested, builder)
	if err != nil {
		return nil
	}
	return ts
}

// errorPos is where an error is, if at a YAML position.
func errorPos(err error) (yamlnode.Pos, bool) {
	var ye *yamlnode.Error
	if errors.As(err, &ye) && ye.Line > 0 {
		return ye.Pos(), true
	}
	return yamlnode.Pos{}, false
}

// location is pos as a lint location, adding its file to results'
// sources; nil when the file is not one the build read.
func (s *yamlSources) location(results *lint.LintResults, pos yamlnode.Pos) *pb.Location {
	info := s.info(pos.File)
	if info == nil || !pos.IsValid() {
		return nil
	}
	idx := -1
	for i, si := range results.Sources {
		if si.Filename == info.Filename {
			idx = i
		}
	}
	if idx < 0 {
		results.Sources = append(results.Sources, info)
		idx = len(results.Sources) - 1
	}
	return &pb.Location{SourceIndex: int32(idx), Ranges: []*pb.Range{lineRange(info.Data, pos)}}
}
