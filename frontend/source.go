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
	"github.com/kiln-build/kiln/plan2llb"
)

// llbSource reads what planning needs through BuildKit: context files in
// one local transfer per call, URLs as HTTP sources (so BuildKit caches
// them and the builder, not the client, reaches the network).
type llbSource struct {
	c      client.Client
	bc     *dockerui.Client
	opts   []llb.ConstraintsOpt
	policy fetchPolicy
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

// Fetch downloads url through BuildKit's HTTP source, with fetchPolicy's
// time limit and retries. An HTML page where the file should be (a
// proxy's or a login page, served with 200) is fetched once more past
// BuildKit's cache, then refused.
func (s *llbSource) Fetch(ctx context.Context, url, name string, max int64) ([]byte, error) {
	dt, err := s.fetch(ctx, url, name, "", max)
	if err == nil && looksLikeHTML(dt) {
		if dt, err = s.fetch(ctx, url, name, refetchToken(), max); err == nil && looksLikeHTML(dt) {
			err = &FetchError{URL: url, Msg: "the server answered with an HTML page, not the file"}
		}
	}
	return dt, err
}

// Refetch implements plan.Refetcher: a fresh download, past the copy
// BuildKit's cache holds.
func (s *llbSource) Refetch(ctx context.Context, url, name string, max int64) ([]byte, error) {
	return s.fetch(ctx, url, name, refetchToken(), max)
}

func (s *llbSource) fetch(ctx context.Context, url, name, refetch string, max int64) ([]byte, error) {
	var dt []byte
	err := s.policy.do(ctx, url, 0, refetch, func(ctx context.Context, refetch string) error {
		st := plan2llb.HTTPSource(url, "f", refetch, llb.WithCustomName(name))
		ref, err := solveState(ctx, s.c, st, s.opts...)
		if err != nil {
			return err
		}
		dt, err = readAll(ctx, ref, "f", max)
		return err
	})
	return dt, err
}
