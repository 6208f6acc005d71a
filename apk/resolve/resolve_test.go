package resolve

import (
	"fmt"
	"strings"
	"testing"
)

type resolveCase struct {
	name    string
	repos   []Repository
	world   []string
	want    string   // install order
	wantErr []string // substrings of the error
}

func runResolveCases(t *testing.T, cases []resolveCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.repos)
			if err != nil {
				t.Fatal(err)
			}
			sol, err := r.Resolve(tt.world)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("resolved %q, want an error containing %q", order(sol), tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q\ndoes not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := order(sol); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			checkSolution(t, tt.world, sol)
		})
	}
}

func TestResolveBasics(t *testing.T) {
	runResolveCases(t, []resolveCase{
		{"dependencies first", repos(repo("main", pk("a-1.0-r0", "D:b"), pk("b-1.0-r0", "D:c"), pk("c-1.0-r0"))),
			[]string{"a"}, "c-1.0-r0 b-1.0-r0 a-1.0-r0", nil},
		{"highest version", repos(repo("main", pk("a-1.0-r0"), pk("a-1.10-r0"), pk("a-1.9-r3"))),
			[]string{"a"}, "a-1.10-r0", nil},
		{"world version constraint", repos(repo("main", pk("a-1.0-r0"), pk("a-2.0-r0"))),
			[]string{"a<2"}, "a-1.0-r0", nil},
		{"fuzzy constraint", repos(repo("main", pk("go-1.21.5-r0"), pk("go-1.22.1-r0"))),
			[]string{"go~1.21"}, "go-1.21.5-r0", nil},
		{"checksum pin", repos(repo("main", pk("a-1-r0", "C:Q1b25lb25lb25l"), pk("a-2-r0", "C:Q1dHdvdHdvdHdv"))),
			[]string{"a><Q1b25lb25lb25l"}, "a-1-r0", nil},
		{"same name twice in the world", repos(repo("main", pk("a-1-r0"), pk("a-2-r0"))),
			[]string{"a", "a<2"}, "a-1-r0", nil},
		{"shared dependency once", repos(repo("main", pk("a-1-r0", "D:c"), pk("b-1-r0", "D:c"), pk("c-1-r0"))),
			[]string{"a", "b"}, "c-1-r0 a-1-r0 b-1-r0", nil},
		{"cycle broken deterministically", repos(repo("main", pk("a-1-r0", "D:b"), pk("b-1-r0", "D:a"))),
			[]string{"a"}, "b-1-r0 a-1-r0", nil},
		{"other architectures left out, noarch kept", repos(repo("main", pk("a-2-r0", "A:aarch64"), pk("a-1-r0"), pk("n-1-r0", "A:noarch"))),
			[]string{"a", "n"}, "a-1-r0 n-1-r0", nil},
		{"malformed package version kept", repos(repo("main", pk("a-1.0_foo-r0"))),
			[]string{"a"}, "a-1.0_foo-r0", nil},
		{"world of conflicts only", repos(repo("main", pk("a-1-r0"))),
			[]string{"!a", "!nothing"}, "", nil},
	})
}

func TestResolveProviders(t *testing.T) {
	runResolveCases(t, []resolveCase{
		{"so: provide", repos(repo("main", pk("app-1-r0", "D:so:libfoo.so.1"), pk("libfoo-1.2-r0", "p:so:libfoo.so.1=1.2.0"))),
			[]string{"app"}, "libfoo-1.2-r0 app-1-r0", nil},
		{"constraint checked against the provided version", repos(repo("main", pk("app-1-r0", "D:so:libfoo.so.1>=2"),
			pk("libfoo-9-r0", "p:so:libfoo.so.1=1.5"), pk("libfoo2-1-r0", "p:so:libfoo.so.1=2.1"))),
			[]string{"app"}, "libfoo2-1-r0 app-1-r0", nil},
		{"lower provided version when a constraint says so", repos(repo("main", pk("app-1-r0", "D:so:libfoo.so.1<2"),
			pk("libfoo-9-r0", "p:so:libfoo.so.1=1.5"), pk("libfoo2-1-r0", "p:so:libfoo.so.1=2.1"))),
			[]string{"app"}, "libfoo-9-r0 app-1-r0", nil},
		{"highest provided version, not highest package version", repos(repo("main", pk("app-1-r0", "D:so:libfoo.so.1"),
			pk("libfoo-9-r0", "p:so:libfoo.so.1=1.5"), pk("libfoo2-1-r0", "p:so:libfoo.so.1=2.1"))),
			[]string{"app"}, "libfoo2-1-r0 app-1-r0", nil},
		{"cmd: and pc: virtuals", repos(repo("main", pk("app-1-r0", "D:cmd:sh pc:zlib>=1.2"),
			pk("busybox-1.36-r0", "p:cmd:sh=1.36-r0"), pk("zlib-dev-1.2.13-r0", "p:pc:zlib=1.2.13"))),
			[]string{"app"}, "busybox-1.36-r0 zlib-dev-1.2.13-r0 app-1-r0", nil},
		{"provider_priority among unversioned provides", repos(repo("main", pk("app-1-r0", "D:/bin/sh"),
			pk("busybox-1.36-r0", "p:/bin/sh", "k:100"), pk("dash-0.5-r0", "p:/bin/sh", "k:10"), pk("bash-5.2-r0", "p:/bin/sh"))),
			[]string{"app"}, "busybox-1.36-r0 app-1-r0", nil},
		{"name breaks a remaining tie", repos(repo("main", pk("app-1-r0", "D:/bin/sh"), pk("zsh-1-r0", "p:/bin/sh"), pk("ash-1-r0", "p:/bin/sh"))),
			[]string{"app"}, "ash-1-r0 app-1-r0", nil},
		{"provider_priority breaks a tie of provided versions", repos(repo("main", pk("app-1-r0", "D:so:x.so.1"),
			pk("a-1-r0", "p:so:x.so.1=1"), pk("b-1-r0", "p:so:x.so.1=1", "k:5"))),
			[]string{"app"}, "b-1-r0 app-1-r0", nil},
		{"provided version before provider_priority", repos(repo("main", pk("app-1-r0", "D:so:x.so.1"),
			pk("a-1-r0", "p:so:x.so.1=2"), pk("b-1-r0", "p:so:x.so.1=1", "k:50"))),
			[]string{"app"}, "a-1-r0 app-1-r0", nil},
		{"an unversioned provide of higher priority beats the real package", repos(repo("main", pk("foo-1-r0"), pk("bar-9-r0", "p:foo", "k:900"))),
			[]string{"foo"}, "bar-9-r0", nil},
		{"priority, not the real name, decides between equal versions", repos(repo("main",
			pk("dnsmasq-dnssec-2.86-r3", "p:dnsmasq=2.86-r3", "k:10"), pk("dnsmasq-2.86-r3"))),
			[]string{"dnsmasq"}, "dnsmasq-dnssec-2.86-r3", nil},
		{"newer provided version beats an older real package", repos(repo("main", pk("go-1.20.1-r0"), pk("go-1.22-1.22.1-r0", "p:go=1.22.1-r0"))),
			[]string{"go"}, "go-1.22-1.22.1-r0", nil},
		{"versioned constraint on the real package's name", repos(repo("main", pk("go-1.20.1-r0"), pk("go-1.22-1.22.1-r0", "p:go=1.22.1-r0"))),
			[]string{"go<1.21"}, "go-1.20.1-r0", nil},
		{"unversioned provides are shared", repos(repo("main", pk("busybox-1-r0", "p:/bin/sh"), pk("dash-1-r0", "p:/bin/sh"))),
			[]string{"busybox", "dash"}, "busybox-1-r0 dash-1-r0", nil},
		{"a dependency met by an already selected provider", repos(repo("main", pk("app-1-r0", "D:/bin/sh"),
			pk("busybox-1-r0", "p:/bin/sh"), pk("bash-1-r0", "p:/bin/sh", "k:100"))),
			[]string{"busybox", "app"}, "busybox-1-r0 app-1-r0", nil},
		{"unversioned provide does not meet a versioned dependency", repos(repo("main", pk("app-1-r0", "D:cmd:sh>=1"), pk("sh-1-r0", "p:cmd:sh"))),
			[]string{"app"}, "", []string{"world: app: app-1-r0 -> cmd:sh>=1: only versions unversioned (sh-1-r0) available in [main]"}},
		{"two packages cannot hold one provided name", repos(repo("main",
			pk("libfoo-1-r0", "p:so:libfoo.so.1=1"), pk("libfoo-compat-1-r0", "p:so:libfoo.so.1=1"))),
			[]string{"libfoo", "libfoo-compat"}, "", []string{"libfoo-1-r0", "libfoo-compat-1-r0", "would take so:libfoo.so.1"}},
		{"replaces does not let two packages hold one name", repos(repo("main",
			pk("libfoo-1-r0", "p:so:libfoo.so.1=1"), pk("libfoo-compat-1-r0", "p:so:libfoo.so.1=1", "r:libfoo"))),
			[]string{"libfoo", "libfoo-compat"}, "", []string{"would take so:libfoo.so.1"}},
		{"a versioned and an unversioned provide of one name clash", repos(repo("main", pk("a-1-r0", "p:foo=1"), pk("b-1-r0", "p:foo"))),
			[]string{"a", "b"}, "", []string{"foo"}},
		{"two versions of one package never together", repos(repo("main", pk("a-1-r0", "D:c=1-r0"), pk("b-1-r0", "D:c=2-r0"), pk("c-1-r0"), pk("c-2-r0"))),
			[]string{"a", "b"}, "", []string{"a-1-r0 -> c=1-r0", "b-1-r0 -> c=2-r0"}},
		{"an exact version needs the release", repos(repo("main", pk("a-1-r0", "D:c=1"), pk("c-1-r0"))),
			[]string{"a"}, "", []string{"a-1-r0 -> c=1: only versions 1-r0 available in [main]"}},
	})
}

func TestResolveConflicts(t *testing.T) {
	runResolveCases(t, []resolveCase{
		{"world conflict picks another provider", repos(repo("main", pk("app-1-r0", "D:/bin/sh"),
			pk("busybox-1.36-r0", "p:/bin/sh", "k:100"), pk("dash-0.5-r0", "p:/bin/sh", "k:10"))),
			[]string{"app", "!busybox"}, "dash-0.5-r0 app-1-r0", nil},
		{"versioned world conflict picks an older version", repos(repo("main", pk("b-1-r0", "D:c"), pk("c-1-r0"), pk("c-2-r0"))),
			[]string{"b", "!c>=2"}, "c-1-r0 b-1-r0", nil},
		{"world conflict against a required package", repos(repo("main", pk("b-1-r0", "D:c"), pk("c-1-r0"))),
			[]string{"b", "!c"}, "", []string{"world: b: b-1-r0 -> c: c-1-r0 is forbidden by world: !c"}},
		{"dependency conflict between world entries names both", repos(repo("main", pk("a-1-r0", "D:!b"), pk("b-1-r0"))),
			[]string{"a", "b"}, "", []string{"world: b needs b-1-r0", "forbidden by a-1-r0 -> !b"}},
		{"older version without the conflict", repos(repo("main", pk("a-2-r0", "D:!b"), pk("a-1-r0"), pk("b-1-r0"))),
			[]string{"a", "b"}, "a-1-r0 b-1-r0", nil},
		{"older version without the conflict, other world order", repos(repo("main", pk("a-2-r0", "D:!b"), pk("a-1-r0"), pk("b-1-r0"))),
			[]string{"b", "a"}, "b-1-r0 a-1-r0", nil},
		{"conflict with a provided name", repos(repo("main", pk("app-1-r0", "D:/bin/sh !cmd:bash"),
			pk("bash-5-r0", "p:/bin/sh cmd:bash=5-r0", "k:100"), pk("busybox-1-r0", "p:/bin/sh"))),
			[]string{"app"}, "busybox-1-r0 app-1-r0", nil},
		{"a conflict with oneself is ignored", repos(repo("main", pk("a-1-r0", "p:x=1", "D:!x"))),
			[]string{"a"}, "a-1-r0", nil},
		{"mutual conflict of alternatives", repos(repo("main", pk("ssh-1-r0", "D:client"),
			pk("client-default-1-r0", "p:client=1", "k:1", "D:!client-krb5"), pk("client-krb5-1-r0", "p:client=1", "D:!client-default"))),
			[]string{"ssh"}, "client-default-1-r0 ssh-1-r0", nil},
		{"mutual conflict of alternatives, the other asked for", repos(repo("main", pk("ssh-1-r0", "D:client"),
			pk("client-default-1-r0", "p:client=1", "k:1", "D:!client-krb5"), pk("client-krb5-1-r0", "p:client=1", "D:!client-default"))),
			[]string{"client-krb5", "ssh"}, "client-krb5-1-r0 ssh-1-r0", nil},
	})
}

func TestResolveInstallIf(t *testing.T) {
	runResolveCases(t, []resolveCase{
		{"all conditions met", repos(repo("main", pk("a-1-r0"), pk("docs-1-r0"), pk("a-doc-1-r0", "i:a docs"))),
			[]string{"a", "docs"}, "a-1-r0 docs-1-r0 a-doc-1-r0", nil},
		{"a condition unmet", repos(repo("main", pk("a-1-r0"), pk("docs-1-r0"), pk("a-doc-1-r0", "i:a docs"))),
			[]string{"a"}, "a-1-r0", nil},
		{"pulls its dependencies", repos(repo("main", pk("a-1-r0"), pk("x-1-r0", "i:a", "D:y"), pk("y-1-r0"))),
			[]string{"a"}, "a-1-r0 y-1-r0 x-1-r0", nil},
		{"triggers chain to a fixpoint", repos(repo("main", pk("a-1-r0"), pk("x-1-r0", "i:a"), pk("z-1-r0", "i:x"))),
			[]string{"a"}, "a-1-r0 x-1-r0 z-1-r0", nil},
		{"the version whose trigger holds", repos(repo("main", pk("busybox-1.35-r17"), pk("busybox-1.36-r0"),
			pk("ssl_client-1.35-r17", "i:busybox=1.35-r17"), pk("ssl_client-1.36-r0", "i:busybox=1.36-r0"))),
			[]string{"busybox<1.36"}, "busybox-1.35-r17 ssl_client-1.35-r17", nil},
		{"negative condition holds", repos(repo("main", pk("a-1-r0"), pk("b-1-r0"), pk("x-1-r0", "i:a !b"))),
			[]string{"a"}, "a-1-r0 x-1-r0", nil},
		{"negative condition fails", repos(repo("main", pk("a-1-r0"), pk("b-1-r0"), pk("x-1-r0", "i:a !b"))),
			[]string{"a", "b"}, "a-1-r0 b-1-r0", nil},
		{"negative condition broken by a later addition", repos(repo("main", pk("a-1-r0"), pk("b-1-r0"), pk("x-1-r0", "i:a !b"), pk("y-1-r0", "i:a", "D:b"))),
			[]string{"a"}, "a-1-r0 b-1-r0 y-1-r0", nil},
		{"condition on a provided version", repos(repo("main", pk("lib-2-r0", "p:so:l.so.1=2"), pk("plug-1-r0", "i:so:l.so.1>=2"))),
			[]string{"lib"}, "lib-2-r0 plug-1-r0", nil},
		{"not added when the world forbids it", repos(repo("main", pk("a-1-r0"), pk("x-1-r0", "i:a"))),
			[]string{"a", "!x"}, "a-1-r0", nil},
		{"left out when its dependencies cannot be met", repos(repo("main", pk("a-1-r0", "D:c"), pk("c-1-r0"), pk("c-2-r0"), pk("x-1-r0", "i:a", "D:c=2"))),
			[]string{"a", "c<2"}, "c-1-r0 a-1-r0", nil},
		{"pinned one needs a pinned trigger", repos(repo("main", pk("a-1-r0"), pk("b-1-r0")), tagged("edge", "edge", pk("b-doc-1-r0", "i:b"))),
			[]string{"a", "b"}, "a-1-r0 b-1-r0", nil},
		{"pinned one with a pinned trigger", repos(repo("main", pk("a-1-r0")), tagged("edge", "edge", pk("b-1-r0"), pk("b-doc-1-r0", "i:b"))),
			[]string{"a", "b@edge"}, "a-1-r0 b-1-r0 b-doc-1-r0", nil},
	})
}

func TestResolveTags(t *testing.T) {
	runResolveCases(t, []resolveCase{
		{"pinned repository not used by default", repos(repo("main", pk("a-1-r0")), tagged("edge", "edge", pk("b-2-r0"))),
			[]string{"a", "b"}, "", []string{"world: b: only in pinned repositories: b-2-r0 (@edge); ask for b@TAG"}},
		{"name@tag", repos(repo("main", pk("a-1-r0")), tagged("edge", "edge", pk("b-2-r0"))),
			[]string{"a", "b@edge"}, "a-1-r0 b-2-r0", nil},
		{"pinning passes to dependencies", repos(repo("main", pk("a-1-r0")), tagged("edge", "edge", pk("b-2-r0", "D:c"), pk("c-3-r0"))),
			[]string{"b@edge"}, "c-3-r0 b-2-r0", nil},
		{"pinning passes down several levels", repos(repo("main"), tagged("edge", "edge", pk("b-2-r0", "D:c"), pk("c-3-r0", "D:d"), pk("d-1-r0"))),
			[]string{"b@edge"}, "d-1-r0 c-3-r0 b-2-r0", nil},
		{"dependencies of a pinned package prefer untagged repositories", repos(repo("main", pk("c-1-r0")), tagged("edge", "edge", pk("b-2-r0", "D:c"), pk("c-3-r0"))),
			[]string{"b@edge"}, "c-1-r0 b-2-r0", nil},
		{"... unless a constraint needs the pinned version", repos(repo("main", pk("c-1-r0")), tagged("edge", "edge", pk("b-2-r0", "D:c>=3"), pk("c-3-r0"))),
			[]string{"b@edge"}, "c-3-r0 b-2-r0", nil},
		{"untagged request ignores a newer pinned version", repos(repo("main", pk("a-1-r0")), tagged("edge", "edge", pk("a-2-r0"))),
			[]string{"a"}, "a-1-r0", nil},
		{"name@tag prefers its repository over a newer untagged version", repos(repo("main", pk("a-3-r0")), tagged("edge", "edge", pk("a-2-r0"))),
			[]string{"a@edge"}, "a-2-r0", nil},
		{"name@tag falls back to untagged repositories", repos(repo("main", pk("a-1-r0")), tagged("edge", "edge", pk("z-1-r0"))),
			[]string{"a@edge"}, "a-1-r0", nil},
		{"pinning reaches a package selected earlier", repos(repo("main", pk("a-1-r0", "D:c")), tagged("edge", "edge", pk("b-1-r0", "D:c"), pk("c-1-r0", "D:d"), pk("d-1-r0"))),
			[]string{"b@edge", "a"}, "d-1-r0 c-1-r0 b-1-r0 a-1-r0", nil},
		{"unknown tag", repos(repo("main", pk("a-1-r0")), tagged("edge", "edge", pk("b-1-r0"))),
			[]string{"a@nope"}, "", []string{`world: "a@nope": no repository is tagged @nope in [main @edge edge]`}},
	})
}

func TestResolveBacktracking(t *testing.T) {
	runResolveCases(t, []resolveCase{
		{"constraints collected before choosing", repos(repo("main", pk("a-1-r0", "D:c"), pk("b-1-r0", "D:c<2"), pk("c-1-r0"), pk("c-2-r0"))),
			[]string{"a", "b"}, "c-1-r0 a-1-r0 b-1-r0", nil},
		{"a constraint found deeper changes an earlier choice", repos(repo("main", pk("p-1-r0", "D:c"), pk("q-1-r0", "D:s"),
			pk("s-1-r0", "D:t"), pk("t-1-r0", "D:c<2"), pk("c-1-r0"), pk("c-2-r0"))),
			[]string{"p", "q"}, "c-1-r0 p-1-r0 t-1-r0 s-1-r0 q-1-r0", nil},
		{"a lower version of a requirer", repos(repo("main", pk("a-1-r0", "D:c=1-r0"), pk("b-2-r0", "D:c=2-r0"), pk("b-1-r0", "D:c~1"), pk("c-1-r0"), pk("c-2-r0"))),
			[]string{"a", "b"}, "c-1-r0 a-1-r0 b-1-r0", nil},
		{"skip a candidate whose dependency a selected package cannot meet", repos(repo("main", pk("c-1-r0"), pk("c-2-r0"), pk("b-2-r0", "D:c<2"), pk("b-1-r0", "D:c"))),
			[]string{"c", "b"}, "c-2-r0 b-1-r0", nil},
		{"a lower version of a provider", repos(repo("main", pk("app-1-r0", "D:so:libfoo.so.1 lib2"),
			pk("libfoo-2-r0", "p:so:libfoo.so.1=2"), pk("libfoo-1-r0", "p:so:libfoo.so.1=1"), pk("lib2-1-r0", "D:libfoo<2"))),
			[]string{"app"}, "libfoo-1-r0 lib2-1-r0 app-1-r0", nil},
		{"unsatisfiable versions name both sides", repos(repo("main", pk("a-1-r0", "D:c>=2"), pk("b-1-r0", "D:c<2"), pk("c-1-r0"), pk("c-2-r0"))),
			[]string{"a", "b"}, "", []string{"a-1-r0 -> c>=2", "b-1-r0 -> c<2"}},
	})
}

func TestResolveErrors(t *testing.T) {
	runResolveCases(t, []resolveCase{
		{"missing so: explains the chain", repos(repo("repoA", pk("hello-2.12-r0", "D:so:libfoo.so.1")), repo("repoB", pk("other-1-r0"))),
			[]string{"hello"}, "", []string{"hello-2.12-r0 -> so:libfoo.so.1: provided by nothing in [repoA repoB]"}},
		{"missing so: two levels down", repos(repo("main", pk("app-1-r0", "D:lib"), pk("lib-1-r0", "D:so:libfoo.so.1"))),
			[]string{"app"}, "", []string{"world: app: app-1-r0 -> lib: lib-1-r0 -> so:libfoo.so.1: provided by nothing in [main]"}},
		{"missing world package", repos(repo("main", pk("a-1-r0"))),
			[]string{"nope"}, "", []string{"world: nope: provided by nothing in [main]"}},
		{"world version not available", repos(repo("main", pk("foo-1.0-r0"))),
			[]string{"foo>=2"}, "", []string{"world: foo>=2: only versions 1.0-r0 available in [main]"}},
		{"dependency version not available", repos(repo("main", pk("app-1-r0", "D:foo>=2"), pk("foo-1.0-r0"), pk("foo-1.5-r0"))),
			[]string{"app"}, "", []string{"app-1-r0 -> foo>=2: only versions 1.5-r0, 1.0-r0 available in [main]"}},
		{"unreadable dependency", repos(repo("main", pk("a-1-r0", "D:b=>1"), pk("b-1-r0"))),
			[]string{"a"}, "", []string{`a-1-r0: unreadable dependency "b=>1"`}},
		{"bad world entry", repos(repo("main", pk("a-1-r0"))),
			[]string{"a>="}, "", []string{`world: invalid dependency "a>="`}},
	})
}

func TestResolveDependsGraph(t *testing.T) {
	r, err := New(repos(repo("main", pk("app-1-r0", "D:so:libfoo.so.1 busybox libfoo !nothing"),
		pk("libfoo-1-r0", "p:so:libfoo.so.1=1"), pk("busybox-1-r0"))))
	if err != nil {
		t.Fatal(err)
	}
	sol, err := r.Resolve([]string{"app"})
	if err != nil {
		t.Fatal(err)
	}
	app := sol.Packages[len(sol.Packages)-1]
	var deps []string
	for _, d := range app.Depends {
		deps = append(deps, d.Package.Name)
	}
	// so:libfoo.so.1 and libfoo are met by one package: listed once.
	if app.Package.Name != "app" || strings.Join(deps, " ") != "libfoo busybox" {
		t.Fatalf("app depends on %v", deps)
	}
	for _, rp := range sol.Packages {
		if rp.Repository == nil || rp.Repository.Name != "main" {
			t.Errorf("%s: repository %v", rp.Package.Name, rp.Repository)
		}
		if rp.Package.Name != "app" && rp.Depends != nil {
			t.Errorf("%s: depends on %v", rp.Package.Name, rp.Depends)
		}
	}
}

func TestResolveRepositoryOrder(t *testing.T) {
	for _, first := range []string{"one", "two"} {
		second := map[string]string{"one": "two", "two": "one"}[first]
		r, err := New(repos(repo(first, pk("a-1-r0", "D:b")), repo(second, pk("a-1-r0", "D:b"), pk("b-1-r0"))))
		if err != nil {
			t.Fatal(err)
		}
		sol, err := r.Resolve([]string{"a"})
		if err != nil {
			t.Fatal(err)
		}
		if got := sol.Packages[1].Repository.Name; sol.Packages[1].Package.Name != "a" || got != first {
			t.Errorf("a taken from %s, want %s", got, first)
		}
	}
}

func TestNewRejects(t *testing.T) {
	cases := []struct {
		name  string
		repos []Repository
		want  string
	}{
		{"mixed architectures", []Repository{repo("x", pk("a-1-r0")), {Name: "y", Arch: "aarch64"}}, "repositories for x86_64 and aarch64"},
		{"nameless package", []Repository{repo("x", &nameless)}, "repository x: package #0 has no name"},
	}
	for _, tt := range cases {
		if _, err := New(tt.repos); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

var nameless = *pk("x-1-r0")

func init() { nameless.Name = "" }

// TestResolverReuse: a Resolver serves many resolves, concurrently, and
// what one resolve learns (exclusions, hints) never leaks into the next.
func TestResolverReuse(t *testing.T) {
	r, err := New(repos(repo("main", pk("a-2-r0", "D:!b"), pk("a-1-r0"), pk("b-1-r0"),
		pk("c-1-r0", "D:d<2"), pk("d-1-r0"), pk("d-2-r0"), pk("e-1-r0", "D:d"))))
	if err != nil {
		t.Fatal(err)
	}
	worlds := [][]string{{"a", "b"}, {"a"}, {"e", "c"}, {"e"}, {"nope"}, {"a", "!a"}}
	want := make([]string, len(worlds))
	for i, w := range worlds {
		sol, err := r.Resolve(w)
		if err != nil {
			want[i] = "error: " + err.Error()
		} else {
			want[i] = order(sol)
		}
	}
	// Backtracking in the first world must not have ruled out a-2 for the
	// second, nor the hint on d made e alone take d-1.
	if want[1] != "a-2-r0" || want[3] != "d-2-r0 e-1-r0" || want[2] != "d-1-r0 e-1-r0 c-1-r0" {
		t.Errorf("got %q", want)
	}
	if want[5] != "error: world: a: a-2-r0 is forbidden by world: !a; a-1-r0 is forbidden by world: !a" {
		t.Errorf("world a !a: %s", want[5])
	}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			for n := 0; n < 200; n++ {
				i := (n + g) % len(worlds)
				sol, err := r.Resolve(worlds[i])
				got := ""
				if err != nil {
					got = "error: " + err.Error()
				} else {
					got = order(sol)
				}
				if got != want[i] {
					done <- fmt.Errorf("world %v: got %q, want %q", worlds[i], got, want[i])
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
