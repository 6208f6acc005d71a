package resolve

import (
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
)

// installedRepo is a base image's installed database as a repository.
func installedRepo(arch string, pkgs ...*index.Package) Repository {
	r := archRepo("base image", arch, pkgs...)
	r.Installed = true
	return r
}

func TestResolveInstalled(t *testing.T) {
	cases := []struct {
		name    string
		repos   []Repository
		world   []string
		want    string
		wantErr string
	}{
		{"an installed dependency keeps its version",
			repos(repo("main", pk("app-1-r0", "D:lib"), pk("lib-1-r0"), pk("lib-2-r0")), installedRepo("x86_64", pk("lib-1-r0"))),
			[]string{"app"}, "lib-1-r0 app-1-r0", ""},
		{"installed packages are in the solution even when nothing needs them",
			repos(repo("main", pk("app-1-r0")), installedRepo("x86_64", pk("tool-3-r0"))),
			[]string{"app"}, "app-1-r0 tool-3-r0", ""},
		{"an installed provider meets a so: dependency",
			repos(repo("main", pk("app-1-r0", "D:so:libc.so.6"), pk("glibc-2.40-r0", "p:so:libc.so.6=6")),
				installedRepo("x86_64", pk("glibc-2.39-r0", "p:so:libc.so.6=6"))),
			[]string{"app"}, "glibc-2.39-r0 app-1-r0", ""},
		{"a world entry the installed version cannot meet",
			repos(repo("main", pk("lib-1-r0"), pk("lib-2-r0")), installedRepo("x86_64", pk("lib-1-r0"))),
			[]string{"lib>=2"}, "", "lib"},
		{"an installed package's install_if is never read",
			repos(repo("main", pk("app-1-r0")), installedRepo("x86_64", pk("apko-db-1-r0", "i:[]"))),
			[]string{"app"}, "app-1-r0 apko-db-1-r0", ""},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.repos)
			if err != nil {
				t.Fatal(err)
			}
			sol, err := r.Resolve(tt.world)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := order(sol); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			// (lib-1-r0 is also in main, which may serve it: same name-version.)
			for _, rp := range sol.Packages {
				if rp.Package.Name == "glibc" || rp.Package.Name == "tool" {
					if !rp.Repository.Installed {
						t.Errorf("%s resolved from %s, not the installed packages", rp.Package.Name, rp.Repository.Name)
					}
				}
			}
		})
	}
}

// Installed packages are each architecture's own: they need not exist on
// the other architecture, nor agree with it, while the new packages still
// do.
func TestResolveArchsInstalled(t *testing.T) {
	byArch := map[string][]Repository{
		"x86_64": {archRepo("x86/main", "x86_64", pk("app-1-r0", "D:lib"), pk("app-2-r0", "D:lib"), pk("lib-1-r0"), pk("lib-2-r0")),
			installedRepo("x86_64", pk("lib-1-r0"), pk("only-x86-1-r0"))},
		"aarch64": {archRepo("arm/main", "aarch64", pk("app-1-r0", "D:lib"), pk("lib-1-r0"), pk("lib-2-r0")),
			installedRepo("aarch64", pk("lib-2-r0"))},
	}
	sols, err := ResolveArchs(byArch, []string{"app"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		// app-2 is missing on aarch64, so both install app-1; each keeps its own lib.
		"x86_64":  "lib-1-r0 app-1-r0 only-x86-1-r0",
		"aarch64": "lib-2-r0 app-1-r0",
	}
	for arch, w := range want {
		if got := order(sols[arch]); got != w {
			t.Errorf("%s: got %q, want %q", arch, got, w)
		}
	}
}
