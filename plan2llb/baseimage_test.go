package plan2llb

import (
	"context"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/step"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/plan"
)

// withBase puts the plan's platform on a base image of n layers.
func withBase(pl *plan.Plan, n int) *plan.BaseImage {
	b := &plan.BaseImage{APKIndex: "base/apkindex/aarch64/APKINDEX", APKIndexSHA256: strings.Repeat("ab", 32)}
	for i := 0; i < n; i++ {
		d := digest.FromString("blob" + string(rune('0'+i)))
		b.Layers = append(b.Layers, plan.BaseLayer{
			Descriptor:  ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageLayerGzip, Digest: d},
			DiffID:      digest.FromString("tar" + string(rune('0'+i))),
			ContextPath: "base/layout/blobs/sha256/" + d.Encoded(),
		})
	}
	pl.Platforms[0].Base = b
	return b
}

// graph is a marshalled definition's ops by digest.
type graph struct {
	ops   map[string]*pb.Op
	order []string
}

func marshalGraph(t *testing.T, st llb.State) *graph {
	t.Helper()
	def, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	g := &graph{ops: map[string]*pb.Op{}}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		d := digest.FromBytes(dt).String()
		g.ops[d] = &op
		g.order = append(g.order, d)
	}
	return g
}

func (g *graph) execs(cmd string) []*pb.Op {
	var out []*pb.Op
	for _, d := range g.order {
		if e := g.ops[d].GetExec(); e != nil && e.Meta.Args[1] == cmd {
			out = append(out, g.ops[d])
		}
	}
	return out
}

func TestImageOnBaseImage(t *testing.T) {
	pl, in := testPlan(t, 3)
	base := withBase(pl, 3)
	img := convert(t, pl, in)
	g := marshalGraph(t, img.Root)

	applies := g.execs("apply-layer")
	if len(applies) != len(base.Layers) {
		t.Fatalf("%d apply-layer steps, want one per base layer (%d)", len(applies), len(base.Layers))
	}
	for i, op := range applies {
		e := op.GetExec()
		joined := strings.Join(e.Meta.Args, " ")
		l := base.Layers[i]
		if !strings.Contains(joined, "--digest "+l.Digest.String()) || !strings.Contains(joined, "--diff-id "+l.DiffID.String()) ||
			!strings.Contains(joined, "--media-type "+l.MediaType) {
			t.Errorf("layer %d: args %s", i, joined)
		}
		if top := strings.Contains(joined, "--links /links --tree /tree"); top != (i == len(applies)-1) {
			t.Errorf("layer %d: links and tree recorded: %v", i, top)
		}
		if e.Network != pb.NetMode_NONE {
			t.Errorf("layer %d: network %v", i, e.Network)
		}
		for _, m := range e.Mounts {
			switch m.Dest {
			case "/":
				if !m.Readonly {
					t.Errorf("layer %d: the tools' root is writable", i)
				}
			case "/blob":
				if !m.Readonly || m.Selector != "/"+l.ContextPath {
					t.Errorf("layer %d: blob mount %+v", i, m)
				}
			case "/rootfs":
				// The layers below, read-write: the step's diff is the layer.
				if m.Readonly || m.Output == -1 {
					t.Errorf("layer %d: rootfs mount %+v is not a writable output", i, m)
				}
			case step.MountReport:
				// Where a refusal is reported; its output is read only when the step fails.
				if m.Readonly || m.Output == -1 {
					t.Errorf("layer %d: report mount %+v", i, m)
				}
			case "/links", "/tree":
				if m.Readonly || m.Output == -1 || i != len(applies)-1 {
					t.Errorf("layer %d: %s mount %+v", i, m.Dest, m)
				}
			default:
				t.Errorf("layer %d: unexpected mount %s", i, m.Dest)
			}
		}
	}
	// Each step applies onto the previous step's output.
	for i := 1; i < len(applies); i++ {
		prev := digestOf(g, applies[i-1])
		var rootfsInput int64 = -1
		for _, m := range applies[i].GetExec().Mounts {
			if m.Dest == "/rootfs" {
				rootfsInput = m.Input
			}
		}
		if rootfsInput < 0 || applies[i].Inputs[rootfsInput].Digest != prev {
			t.Errorf("layer %d does not apply onto layer %d's output", i+1, i)
		}
	}

	// The image merges the base's diffs, the package layers and the metadata layer.
	var merge *pb.MergeOp
	var diffs int
	for _, d := range g.order {
		if m := g.ops[d].GetMerge(); m != nil && len(m.Inputs) == len(base.Layers)+3+1 {
			merge = m
		}
		if g.ops[d].GetDiff() != nil {
			diffs++
		}
	}
	// (The bottom layer's diff against nothing is its step's output itself.)
	if merge == nil || diffs != len(base.Layers)-1 {
		t.Fatalf("no merge of %d base layers, 3 package layers and the metadata layer (diffs: %d)", len(base.Layers), diffs)
	}

	installs := g.execs("install-apk")
	if first := strings.Join(installs[0].GetExec().Meta.Args, " "); !strings.Contains(first, "--lower /lower") {
		t.Errorf("the first install step does not get the base's links: %s", first)
	}
	meta := g.execs("image-meta")[0].GetExec()
	joined := strings.Join(meta.Meta.Args, " ")
	if !strings.Contains(joined, "--base-db /base/APKINDEX --base-db-sha256 "+base.APKIndexSHA256) {
		t.Errorf("metadata step args %s", joined)
	}
	for _, m := range meta.Mounts {
		if m.Dest == "/base/APKINDEX" && (!m.Readonly || m.Selector != "/"+base.APKIndex) {
			t.Errorf("base database mount %+v", m)
		}
	}
	if meta.Network != pb.NetMode_NONE {
		t.Error("the metadata step has network")
	}
}

func digestOf(g *graph, op *pb.Op) string {
	for d, o := range g.ops {
		if o == op {
			return d
		}
	}
	return ""
}

// A change to a base layer re-runs its own step and those above it; the
// package layers and their install steps keep their cache keys unless
// the base's links changed (which BuildKit compares by content).
func TestImageBaseLayerChange(t *testing.T) {
	keys := func(mutate func(*plan.BaseImage)) map[string]bool {
		pl, in := testPlan(t, 2)
		b := withBase(pl, 3)
		if mutate != nil {
			mutate(b)
		}
		g := marshalGraph(t, convert(t, pl, in).Root)
		out := map[string]bool{}
		for d, op := range g.ops {
			if e := op.GetExec(); e != nil {
				out[e.Meta.Args[1]+" "+d] = true
			}
		}
		return out
	}
	before := keys(nil)
	after := keys(func(b *plan.BaseImage) {
		b.Layers[1].Digest = digest.FromString("other")
		b.Layers[1].ContextPath = "base/layout/blobs/sha256/" + b.Layers[1].Digest.Encoded()
	})
	changed := map[string]int{}
	for k := range after {
		if !before[k] {
			changed[strings.Fields(k)[0]]++
		}
	}
	// Layers 2 and 3 apply again; layer 1 does not.
	if changed["apply-layer"] != 2 {
		t.Errorf("changed steps %v, want the apply steps of layers 2 and 3", changed)
	}
}
