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
func solveState(ctx context.Context, c client.Client, st llb.State, opts ...llb.ConstraintsOpt) (client.Reference, error) {
	return solve(ctx, c, st, false, opts...)
}

// evaluate solves st now, for its effect (a test that must pass), where
// a plain solve is lazy until its result is read or exported.
func evaluate(ctx context.Context, c client.Client, st llb.State, opts ...llb.ConstraintsOpt) error {
	_, err := solve(ctx, c, st, true, opts...)
	return err
}

func solve(ctx context.Context, c client.Client, st llb.State, now bool, opts ...llb.ConstraintsOpt) (client.Reference, error) {
	def, err := st.Marshal(ctx, opts...)
	if err != nil {
		return nil, err
	}
	res, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), Evaluate: now})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}

// readAll reads a whole file from ref, paging past the gateway's per-call
// limit, and refuses files over max bytes.
func readAll(ctx context.Context, ref client.Reference, name string, max int64) ([]byte, error) {
	st, err := ref.StatFile(ctx, client.StatRequest{Path: name})
	if err != nil {
		return nil, err
	}
	if st.Size > max {
		return nil, fmt.Errorf("%s: %d bytes is over the %d-byte limit", name, st.Size, max)
	}
	out := make([]byte, 0, st.Size)
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
