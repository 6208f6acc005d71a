package llb

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kiln-build/kiln/apk/index"
	bk "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
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
	b, err := Image(testInput(3))
	if err != nil {
		t.Fatal(err)
	}
	st, layers := b.Root, b.Layers
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
	want := []string{"[aarch64] install a-1.0-r0", "[aarch64] resolved 3 packages", "[aarch64] generate installed database, accounts and links", "[aarch64] assemble image (4 layers)"}
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
		b, err := Image(in)
		if err != nil {
			t.Fatal(err)
		}
		def, err := b.Root.Marshal(context.Background())
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

// TestSBOMStep checks the SBOM step: sandboxed like the install steps,
// fed every layer's install record and the spec, and leaving the image's
// own graph alone.
func TestSBOMStep(t *testing.T) {
	b, err := Image(testInput(3))
	if err != nil {
		t.Fatal(err)
	}
	before, err := b.Root.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	spec := []byte(`{"arch":"aarch64"}`)
	execs, names := marshalOps(t, b.SBOM(spec))
	var sbomExec *pb.ExecOp
	for _, e := range execs {
		if e.Meta.Args[1] == "image-sbom" {
			sbomExec = e
		}
	}
	if sbomExec == nil {
		t.Fatalf("no image-sbom exec in %q", names)
	}
	if sbomExec.Network != pb.NetMode_NONE {
		t.Errorf("SBOM step network %v, want none", sbomExec.Network)
	}
	joined := strings.Join(sbomExec.Meta.Args, " ")
	if got := strings.Count(joined, "--meta "); got != 3 {
		t.Errorf("SBOM step reads %d install records, want 3 (one per layer): %s", got, joined)
	}
	var readonly int
	for _, m := range sbomExec.Mounts {
		if m.Dest == "/" && !m.Readonly {
			t.Error("SBOM step's root filesystem is writable")
		}
		if m.Readonly {
			readonly++
		}
	}
	if readonly < 5 { // root, spec, three records
		t.Errorf("%d read-only mounts, want the root, the spec and every record", readonly)
	}
	found := false
	for _, n := range names {
		found = found || n == "[aarch64] write SPDX SBOM"
	}
	if !found {
		t.Errorf("no SBOM vertex in %q", names)
	}
	after, err := b.Root.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(before.Def) != len(after.Def) {
		t.Errorf("asking for an SBOM changed the image graph: %d ops, then %d", len(before.Def), len(after.Def))
	}
	for i := range before.Def {
		if !bytes.Equal(before.Def[i], after.Def[i]) {
			t.Errorf("asking for an SBOM changed the image graph's op %d", i)
		}
	}
}

func TestImageNoPackages(t *testing.T) {
	if _, err := Image(testInput(0)); err == nil {
		t.Fatal("Image with no packages succeeded")
	}
}

func TestImageConfig(t *testing.T) {
	epoch := time.Unix(1700000000, 0)
	tests := []struct {
		name    string
		in      ImageConfigInput
		check   func(t *testing.T, img *dockerspec.DockerOCIImage)
		wantErr string
	}{
		{"apko defaults", ImageConfigInput{Epoch: epoch, Platform: ocispecs.Platform{OS: "linux", Architecture: "arm64"}}, func(t *testing.T, img *dockerspec.DockerOCIImage) {
			want := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}
			if !reflect.DeepEqual(img.Config.Env, want) {
				t.Errorf("env %q", img.Config.Env)
			}
			if img.Created == nil || !img.Created.Equal(epoch) || img.Architecture != "arm64" || img.OS != "linux" {
				t.Errorf("created %v platform %s/%s", img.Created, img.OS, img.Architecture)
			}
			if img.Config.Entrypoint != nil || img.Config.Cmd != nil {
				t.Errorf("entrypoint %q cmd %q", img.Config.Entrypoint, img.Config.Cmd)
			}
			if img.Config.Labels["org.opencontainers.image.created"] != "2023-11-14T22:13:20Z" {
				t.Errorf("labels %v", img.Config.Labels)
			}
		}, ""},
		{"command split like a shell", ImageConfigInput{EntrypointCommand: `/usr/bin/nginx -g "daemon off;"`, Cmd: "--help 'a b'"}, func(t *testing.T, img *dockerspec.DockerOCIImage) {
			if !reflect.DeepEqual(img.Config.Entrypoint, []string{"/usr/bin/nginx", "-g", "daemon off;"}) || !reflect.DeepEqual(img.Config.Cmd, []string{"--help", "a b"}) {
				t.Errorf("entrypoint %q cmd %q", img.Config.Entrypoint, img.Config.Cmd)
			}
		}, ""},
		{"shell fragment", ImageConfigInput{ShellFragment: "echo $HOME"}, func(t *testing.T, img *dockerspec.DockerOCIImage) {
			if !reflect.DeepEqual(img.Config.Entrypoint, []string{"/bin/sh", "-c", "echo $HOME"}) {
				t.Errorf("entrypoint %q", img.Config.Entrypoint)
			}
		}, ""},
		{"env overrides and sorts", ImageConfigInput{Environment: map[string]string{"PATH": "/bin", "A": "1"}}, func(t *testing.T, img *dockerspec.DockerOCIImage) {
			if !reflect.DeepEqual(img.Config.Env, []string{"A=1", "PATH=/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}) {
				t.Errorf("env %q", img.Config.Env)
			}
		}, ""},
		{"vcs and volumes", ImageConfigInput{VCSURL: "https://github.com/x/y@abc123", Volumes: []string{"/data"}, User: "65532", WorkDir: "/app", StopSignal: "SIGQUIT",
			Layers: []Layer{{Comment: "apk add a-1"}, {Comment: "meta"}}}, func(t *testing.T, img *dockerspec.DockerOCIImage) {
			l := img.Config.Labels
			if l["org.opencontainers.image.source"] != "https://github.com/x/y" || l["org.opencontainers.image.revision"] != "abc123" {
				t.Errorf("labels %v", l)
			}
			if _, ok := img.Config.Volumes["/data"]; !ok || img.Config.User != "65532" || img.Config.WorkingDir != "/app" || img.Config.StopSignal != "SIGQUIT" {
				t.Errorf("config %+v", img.Config)
			}
			if len(img.History) != 2 || img.History[0].CreatedBy != "apk add a-1" {
				t.Errorf("history %+v", img.History)
			}
		}, ""},
		{"bad quoting", ImageConfigInput{EntrypointCommand: `sh -c "unterminated`}, nil, "entrypoint command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := ImageConfig(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, img)
		})
	}
}
