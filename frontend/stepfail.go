package frontend

import (
	"errors"
	"fmt"

	"github.com/moby/buildkit/client/llb"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/errdefs"
	digest "github.com/opencontainers/go-digest"
)

// failedStep names the step of def a solve error comes from and its exit
// status, so the error a user reads last says which of their steps failed
// rather than the shell command kiln wrapped it in.
func failedStep(def *llb.Definition, err error) (name string, status int, ok bool) {
	var ve *errdefs.VertexError
	if def == nil || !errors.As(err, &ve) || ve.Vertex == nil {
		return "", 0, false
	}
	md, found := def.Metadata[digest.Digest(ve.Digest)]
	if !found || md.Description["llb.customname"] == "" {
		return "", 0, false
	}
	status = -1
	var ee *gwpb.ExitError
	if errors.As(err, &ee) {
		status = int(ee.ExitCode)
	}
	return md.Description["llb.customname"], status, true
}

// stepError is the message for a failed step: its name and status when
// they are known, else the solver's own text. It does not wrap err:
// BuildKit would print the wrapped error's text instead of this one.
func stepError(def *llb.Definition, err error) string {
	name, status, ok := failedStep(def, err)
	switch {
	case !ok:
		return err.Error()
	case status >= 0:
		return fmt.Sprintf("%s: exited with status %d (its output is above)", name, status)
	}
	return fmt.Sprintf("%s: %v", name, err)
}
