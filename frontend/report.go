package frontend

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/apk/arch"
	"github.com/kiln-build/kiln/step"
)

// solveEvaluatedDefinition solves def and builds it before returning, so
// that a step that fails fails here, where the frontend can still say why
// (a lazy result would fail later, in the exporter, with BuildKit's words
// only).
func solveEvaluatedDefinition(ctx context.Context, c client.Client, cacheImports []client.CacheOptionsEntry, def *llb.Definition) (client.Reference, error) {
	ref, err := solveDefinition(ctx, c, cacheImports, def, true)
	if err != nil {
		return nil, explainStepFailure(ctx, c, err)
	}
	return ref, nil
}

// StepError is a kiln step's refusal as the user reads it: the step's own
// message (which names the package and what is wrong with it) rather than
// BuildKit's "process ... did not complete successfully".
type StepError struct {
	Step    string // the step's vertex name, e.g. "[x86_64] install hello-2.12-r0"
	Arch    string // the apk arch of the image the step built, when known
	Message string // what the step wrote to its report
	solve   *errdefs.SolveError
}

func (e *StepError) Error() string {
	if e.Arch != "" {
		return "[" + e.Arch + "] " + e.Message
	}
	return e.Message
}

// onPlatform names the image's arch in a step's refusal: a multi-platform
// build may refuse a package for one arch only.
func onPlatform(err error, p ocispecs.Platform) error {
	var se *StepError
	if errors.As(err, &se) && se.Arch == "" {
		se.Arch, _ = arch.FromPlatform(p.Architecture, p.Variant)
	}
	return err
}

// Unwrap keeps BuildKit's description of the failed op (for `buildx
// debug`), without the gRPC status whose text would replace the message.
func (e *StepError) Unwrap() error {
	if e.solve == nil {
		return nil
	}
	return e.solve
}

// explainStepFailure turns the failure of one of kiln's steps into the
// reason the step left in its report output. BuildKit hands the frontend
// the outputs of a failed exec (as it does for `buildx debug`); the report
// is read through a container over that output, which runs nothing. Any
// other failure, or a step that left no report, keeps BuildKit's error.
func explainStepFailure(ctx context.Context, c client.Client, err error) error {
	var se *errdefs.SolveError
	if !errors.As(err, &se) || se.Solve == nil {
		return err
	}
	if src := se.Solve.GetOp().GetSource(); src != nil {
		// A download that failed inside the image solve (prefetch should
		// have met it first): name its URL.
		if id := src.GetIdentifier(); strings.HasPrefix(id, "http://") || strings.HasPrefix(id, "https://") {
			u, _, _ := strings.Cut(id, "#")
			return newFetchError(u, err)
		}
		return err
	}
	exec := se.Solve.GetOp().GetExec()
	if exec == nil {
		return err
	}
	dir := step.ReportDir(exec.GetMeta().GetArgs())
	if dir == "" {
		return err
	}
	id := ""
	for i, m := range exec.GetMounts() {
		if m.GetDest() == dir && i < len(se.Solve.MountIDs) {
			id = se.Solve.MountIDs[i]
		}
	}
	if id == "" {
		return err
	}
	msg, rerr := readReport(ctx, c, id)
	if rerr != nil || msg == "" {
		return err
	}
	name := se.Solve.Description["llb.customname"]
	detail := &errdefs.SolveError{Solve: se.Solve, Err: errors.New(msg)}
	return &StepError{Step: name, Message: msg, solve: detail}
}

// readReport reads step.ReportFile from a failed step's report output
// (a result id BuildKit gave with the error).
func readReport(ctx context.Context, c client.Client, resultID string) (string, error) {
	caps := c.BuildOpts().Caps
	if caps.Supports(gatewaypb.CapGatewayExec) != nil || caps.Supports(gatewaypb.CapGatewayExecFilesystem) != nil {
		return "", errors.New("this BuildKit cannot read a failed step's outputs")
	}
	ctr, err := c.NewContainer(ctx, client.NewContainerRequest{
		Mounts:  []client.Mount{{Dest: "/", ResultID: resultID, Readonly: true, MountType: pb.MountType_BIND}},
		NetMode: pb.NetMode_NONE,
	})
	if err != nil {
		return "", fmt.Errorf("open the failed step's report: %w", err)
	}
	defer ctr.Release(context.WithoutCancel(ctx))
	data, err := ctr.ReadFile(ctx, client.ReadContainerRequest{
		ReadRequest: client.ReadRequest{Filename: "/" + step.ReportFile, Range: &client.FileRange{Length: step.MaxReport}},
	})
	if err != nil {
		return "", err
	}
	return step.CleanReport(string(data)), nil
}
