package plan

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
)

// testContext writes a build context holding a signed repository (in
// packages/, key in keys/) and the given apko.yaml, and returns its path.
func testContext(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	s, err := apktest.Signer()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apktest.WriteKey(filepath.Join(dir, "keys"), s); err != nil {
		t.Fatal(err)
	}
	r := apktest.NewRepo(filepath.Join(dir, "packages"), s)
	for _, a := range []string{"x86_64", "aarch64"} {
		r.Add(a,
			apktest.Package{Name: "base", Version: "1.0-r0", Origin: "base"},
			apktest.Package{Name: "hello", Version: "2.12-r1", Depends: []string{"base", "so:libhello.so.1"}},
			apktest.Package{Name: "libhello", Version: "1.0-r0", Provides: []string{"so:libhello.so.1=1.0"}},
			apktest.Package{Name: "s6", Version: "2.12-r0", Depends: []string{"execline"}},
			apktest.Package{Name: "execline", Version: "2.9-r0"},
		)
	}
	if _, err := r.Write(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "apko.yaml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const testRepoConfig = "contents:\n  repositories: [./packages]\n  keyring: [./keys/" + apktest.KeyName + "]\n"

// planContext plans apko.yaml in dir for the config's archs.
func planContext(t *testing.T, dir string, opts Options) (*Plan, error) {
	t.Helper()
	src := &HostSource{Root: dir}
	data, err := os.ReadFile(filepath.Join(dir, "apko.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := Load(context.Background(), "apko.yaml", data, src)
	if err != nil {
		return nil, err
	}
	host, _ := TargetOf("x86_64")
	targets, err := Targets(req, nil, host.Platform)
	if err != nil {
		return nil, err
	}
	return Resolve(context.Background(), req, targets, src, opts)
}

func TestResolvePlatforms(t *testing.T) {
	dir := testContext(t, testRepoConfig+"  packages: [hello]\narchs: [x86_64, arm64]\nannotations:\n  org.opencontainers.image.title: demo\n")
	pl, err := planContext(t, dir, Options{SourceDateEpoch: 1700000000})
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Platforms) != 2 || pl.Platforms[0].Arch != "x86_64" || pl.Platforms[1].Platform.Architecture != "arm64" {
		t.Fatalf("platforms %+v", pl.Platforms)
	}
	p := pl.Platforms[1]
	var names []string
	for _, pk := range p.Packages {
		names = append(names, pk.String())
		if pk.ContextPath(p.Arch) != "packages/aarch64/"+pk.Filename() || pk.URL(p.Arch) != "" {
			t.Errorf("%s comes from %q / %q", pk, pk.ContextPath(p.Arch), pk.URL(p.Arch))
		}
	}
	if got := strings.Join(names, " "); got != "base-1.0-r0 libhello-1.0-r0 hello-2.12-r1" {
		t.Errorf("install order %s", got)
	}
	// One layer per package, then the metadata layer, in the history too.
	if len(p.Layers) != 4 || !p.Layers[3].IsMetadata() || len(p.Image.History) != 4 || p.Image.History[2].CreatedBy != "apk add hello-2.12-r1" {
		t.Errorf("layers %+v history %+v", p.Layers, p.Image.History)
	}
	// The world is apko's locked one: everything installed, pinned.
	if want := []string{"base=1.0-r0", "hello=2.12-r1", "libhello=1.0-r0"}; !reflect.DeepEqual(p.Meta.World, want) {
		t.Errorf("world %q, want %q", p.Meta.World, want)
	}
	if p.SBOM.ImageName != "demo" || len(p.SBOM.Packages) != 3 || p.SBOM.SourceDateEpoch != 1700000000 {
		t.Errorf("sbom input %+v", p.SBOM)
	}
	if p.Image.Created.Unix() != 1700000000 || p.Labels["org.opencontainers.image.created"] != "2023-11-14T22:13:20Z" {
		t.Errorf("created %v labels %v", p.Image.Created, p.Labels)
	}
	if got := pl.ContextPaths(); len(got) != 6 {
		t.Errorf("context paths %q, want the 3 packages of each arch", got)
	}
	if _, ok := pl.Keys[apktest.KeyName]; !ok {
		t.Errorf("keys %v", pl.Keys)
	}
}

func TestResolveParity(t *testing.T) {
	tests := []struct {
		name   string
		config string
		check  func(t *testing.T, p *Platform)
	}{
		{"no packages", testRepoConfig, func(t *testing.T, p *Platform) {
			if len(p.Packages) != 0 || len(p.Layers) != 1 || !p.Layers[0].IsMetadata() || len(p.Meta.World) != 0 {
				t.Errorf("packages %v layers %+v world %q", p.Packages, p.Layers, p.Meta.World)
			}
		}},
		{"service bundle", testRepoConfig + "  packages: [hello]\nentrypoint:\n  type: service-bundle\n  services:\n    web: /usr/bin/hello\n", func(t *testing.T, p *Platform) {
			if want := []string{"base=1.0-r0", "execline=2.9-r0", "hello=2.12-r1", "libhello=1.0-r0", "s6=2.12-r0"}; !reflect.DeepEqual(p.Meta.World, want) {
				t.Errorf("world %q, want s6 and its dependencies too", p.Meta.World)
			}
			if !reflect.DeepEqual(p.Image.Config.Entrypoint, []string{"/bin/s6-svscan", "/sv"}) {
				t.Errorf("entrypoint %q", p.Image.Config.Entrypoint)
			}
			if len(p.Meta.Services) != 1 || p.Meta.Services[0].Command != "/usr/bin/hello" {
				t.Errorf("services %+v", p.Meta.Services)
			}
		}},
		{"tag pins stay in the world", "contents:\n  repositories: ['@local ./packages']\n  keyring: [./keys/" + apktest.KeyName + "]\n  packages: [hello@local]\n", func(t *testing.T, p *Platform) {
			if want := []string{"base=1.0-r0", "hello=2.12-r1@local", "libhello=1.0-r0"}; !reflect.DeepEqual(p.Meta.World, want) {
				t.Errorf("world %q, want %q", p.Meta.World, want)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl, err := planContext(t, testContext(t, tt.config), Options{})
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, pl.Platforms[0])
		})
	}
}

func TestResolveErrorsNameTheEntry(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"missing key", "contents:\n  repositories: [./packages]\n  keyring:\n    - ./keys/nope.rsa.pub\n  packages: [hello]\n",
			"apko.yaml:4:7: keyring: keys/nope.rsa.pub: not found in the build context"},
		{"missing repository", "contents:\n  repositories:\n    - ./nowhere\n  keyring: [./keys/" + apktest.KeyName + "]\n  packages: [hello]\n",
			"apko.yaml:3:7: repository ./nowhere: nowhere/x86_64/APKINDEX.tar.gz: not found in the build context"},
		{"unknown package", testRepoConfig + "  packages: [hello, nope]\n", "apko.yaml:4:21: contents.packages: x86_64: world: nope: provided by nothing in"},
		{"unknown package in a block list", testRepoConfig + "  packages:\n    - base\n    - hello>=9\n",
			"apko.yaml:6:7: contents.packages: x86_64: world: hello>=9:"},
		{"no repositories", "contents:\n  packages: [hello]\n", "apko.yaml:2:3: contents: no repositories"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := planContext(t, testContext(t, tt.config), Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
