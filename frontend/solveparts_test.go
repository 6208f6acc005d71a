package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	fstypes "github.com/tonistiigi/fsutil/types"

	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/step"
)

// partsClient answers the solves of one image's parts. Every solve waits
// until all the parts expected have been asked for, so a frontend that
// solved them one after another never gets an answer (and the test says
// so); then each part gets its result or its error.
type partsClient struct {
	client.Client // only Solve is called
	names         map[digest.Digest]string
	want          int
	errs          map[string]error
	verdict       step.Verdict

	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (c *partsClient) Solve(ctx context.Context, req client.SolveRequest) (*client.Result, error) {
	name := c.names[lastOp(req.Definition)]
	if name == "" {
		return nil, fmt.Errorf("a solve of none of the parts")
	}
	c.mu.Lock()
	c.arrived++
	if c.arrived == c.want {
		close(c.all)
	}
	c.mu.Unlock()
	select {
	case <-c.all:
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("%s: solved alone, the other parts were not asked for", name)
	}
	if err := c.errs[name]; err != nil {
		return nil, err
	}
	res := client.NewResult()
	res.SetRef(partRef{name: name, verdict: c.verdict})
	return res, nil
}

// partRef is a part's result. The check's holds step.DiffersFile only
// when its verdict is that the batches differ, as the metadata step's
// output does.
type partRef struct {
	client.Reference // only ReadDir and ReadFile are called
	name             string
	verdict          step.Verdict
}

func (r partRef) ReadDir(ctx context.Context, req client.ReadDirRequest) ([]*fstypes.Stat, error) {
	if r.name != "check" || req.Path != "/" || req.IncludePattern != step.DiffersFile {
		return nil, fmt.Errorf("read directory %s (%s) of %s", req.Path, req.IncludePattern, r.name)
	}
	if r.verdict.Differs == "" {
		return nil, nil
	}
	return []*fstypes.Stat{{Path: step.DiffersFile, Mode: 0o644}}, nil
}

func (r partRef) ReadFile(ctx context.Context, req client.ReadRequest) ([]byte, error) {
	if r.name != "check" || req.Filename != step.DiffersFile || r.verdict.Differs == "" {
		return nil, fmt.Errorf("read %s of %s", req.Filename, r.name)
	}
	return json.Marshal(r.verdict)
}

func lastOp(def *pb.Definition) digest.Digest {
	if def == nil || len(def.Def) == 0 {
		return ""
	}
	return digest.FromBytes(def.Def[len(def.Def)-1])
}

func TestSolveParts(t *testing.T) {
	errInstall := errors.New("install step failed")
	errOther := errors.New("something else failed")
	tests := []struct {
		name        string
		parts       []string // which parts there are, root always
		errs        map[string]error
		differs     string
		wantErr     string
		wantRefs    []string // parts whose references come back
		wantDiffers string
	}{
		{name: "all", parts: []string{"root", "sbom", "check"}, wantRefs: []string{"root", "sbom"}},
		{name: "root only", parts: []string{"root"}, wantRefs: []string{"root"}},
		{name: "root and check", parts: []string{"root", "check"}, wantRefs: []string{"root"}},
		{name: "the check's difference drops the rest", parts: []string{"root", "sbom", "check"},
			differs: "/opt/current", errs: map[string]error{"root": errOther}, wantDiffers: "/opt/current"},
		{name: "the check's error first", parts: []string{"root", "sbom", "check"},
			errs: map[string]error{"root": errOther, "sbom": errOther, "check": errInstall}, wantErr: "install step failed"},
		{name: "the root's error before the SBOM's", parts: []string{"root", "sbom", "check"},
			errs: map[string]error{"root": errInstall, "sbom": errOther}, wantErr: "install step failed"},
		{name: "the SBOM's error says so", parts: []string{"root", "sbom"},
			errs: map[string]error{"sbom": errInstall}, wantErr: "SBOM for linux/amd64: install step failed"},
	}
	platform := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &partsClient{names: map[digest.Digest]string{}, want: len(tt.parts), errs: tt.errs,
				verdict: step.Verdict{Differs: tt.differs}, all: make(chan struct{})}
			var defs partDefinitions
			for _, name := range tt.parts {
				def, err := llb.Scratch().File(llb.Mkfile("/"+name, 0o644, nil)).Marshal(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				c.names[lastOp(def.ToPB())] = name
				switch name {
				case "root":
					defs.root = def
				case "sbom":
					defs.sbom = def
				case "check":
					defs.check = def
				}
			}
			b := &builder{c: c, bc: &dockerui.Client{}}
			got, err := b.solveParts(context.Background(), defs, platform, &plan.Platform{})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.differs != tt.wantDiffers {
				t.Errorf("differs %q, want %q", got.differs, tt.wantDiffers)
			}
			refs := map[string]client.Reference{"root": got.root, "sbom": got.sbom}
			for _, name := range []string{"root", "sbom"} {
				want := false
				for _, w := range tt.wantRefs {
					want = want || w == name
				}
				switch r, _ := refs[name].(partRef); {
				case want && r.name != name:
					t.Errorf("%s: reference %+v, want the %s's", name, refs[name], name)
				case !want && refs[name] != nil:
					t.Errorf("%s: reference %+v, want none", name, refs[name])
				}
			}
		})
	}
}
