package plan

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/config/apko"
)

func loadFixture(t *testing.T, name string) *apko.Config {
	t.Helper()
	dir := filepath.Join("..", "config", "apko", "testdata")
	cfg, err := apko.Load(name, func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, p)) })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestRequestFromApko(t *testing.T) {
	req, err := FromApko(loadFixture(t, "paths.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Repositories) != 1 || req.Repositories[0].Entry.Value != "https://packages.wolfi.dev/os" ||
		req.Repositories[0].Entry.Pos.String() != "paths.yaml:3:7" {
		t.Errorf("repositories %+v", req.Repositories)
	}
	if !reflect.DeepEqual(req.RuntimeRepositories, []string{"https://packages.wolfi.dev/os"}) {
		t.Errorf("runtime repositories %v", req.RuntimeRepositories)
	}
	if len(req.Packages) != 1 || req.Packages[0].Value != "wolfi-baselayout" || !strings.HasPrefix(req.Packages[0].Pos.String(), "paths.yaml:7:") {
		t.Errorf("packages %+v", req.Packages)
	}
	if len(req.Paths) < 5 {
		t.Fatalf("paths %+v", req.Paths)
	}
	p0 := req.Paths[0]
	if p0.Path != "/data" || p0.Type != "directory" || p0.Permissions != 0o2775 || !p0.Recursive || p0.UID == nil || *p0.UID != 65532 {
		t.Errorf("paths[0] %+v", p0)
	}
	if p := req.Paths[1]; p.Permissions != 0o644 || p.UID != nil {
		t.Errorf("paths[1] %+v", p)
	}
}

func TestRequestFromApkoAccountsAndImage(t *testing.T) {
	cfg := loadFixture(t, "nginx.yaml")
	cfg.Entrypoint = apko.Entrypoint{Command: apko.Str{Value: "/usr/sbin/nginx -g 'daemon off;'"}}
	req, err := FromApko(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if req.RunAs != "nginx" || len(req.Accounts.Users) != 1 || req.Accounts.Users[0].UID != 10000 || req.Accounts.Users[0].GID != nil ||
		len(req.Accounts.Groups) != 1 || req.Accounts.Groups[0].GID != 10000 {
		t.Errorf("accounts %+v run-as %q", req.Accounts, req.RunAs)
	}
	if req.Image.StopSignal != "SIGQUIT" || req.Image.WorkDir != "/usr/share/nginx" || req.Image.Annotations["foo"] != "bar" ||
		req.Image.EntrypointCommand == "" || req.Image.Environment["PATH"] == "" {
		t.Errorf("image %+v", req.Image)
	}
	if len(req.Archs) != 1 || req.Archs[0].Name != "x86_64" {
		t.Errorf("archs %v", req.Archs)
	}
}

func TestRequestParityFeatures(t *testing.T) {
	tests := []struct {
		fixture string
		check   func(t *testing.T, req *Request)
	}{
		{"nginx.yaml", func(t *testing.T, req *Request) {
			// A service bundle runs s6-svscan over /sv, and s6 joins the world.
			if req.Image.EntrypointCommand != "/bin/s6-svscan /sv" {
				t.Errorf("entrypoint %q", req.Image.EntrypointCommand)
			}
			last := req.Packages[len(req.Packages)-1]
			if last.Value != "s6" || last.Pos.String() != "nginx.yaml:12:9" {
				t.Errorf("added package %q at %s, want s6 at the type's line", last.Value, last.Pos)
			}
			if len(req.Services) != 1 || req.Services[0].Name != "nginx" || !strings.HasPrefix(req.Services[0].Command, "/usr/sbin/nginx -c") {
				t.Errorf("services %+v", req.Services)
			}
			if req.Image.User != "10000" {
				t.Errorf("run-as %q, want the configured user's uid", req.Image.User)
			}
		}},
		{"certificates.yaml", func(t *testing.T, req *Request) {
			c := req.Certificates
			if c == nil || len(c.Additional) != 1 || c.Additional[0].Name != "example-internal-root" ||
				!strings.Contains(c.Additional[0].Content, "BEGIN CERTIFICATE") || len(c.Providers) != 1 || c.Providers[0] != "ca-certificates-bundle" {
				t.Errorf("certificates %+v", c)
			}
		}},
		{"runtime-keyring.yaml", func(t *testing.T, req *Request) {
			if len(req.RuntimeKeys) == 0 || !strings.Contains(req.RuntimeKeys[0].Content, "PUBLIC KEY") {
				t.Errorf("runtime keys %+v", req.RuntimeKeys)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			req, err := FromApko(loadFixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, req)
		})
	}
}

func TestContextPath(t *testing.T) {
	for in, want := range map[string]string{"./packages": "packages", "/packages/": "packages", "file:///repo": "repo", "a/../b": "b", "../../etc": "etc"} {
		if got, err := ContextPath(in); err != nil || got != want {
			t.Errorf("ContextPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ContextPath("."); err == nil {
		t.Error("ContextPath(.) accepted the whole context")
	}
}

func TestRequestBaseImage(t *testing.T) {
	load := func(doc string) (*Request, error) {
		cfg, err := apko.Parse("apko.yaml", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		return FromApko(cfg)
	}
	const repo = "contents:\n  repositories: [https://r]\n  packages: [a]\n"
	req, err := load(repo + "  baseimage:\n    image: /ctx/../base/\n    apkindex: file:///idx\n")
	if err != nil {
		t.Fatal(err)
	}
	// Build-context paths, as local repositories are.
	if req.Base == nil || req.Base.Layout != "base" || req.Base.APKIndex != "idx" || req.Base.Entry.Image.Value != "/ctx/../base/" {
		t.Errorf("base %+v", req.Base)
	}
	_, err = load(repo + "  baseimage:\n    image: ./\n    apkindex: ./idx\n")
	if err == nil || err.Error() != `apko.yaml:5:12: contents.baseimage.image: "./" is the whole build context, not a file or directory in it` {
		t.Errorf("err = %v", err)
	}
}

// The config itself is bounded like its includes: a build never parses
// more YAML than MaxConfigBytes, wherever it came from.
func TestLoadBoundsTheConfig(t *testing.T) {
	cfg := "contents:\n  repositories: [./r]\n  keyring: [./k.rsa.pub]\n  packages: [a]\n"
	for _, tt := range []struct {
		size    int
		wantErr string
	}{
		{MaxConfigBytes, ""},
		{MaxConfigBytes + 1, "apko.yaml: 4194305 bytes; kiln reads configs of up to 4194304 bytes"},
	} {
		data := cfg + "#" + strings.Repeat("x", tt.size-len(cfg)-2) + "\n"
		_, err := Load(t.Context(), "apko.yaml", []byte(data), &HostSource{Root: t.TempDir()})
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
			t.Errorf("%d bytes: %v, want %q", tt.size, err, tt.wantErr)
		}
	}
}
