package main

import (
	"context"
	"fmt"
	"io"

	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	_ "github.com/moby/buildkit/util/grpcutil/encoding/proto" // gateway wire encoding

	"github.com/kiln-build/kiln/frontend"
)

// runFrontend serves one build over the BuildKit gateway API; this is the
// frontend image's entrypoint. BuildKit starts it with the gateway in its
// environment, so it takes no arguments.
func runFrontend(ctx context.Context, args []string, _, _ io.Writer) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("frontend takes no arguments (BuildKit runs it)")}
	}
	return grpcclient.RunFromEnvironment(ctx, frontend.Build)
}
