package frontend

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"golang.org/x/sync/errgroup"

	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/plan2llb"
)

// llbSource reads what planning needs through BuildKit: context files in
// one local transfer per call, URLs as HTTP sources (so BuildKit caches
// them and the builder, not the client, reaches the network).
type llbSource struct {
	c      client.Client
	bc     *dockerui.Client
	named  *namedContexts
	opts   []llb.ConstraintsOpt
	policy fetchPolicy
}

func (s *llbSource) ReadContext(ctx context.Context, paths []string, max int64) (map[string][]byte, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	refs, err := s.contextRefs(ctx, paths)
	if err != nil {
		return nil, err
	}
	return readEach(paths, func(p string) ([]byte, error) {
		name, rest := s.named.split(p)
		dt, err := readAll(ctx, refs[name], rest, max)
		if err != nil {
			return nil, &plan.PathError{Path: p, Err: notFound(name, rest, err)}
		}
		return dt, nil
	})
}

// readEach reads every path with read, side by side: each read is a round
// trip through the gateway. The error returned is the first path's in the
// order given, whichever read failed first.
func readEach(paths []string, read func(string) ([]byte, error)) (map[string][]byte, error) {
	data := make([][]byte, len(paths))
	errs := make([]error, len(paths))
	var eg errgroup.Group
	eg.SetLimit(maxReads)
	for i, p := range paths {
		eg.Go(func() error {
			data[i], errs[i] = read(p)
			return nil
		})
	}
	eg.Wait()
	out := make(map[string][]byte, len(paths))
	for i, p := range paths {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out[p] = data[i]
	}
	return out, nil
}

// maxReads bounds the gateway reads one build has in flight.
const maxReads = 8

// notFound says in the user's terms that a context path is missing
// (BuildKit's error names the path inside the copy of the context it
// made); other errors stay as they are.
func notFound(contextName, rest string, err error) error {
	switch {
	case !strings.Contains(err.Error(), "no such file or directory"):
		return err
	case contextName != "":
		return fmt.Errorf("not found in --build-context %s (as %s)", contextName, rest)
	default:
		return errors.New("not found in the build context")
	}
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
		ref, err := solveState(ctx, s.c, s.bc.CacheImports, st, s.opts...)
		if err != nil {
			return err
		}
		dt, err = readAll(ctx, ref, "f", max)
		return err
	})
	return dt, err
}

// contextRefs transfers the contexts that hold paths, each narrowed to
// them, and returns them by context name ("" is the main context).
func (s *llbSource) contextRefs(ctx context.Context, paths []string) (map[string]client.Reference, error) {
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
	return refs, nil
}

// ReadContextHeads reads the first bytes of many context files through one
// transfer per context. Narrowed to the packages a locked build installs,
// the transfer is the very one the build's own steps read them from
// (contextStates gives both the same paths, sorted), so BuildKit makes it
// once.
func (s *llbSource) ReadContextHeads(ctx context.Context, heads map[string]int64) (map[string][]byte, error) {
	paths := slices.Sorted(maps.Keys(heads))
	for _, p := range paths {
		if err := headLimit(p, heads[p]); err != nil {
			return nil, err
		}
	}
	refs, err := s.contextRefs(ctx, paths)
	if err != nil {
		return nil, err
	}
	return readEach(paths, func(p string) ([]byte, error) {
		name, file := s.named.split(p)
		dt, err := refs[name].ReadFile(ctx, client.ReadRequest{Filename: file, Range: &client.FileRange{Length: int(heads[p])}})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return dt, nil
	})
}

// headLimit refuses a head of n bytes: one read of the gateway's must
// hold it.
func headLimit(loc string, n int64) error {
	if n > readChunk {
		return fmt.Errorf("%s: %d bytes of metadata is over the %d-byte limit", loc, n, readChunk)
	}
	return nil
}

// Head reads the first n bytes of a URL, fetched as the install step
// fetches it (the same HTTP source, so BuildKit downloads it once), or
// of a context path.
func (s *llbSource) Head(ctx context.Context, loc, name string, n int64) ([]byte, error) {
	if err := headLimit(loc, n); err != nil {
		return nil, err
	}
	read := func(ctx context.Context, st llb.State, file string) ([]byte, error) {
		ref, err := solveState(ctx, s.c, s.bc.CacheImports, st, s.opts...)
		if err != nil {
			return nil, err
		}
		return ref.ReadFile(ctx, client.ReadRequest{Filename: file, Range: &client.FileRange{Offset: 0, Length: int(n)}})
	}
	if plan.IsRemote(loc) {
		var dt []byte
		err := s.policy.do(ctx, loc, 0, "", func(ctx context.Context, refetch string) (err error) {
			file := path.Base(loc)
			dt, err = read(ctx, plan2llb.HTTPSource(loc, file, refetch, llb.WithCustomName(name)), file)
			return err
		})
		return dt, err
	}
	p, err := plan.ContextPath(loc)
	if err != nil {
		return nil, err
	}
	_, where, err := s.named.contextStates(ctx, []string{p})
	if err != nil {
		return nil, err
	}
	st, file := where(p)
	dt, err := read(ctx, st, file)
	if err != nil {
		name, _ := s.named.split(p)
		return nil, fmt.Errorf("%s: %w", loc, notFound(name, file, err))
	}
	return dt, nil
}
