package frontend

import (
	"context"
	"errors"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/util/grpcerrors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kiln-build/kiln/config/yamlnode"
)

// solveFailure is a failed solve as the gateway client returns it.
func solveFailure(msg string) error {
	return grpcerrors.FromGRPC(status.Error(codes.Unknown, msg))
}

// TestUserErrorOnTheWire checks what leaves the frontend: the gRPC
// status BuildKit passes to buildx keeps kiln's message (not the message
// of a failed solve it wraps), and its source is the YAML lines the error
// is at, or the config with no lines when it is at none.
func TestUserErrorOnTheWire(t *testing.T) {
	config := []byte("# syntax=x\ncontents:\n  keyring:\n    - https://example.org/k.rsa.pub\n")
	included := []byte("cmd: 1\nentrypont: {}\n")
	srcs := newYAMLSources(llb.NewSourceMap(nil, "apko.yaml", "yaml", config))
	srcs.included["base.yaml"] = included
	fetch := newFetchError("https://example.org/k.rsa.pub", solveFailure("failed to load cache key: invalid response status 404"))
	tests := []struct {
		name      string
		err       error
		msg       string
		file      string
		line      int32
		from, to  int32
		noSources bool
	}{
		{"download at a keyring entry", yamlnode.Pos{File: "apko.yaml", Line: 4, Column: 7}.Errorf("keyring: %v", fetch),
			"apko.yaml:4:7: keyring: fetch https://example.org/k.rsa.pub: HTTP 404 Not Found", "apko.yaml", 4, 6, 35, false},
		{"refused connection", newFetchError("http://127.0.0.1:1/x", solveFailure(`failed to load cache key: Get "http://127.0.0.1:1/x": dial tcp 127.0.0.1:1: connect: connection refused`)),
			`fetch http://127.0.0.1:1/x: dial tcp 127.0.0.1:1: connect: connection refused`, "apko.yaml", 0, 0, 0, true},
		{"in an included file", yamlnode.Pos{File: "./base.yaml", Line: 2, Column: 1}.Errorf(`unknown field "entrypont"`),
			`./base.yaml:2:1: unknown field "entrypont"`, "./base.yaml", 2, 0, 13, false},
		{"at no line", errors.New("unknown build arg KILN_X"), "unknown build arg KILN_X", "apko.yaml", 0, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := grpcerrors.FromGRPC(grpcerrors.ToGRPC(context.Background(), srcs.userError(tt.err)))
			st, _ := grpcerrors.AsGRPCStatus(wire)
			if st.Message() != tt.msg {
				t.Errorf("message\n got: %s\nwant: %s", st.Message(), tt.msg)
			}
			s := errdefs.Sources(wire)
			if len(s) != 1 {
				t.Fatalf("%d sources, want 1", len(s))
			}
			if s[0].Info.Filename != tt.file {
				t.Errorf("source file %q, want %q", s[0].Info.Filename, tt.file)
			}
			if tt.noSources {
				if len(s[0].Ranges) != 0 {
					t.Errorf("ranges %v, want none", s[0].Ranges)
				}
				return
			}
			if len(s[0].Ranges) != 1 {
				t.Fatalf("ranges %v, want one", s[0].Ranges)
			}
			r := s[0].Ranges[0]
			if r.Start.Line != tt.line || r.End.Line != tt.line || r.Start.Character != tt.from || r.End.Character != tt.to {
				t.Errorf("range %d:%d-%d:%d, want %d:%d-%d:%d", r.Start.Line, r.Start.Character, r.End.Line, r.End.Character,
					tt.line, tt.from, tt.line, tt.to)
			}
		})
	}
}
