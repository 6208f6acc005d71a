package frontend

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"

	"github.com/kiln-build/kiln/plan"
)

// llbSource reads what planning needs through BuildKit: context files in
// one local transfer per call, URLs as HTTP sources (so BuildKit caches
// them and the builder, not the client, reaches the network).
type llbSource struct {
	c    client.Client
	bc   *dockerui.Client
	opts []llb.ConstraintsOpt
}

func (s *llbSource) ReadContext(ctx context.Context, paths []string, max int64) (map[string][]byte, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	st, err := s.bc.MainContext(ctx, llb.FollowPaths(paths))
	if err != nil {
		return nil, err
	}
	ref, err := solveState(ctx, s.c, *st, s.opts...)
	if err != nil {
		return nil, fmt.Errorf("read build context: %w", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		dt, err := readAll(ctx, ref, p, max)
		if err != nil {
			if strings.Contains(err.Error(), "no such file or directory") {
				err = errors.New("not found in the build context")
			}
			return nil, &plan.PathError{Path: p, Err: err}
		}
		out[p] = dt
	}
	return out, nil
}

func (s *llbSource) Fetch(ctx context.Context, url, name string, max int64) ([]byte, error) {
	st := llb.HTTP(url, llb.Filename("f"), llb.WithCustomName(name))
	ref, err := solveState(ctx, s.c, st, s.opts...)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	dt, err := readAll(ctx, ref, "f", max)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	return dt, nil
}
