package frontend

import (
	"context"
	"fmt"
	"sync"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/plan2llb"
)

// prefetchParallel bounds the downloads one platform runs at once.
const prefetchParallel = 8

// prefetch downloads a platform's remote packages before its image is
// solved, each under the fetch policy (a time limit, retries), so a
// failed or stalled download ends with an error naming its URL. Each
// file's size is checked against the signed index (S:): a copy of another
// size (a body cut short under the real file's ETag, an error page) is
// fetched once more past BuildKit's cache, where it would otherwise stay
// and fail every later build, then refused. The result goes to
// plan2llb.Inputs.Fetched, so the image mounts exactly these downloads.
func (b *builder) prefetch(ctx context.Context, p *plan.Platform, platform ocispecs.Platform) (map[string]llb.State, error) {
	out := map[string]llb.State{}
	var mu sync.Mutex
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(prefetchParallel)
	for _, pk := range p.Packages {
		u := pk.URL(p.Arch)
		if u == "" {
			continue
		}
		eg.Go(func() error {
			st, err := b.fetchPackage(ectx, pk, u, platform)
			if err != nil {
				return packageError(p, u, err)
			}
			mu.Lock()
			defer mu.Unlock()
			out[u] = st
			return nil
		})
	}
	return out, eg.Wait()
}

// fetchPackage downloads one package and checks its size.
func (b *builder) fetchPackage(ctx context.Context, pk plan.Package, u string, platform ocispecs.Platform) (llb.State, error) {
	name := pk.Filename()
	for first := ""; ; first = refetchToken() {
		var st llb.State
		var size int64
		err := b.src.policy.do(ctx, u, pk.Size, first, func(ctx context.Context, refetch string) error {
			st = plan2llb.HTTPSource(u, name, refetch)
			ref, err := solveState(ctx, b.c, b.bc.CacheImports, st, append(b.cacheOpts(), llb.Platform(platform))...)
			if err != nil {
				return err
			}
			stat, err := ref.StatFile(ctx, client.StatRequest{Path: name})
			if err != nil {
				return err
			}
			size = stat.Size
			return nil
		})
		if err != nil {
			return llb.State{}, err
		}
		if pk.Size == 0 || uint64(size) == pk.Size {
			return st, nil
		}
		if first != "" {
			return llb.State{}, &FetchError{URL: u, Msg: fmt.Sprintf("got %d bytes where the signed index says %d (a body cut short, or an error page)", size, pk.Size)}
		}
	}
}
