package frontend

import (
	"context"
	"errors"
	"fmt"
	"path"
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
	c     client.Client
	bc    *dockerui.Client
	named *namedContexts
	opts  []llb.ConstraintsOpt
}

func (s *llbSource) ReadContext(ctx context.Context, paths []string, max int64) (map[string][]byte, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	states, _, err := s.named.contextStates(ctx, paths)
	if err != nil {
		return nil, err
	}
	refs := map[string]client.Reference{}
	for name, st := range states {
		ref, err := solveState(ctx, s.c, s.bc.CacheImports, st, s.opts...)
		if err != nil {
			if name != "" {
				return nil, fmt.Errorf("read --build-context %s: %w", name, err)
			}
			return nil, fmt.Errorf("read build context: %w", err)
		}
		refs[name] = ref
	}
	out := map[string][]byte{}
	for _, p := range paths {
		name, rest := s.named.split(p)
		dt, err := readAll(ctx, refs[name], rest, max)
		if err != nil {
			if strings.Contains(err.Error(), "no such file or directory") {
				if name != "" {
					err = fmt.Errorf("not found in --build-context %s (as %s)", name, rest)
				} else {
					err = errors.New("not found in the build context")
				}
			}
			return nil, &plan.PathError{Path: p, Err: err}
		}
		out[p] = dt
	}
	return out, nil
}

func (s *llbSource) Fetch(ctx context.Context, url, name string, max int64) ([]byte, error) {
	st := llb.HTTP(url, llb.Filename("f"), llb.WithCustomName(name))
	// The solve is lazy: a failed download shows when the file is read.
	ref, err := solveState(ctx, s.c, s.bc.CacheImports, st, s.opts...)
	if err != nil {
		return nil, newFetchError(url, err)
	}
	dt, err := readAll(ctx, ref, "f", max)
	if err != nil {
		return nil, newFetchError(url, err)
	}
	return dt, nil
}

// Head reads the first n bytes of a URL, fetched as the install step
// fetches it (the same HTTP source, so BuildKit downloads it once), or
// of a context path.
func (s *llbSource) Head(ctx context.Context, loc, name string, n int64) ([]byte, error) {
	if n > readChunk {
		return nil, fmt.Errorf("%s: %d bytes of metadata is over the %d-byte limit", loc, n, readChunk)
	}
	var st llb.State
	file := ""
	if plan.IsRemote(loc) {
		file = path.Base(loc)
		st = llb.HTTP(loc, llb.Filename(file), llb.WithCustomName(name))
	} else {
		p, err := plan.ContextPath(loc)
		if err != nil {
			return nil, err
		}
		_, where, err := s.named.contextStates(ctx, []string{p})
		if err != nil {
			return nil, err
		}
		st, file = where(p)
	}
	ref, err := solveState(ctx, s.c, s.bc.CacheImports, st, s.opts...)
	if err != nil {
		return nil, newFetchError(loc, err)
	}
	dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: file, Range: &client.FileRange{Offset: 0, Length: int(n)}})
	if err != nil {
		if plan.IsRemote(loc) {
			return nil, newFetchError(loc, err)
		}
		return nil, fmt.Errorf("%s: %w", loc, err)
	}
	return dt, nil
}
