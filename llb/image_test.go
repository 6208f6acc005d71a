package llb

import (
	"context"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
	bk "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// marshalOps marshals st and returns its exec ops and op metadata names.
func marshalOps(t *testing.T, st bk.State) ([]*pb.ExecOp, []string) {
	t.Helper()
	def, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var execs []*pb.ExecOp
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if e := op.GetExec(); e != nil {
			execs = append(execs, e)
		}
	}
	var names []string
	for _, m := range def.Metadata {
		if n := m.Description["llb.customname"]; n != "" {
			names = append(names, n)
		}
	}
	return execs, names
}

func testInput(n int) ImageInput {
	in := ImageInput{
		Arch:          "aarch64",
		Tools:         bk.Image("127.0.0.1:5000/kiln:dev"),
		ToolsPlatform: ocispecs.Platform{OS: "linux", Architecture: "amd64"},
		Keys:          bk.Scratch().File(bk.Mkfile("/k.rsa.pub", 0o644, []byte("key"))),
		MetaSpec:      []byte(`{}`),
	}
	for i := 0; i < n; i++ {
		p := &index.Package{Name: string(rune('a' + i)), Version: "1.0-r0", Origin: string(rune('a' + i)), Checksum: "Q1" + string(rune('A'+i))}
		in.Packages = append(in.Packages, PackageSource{
			Package: p,
			Source:  bk.HTTP("http://127.0.0.1:1/aarch64/"+p.Filename(), bk.Filename(p.Filename())),
			Path:    "/" + p.Filename(),
		})
	}
	return in
}

func TestImageExecOpsAreSandboxed(t *testing.T) {
	st, layers, err := Image(testInput(3))
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 4 {
		t.Fatalf("%d layers, want 3 package layers + metadata", len(layers))
	}
	execs, names := marshalOps(t, st)
	if len(execs) != 4 {
		t.Fatalf("%d exec ops, want 4", len(execs))
	}
	var installs int
	for _, e := range execs {
		if e.Network != pb.NetMode_NONE {
			t.Errorf("exec %v has network %v", e.Meta.Args, e.Network)
		}
		for _, m := range e.Mounts {
			output := m.Output != -1 // pb.SkipOutput
			switch m.Dest {
			case "/out", "/meta":
				if !output || m.Readonly {
					t.Errorf("exec %v: %s must be a writable output", e.Meta.Args[1], m.Dest)
				}
			default:
				if !m.Readonly {
					t.Errorf("exec %v: input mount %s is writable", e.Meta.Args[1], m.Dest)
				}
			}
		}
		if e.Meta.Args[1] == "install-apk" {
			installs++
			joined := strings.Join(e.Meta.Args, " ")
			if !strings.Contains(joined, "--expect /pkgs/0/") || !strings.Contains(joined, ".apk=Q1") {
				t.Errorf("install args lack expected checksums: %s", joined)
			}
		}
	}
	if installs != 3 {
		t.Errorf("%d install ops, want one per package", installs)
	}
	want := []string{"[aarch64] install a-1.0-r0", "[aarch64] generate installed database, accounts and links", "[aarch64] assemble image (4 layers)"}
	for _, w := range want {
		found := false
		for _, n := range names {
			found = found || n == w
		}
		if !found {
			t.Errorf("no vertex named %q in %q", w, names)
		}
	}
}

// TestImageOnePackageChange checks the cache property the layering exists
// for: changing one package changes only its own install op.
func TestImageOnePackageChange(t *testing.T) {
	digests := func(in ImageInput) map[string]bool {
		st, _, err := Image(in)
		if err != nil {
			t.Fatal(err)
		}
		def, err := st.Marshal(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, dt := range def.Def {
			var op pb.Op
			op.UnmarshalVT(dt)
			if e := op.GetExec(); e != nil && e.Meta.Args[1] == "install-apk" {
				out[strings.Join(e.Meta.Args, " ")] = true
			}
		}
		return out
	}
	before := digests(testInput(5))
	in := testInput(5)
	in.Packages[2].Package.Version = "1.1-r0"
	in.Packages[2].Package.Checksum = "Q1changed"
	after := digests(in)
	var changed int
	for k := range after {
		if !before[k] {
			changed++
		}
	}
	if changed != 1 {
		t.Fatalf("%d install ops changed after a one-package bump, want 1", changed)
	}
}

func TestImageNoPackages(t *testing.T) {
	if _, _, err := Image(testInput(0)); err == nil {
		t.Fatal("Image with no packages succeeded")
	}
}
