package frontend

import (
	"context"
	"fmt"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
)

// readChunk stays under the gateway's 16 MiB limit per ReadFile call.
const readChunk = 8 << 20

// solveState solves st and returns its single reference.
func solveState(ctx context.Context, c client.Client, cacheImports []client.CacheOptionsEntry, st llb.State, opts ...llb.ConstraintsOpt) (client.Reference, error) {
	ref, _, err := solve(ctx, c, cacheImports, st, false, opts...)
	return ref, err
}

// solve marshals and solves st; with now it is solved at once (for its
// effect, or to see its errors here), where a plain solve is lazy until
// its result is read or exported. The definition comes back for
// failedStep. cacheImports are the client's --cache-from sources:
// BuildKit consults them only for solves that name them, so every solve a
// build makes passes them.
func solve(ctx context.Context, c client.Client, cacheImports []client.CacheOptionsEntry, st llb.State, now bool, opts ...llb.ConstraintsOpt) (client.Reference, *llb.Definition, error) {
	def, err := st.Marshal(ctx, opts...)
	if err != nil {
		return nil, nil, err
	}
	ref, err := solveDefinition(ctx, c, cacheImports, def, now)
	return ref, def, err
}

// solveDefinition solves a marshaled state, built before returning when
// now is set.
func solveDefinition(ctx context.Context, c client.Client, cacheImports []client.CacheOptionsEntry, def *llb.Definition, now bool) (client.Reference, error) {
	res, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: cacheImports, Evaluate: now})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}

// readAll reads a whole file from ref, paging past the gateway's per-call
// limit, and refuses files over max bytes. The first call asks for the
// whole of a file that fits one page and max: most files this reads (a
// key, an index, a config) then cost one round trip through the gateway,
// not a stat and a read. Only a file that fills it is stated, for its size.
func readAll(ctx context.Context, ref client.Reference, name string, max int64) ([]byte, error) {
	first := int64(readChunk)
	if max < first {
		first = max + 1 // one byte more than allowed says the file is over
	}
	dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: name, Range: &client.FileRange{Length: int(first)}})
	if err != nil {
		return nil, err
	}
	if int64(len(dt)) < first {
		return dt, nil
	}
	st, err := ref.StatFile(ctx, client.StatRequest{Path: name})
	if err != nil {
		return nil, err
	}
	if st.Size > max {
		// The caller names the file (a context path, a URL).
		return nil, fmt.Errorf("%d bytes is over the %d-byte limit", st.Size, max)
	}
	if int64(len(dt)) > st.Size {
		return nil, fmt.Errorf("%s: file shrank while reading at byte %d", name, st.Size)
	}
	out := append(make([]byte, 0, st.Size), dt...)
	for int64(len(out)) < st.Size {
		dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: name,
			Range: &client.FileRange{Offset: len(out), Length: readChunk}})
		if err != nil {
			return nil, err
		}
		if len(dt) == 0 {
			return nil, fmt.Errorf("%s: file shrank while reading at byte %d", name, len(out))
		}
		out = append(out, dt...)
	}
	return out, nil
}
