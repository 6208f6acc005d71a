package resolve

import (
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
)

// pk builds an index record: "name-version" plus D:, p:, i: tokens given
// with prefixes "D:", "p:", "i:", "r:", "k:<n>", "A:<arch>", "C:<sum>".
func pk(nv string, rel ...string) *index.Package {
	i := strings.LastIndex(nv, "-")
	if j := strings.LastIndex(nv[:i], "-"); strings.HasPrefix(nv[i+1:], "r") && j > 0 {
		i = j
	}
	p := &index.Package{Name: nv[:i], Version: nv[i+1:], Arch: "x86_64"}
	for _, r := range rel {
		k, v := r[:2], r[2:]
		switch k {
		case "D:":
			p.Dependencies = append(p.Dependencies, v)
		case "p:":
			p.Provides = append(p.Provides, v)
		case "i:":
			p.InstallIf = append(p.InstallIf, v)
		case "r:":
			p.Replaces = append(p.Replaces, v)
		case "k:":
			p.ProviderPriority, p.HasProviderPrio = atoi(v), true
		case "A:":
			p.Arch = v
		case "C:":
			p.Checksum = v
		}
	}
	return p
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func repo(name string, pkgs ...*index.Package) Repository {
	return Repository{Name: name, Arch: "x86_64", Packages: pkgs}
}

func names(s *Solution) string {
	var out []string
	for _, p := range s.Packages {
		out = append(out, p.Package.Name+"-"+p.Package.Version)
	}
	return strings.Join(out, " ")
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		repos   []Repository
		world   []string
		want    string // install order
		wantErr string
	}{
		{"chain, deps first", []Repository{repo("main", pk("a-1.0-r0", "D:b"), pk("b-1.0-r0", "D:c"), pk("c-1.0-r0"))},
			[]string{"a"}, "c-1.0-r0 b-1.0-r0 a-1.0-r0", ""},
		{"highest version", []Repository{repo("main", pk("a-1.0-r0"), pk("a-1.10-r0"), pk("a-1.9-r3"))},
			[]string{"a"}, "a-1.10-r0", ""},
		{"world version constraint", []Repository{repo("main", pk("a-1.0-r0"), pk("a-2.0-r0"))},
			[]string{"a<2"}, "a-1.0-r0", ""},
		{"fuzzy constraint", []Repository{repo("main", pk("go-1.21.5-r0"), pk("go-1.22.1-r0"))},
			[]string{"go~1.21"}, "go-1.21.5-r0", ""},
		{"so: provide", []Repository{repo("main", pk("app-1-r0", "D:so:libfoo.so.1"), pk("libfoo-1.2-r0", "p:so:libfoo.so.1=1.2.0"))},
			[]string{"app"}, "libfoo-1.2-r0 app-1-r0", ""},
		{"constraint checked against provided version", []Repository{repo("main",
			pk("app-1-r0", "D:so:libfoo.so.1>=2"), pk("libfoo-9-r0", "p:so:libfoo.so.1=1.5"), pk("libfoo2-1-r0", "p:so:libfoo.so.1=2.1"))},
			[]string{"app"}, "libfoo2-1-r0 app-1-r0", ""},
		{"unversioned provide cannot meet a versioned dep", []Repository{repo("main", pk("app-1-r0", "D:cmd:sh>=1"), pk("sh-1-r0", "p:cmd:sh"))},
			[]string{"app"}, "", "app-1-r0 -> cmd:sh>=1: only versions 1-r0 available"},
		{"provider_priority", []Repository{repo("main", pk("app-1-r0", "D:/bin/sh"),
			pk("busybox-1.36-r0", "p:/bin/sh", "k:100"), pk("dash-0.5-r0", "p:/bin/sh", "k:10"), pk("bash-5.2-r0", "p:/bin/sh"))},
			[]string{"app"}, "busybox-1.36-r0 app-1-r0", ""},
		{"real name beats virtual", []Repository{repo("main", pk("foo-1-r0"), pk("bar-9-r0", "p:foo=9", "k:900"))},
			[]string{"foo"}, "foo-1-r0", ""},
		{"world conflict picks another provider", []Repository{repo("main", pk("app-1-r0", "D:/bin/sh"),
			pk("busybox-1.36-r0", "p:/bin/sh", "k:100"), pk("dash-0.5-r0", "p:/bin/sh", "k:10"))},
			[]string{"app", "!busybox"}, "dash-0.5-r0 app-1-r0", ""},
		{"dependency conflict without way out", []Repository{repo("main", pk("a-1-r0", "D:!b"), pk("b-1-r0"))},
			[]string{"a", "b"}, "", "conflicts"},
		{"install_if met", []Repository{repo("main", pk("a-1-r0"), pk("docs-1-r0"), pk("a-doc-1-r0", "i:a", "i:docs"))},
			[]string{"a", "docs"}, "a-1-r0 docs-1-r0 a-doc-1-r0", ""},
		{"install_if not met", []Repository{repo("main", pk("a-1-r0"), pk("docs-1-r0"), pk("a-doc-1-r0", "i:a", "i:docs"))},
			[]string{"a"}, "a-1-r0", ""},
		{"install_if pulls its deps", []Repository{repo("main", pk("a-1-r0"), pk("x-1-r0", "i:a", "D:y"), pk("y-1-r0"))},
			[]string{"a"}, "a-1-r0 y-1-r0 x-1-r0", ""},
		{"pinned tag not eligible by default", []Repository{repo("main", pk("a-1-r0")), {Name: "edge", Tag: "edge", Arch: "x86_64", Packages: []*index.Package{pk("b-2-r0")}}},
			[]string{"a", "b"}, "", "b: pinned repositories only: b-2-r0 (only in @edge); ask for b@TAG"},
		{"pinned tag passes down to deps", []Repository{repo("main", pk("a-1-r0")), {Name: "edge", Tag: "edge", Arch: "x86_64", Packages: []*index.Package{pk("b-2-r0", "D:c"), pk("c-3-r0")}}},
			[]string{"a", "b@edge"}, "a-1-r0 c-3-r0 b-2-r0", ""},
		{"pinned newer not picked for untagged request", []Repository{repo("main", pk("a-1-r0")), {Name: "edge", Tag: "edge", Arch: "x86_64", Packages: []*index.Package{pk("a-2-r0")}}},
			[]string{"a"}, "a-1-r0", ""},
		{"backtrack to a lower version", []Repository{repo("main", pk("a-1-r0", "D:c"), pk("b-1-r0", "D:c<2"), pk("c-1-r0"), pk("c-2-r0"))},
			[]string{"a", "b"}, "c-1-r0 a-1-r0 b-1-r0", ""},
		{"unsatisfiable versions", []Repository{repo("main", pk("a-1-r0", "D:c>=2"), pk("b-1-r0", "D:c<2"), pk("c-1-r0"), pk("c-2-r0"))},
			[]string{"a", "b"}, "", "c"},
		{"cycle", []Repository{repo("main", pk("a-1-r0", "D:b"), pk("b-1-r0", "D:a"))},
			[]string{"a"}, "b-1-r0 a-1-r0", ""},
		{"missing so: explains the chain", []Repository{repo("main", pk("hello-2.12-r0", "D:so:libfoo.so.1"))},
			[]string{"hello"}, "", "hello-2.12-r0 -> so:libfoo.so.1: provided by nothing in [main]"},
		{"missing world package", []Repository{repo("main", pk("a-1-r0"))},
			[]string{"nope"}, "", "world: nope: provided by nothing in [main]"},
		{"checksum pin", []Repository{repo("main", pk("a-1-r0", "C:Q1one="), pk("a-2-r0", "C:Q1two="))},
			[]string{"a><Q1one="}, "a-1-r0", ""},
		{"unreadable dependency makes a package uninstallable", []Repository{repo("main", pk("a-1-r0", "D:b=>1"), pk("b-1-r0"))},
			[]string{"a"}, "", "uninstallable: a-1-r0"},
		{"other arch ignored, noarch kept", []Repository{repo("main", pk("a-2-r0", "A:aarch64"), pk("a-1-r0"), pk("n-1-r0", "A:noarch"))},
			[]string{"a", "n"}, "a-1-r0 n-1-r0", ""},
		{"same package once", []Repository{repo("main", pk("a-1-r0", "D:c"), pk("b-1-r0", "D:c"), pk("c-1-r0"))},
			[]string{"a", "b"}, "c-1-r0 a-1-r0 b-1-r0", ""},
		{"bad world constraint", []Repository{repo("main", pk("a-1-r0"))},
			[]string{"a>="}, "", `invalid dependency "a>="`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.repos)
			if err != nil {
				t.Fatal(err)
			}
			sol, err := r.Resolve(tt.world)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q (got %v)", err, tt.wantErr, sol)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(sol); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			checkClosure(t, r, sol)
		})
	}
}

// checkClosure asserts what apk guarantees of any solution: every
// dependency of every package is met inside the set, one version per
// name, dependencies installed first (outside cycles), no conflict met.
func checkClosure(t *testing.T, r *Resolver, sol *Solution) {
	t.Helper()
	pos := map[string]int{}
	for i, rp := range sol.Packages {
		if _, dup := pos[rp.Package.Name]; dup {
			t.Errorf("%s selected twice", rp.Package.Name)
		}
		pos[rp.Package.Name] = i
	}
	byPkg := map[*index.Package]*cand{}
	for _, c := range r.cands {
		byPkg[c.pkg] = c
	}
	for i, rp := range sol.Packages {
		c := byPkg[rp.Package]
		for _, d := range c.deps {
			met := false
			for _, other := range sol.Packages {
				if byPkg[other.Package].satisfies(d) {
					met = true
				}
			}
			if met == d.Conflict {
				t.Errorf("%s: dependency %s not honoured", c, d)
			}
		}
		for _, dep := range rp.Depends {
			if pos[dep.Package.Name] > i && !dependsOn(dep, rp.Package, map[*Resolved]bool{}) {
				t.Errorf("%s installed before its dependency %s", c, dep.Package.Name)
			}
		}
	}
}

// dependsOn reports whether from reaches target (a cycle).
func dependsOn(from *Resolved, target *index.Package, seen map[*Resolved]bool) bool {
	if seen[from] {
		return false
	}
	seen[from] = true
	for _, d := range from.Depends {
		if d.Package == target || dependsOn(d, target, seen) {
			return true
		}
	}
	return false
}

func TestResolveDependsGraph(t *testing.T) {
	r, _ := New([]Repository{repo("main", pk("app-1-r0", "D:so:libfoo.so.1", "D:busybox"), pk("libfoo-1-r0", "p:so:libfoo.so.1=1"), pk("busybox-1-r0"))})
	sol, err := r.Resolve([]string{"app"})
	if err != nil {
		t.Fatal(err)
	}
	app := sol.Packages[len(sol.Packages)-1]
	var deps []string
	for _, d := range app.Depends {
		deps = append(deps, d.Package.Name)
	}
	if app.Package.Name != "app" || strings.Join(deps, " ") != "libfoo busybox" || app.Repository.Name != "main" {
		t.Fatalf("app depends on %v (repo %s)", deps, app.Repository.Name)
	}
}

func TestResolveArchs(t *testing.T) {
	arm := func(pkgs ...*index.Package) Repository {
		for _, p := range pkgs {
			if p.Arch == "x86_64" {
				p.Arch = "aarch64"
			}
		}
		return Repository{Name: "main", Arch: "aarch64", Packages: pkgs}
	}
	tests := []struct {
		name    string
		x86     Repository
		arm     Repository
		world   []string
		want    string
		wantErr string
	}{
		{"newest common version", repo("main", pk("a-1-r0"), pk("a-2-r0")), arm(pk("a-1-r0")), []string{"a"}, "a-1-r0", ""},
		{"noarch counts everywhere", repo("main", pk("a-1-r0", "D:d"), pk("d-3-r0", "A:noarch")), arm(pk("a-1-r0", "D:d"), pk("d-3-r0", "A:noarch")), []string{"a"}, "d-3-r0 a-1-r0", ""},
		{"missing on one arch", repo("main", pk("a-1-r0"), pk("x-1-r0")), arm(pk("a-1-r0")), []string{"a", "x"}, "", "x: provided by nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sols, err := ResolveArchs(map[string][]Repository{"x86_64": {tt.x86}, "aarch64": {tt.arm}}, tt.world)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range []string{"x86_64", "aarch64"} {
				if got := names(sols[a]); got != tt.want {
					t.Errorf("%s: got %s want %s", a, got, tt.want)
				}
			}
		})
	}
}
