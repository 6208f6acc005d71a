package resolve

import "testing"

// TestResolveRanking has one case or more per rule of apko's ranking (see
// the package documentation), each built so that the rule named decides:
// the rules after it would choose the other candidate.
func TestResolveRanking(t *testing.T) {
	runResolveCases(t, []resolveCase{
		// Already selected: bash has the higher priority, busybox is in the world.
		{"already selected", repos(repo("main", pk("app-1-r0", "D:/bin/sh"),
			pk("busybox-1-r0", "p:/bin/sh"), pk("bash-1-r0", "p:/bin/sh", "k:100"))),
			[]string{"busybox", "app"}, "busybox-1-r0 app-1-r0", nil},
		// ... once apko has recorded it: lua52 holds lua (unversioned), but
		// apko walks lua-pl (text first) before lua52-fs brings lua52 in,
		// so it ranks lua's providers again and adds lua51 (k:100).
		{"an unversioned holder not recorded yet", repos(repo("main", pk("top-1-r0", "D:lua52-fs lua-pl"),
			pk("lua-pl-1-r0", "D:lua"), pk("lua52-fs-1-r0", "D:lua52"),
			pk("lua52-5.2-r0", "p:lua"), pk("lua51-5.1-r0", "p:lua", "k:100"))),
			[]string{"top"}, "lua52-5.2-r0 lua52-fs-1-r0 lua51-5.1-r0 lua-pl-1-r0 top-1-r0", nil},
		{"an unversioned holder recorded", repos(repo("main", pk("top-1-r0", "D:a-fs z-pl"),
			pk("z-pl-1-r0", "D:lua"), pk("a-fs-1-r0", "D:lua52"),
			pk("lua52-5.2-r0", "p:lua"), pk("lua51-5.1-r0", "p:lua", "k:100"))),
			[]string{"top"}, "lua52-5.2-r0 a-fs-1-r0 z-pl-1-r0 top-1-r0", nil},

		// Origin: base (origin o at 1) came in through a, whose dependencies
		// are walked before svc's, so net-o (o at 1) beats net-ng's priority.
		{"origin already selected at that version", repos(repo("main", pk("top-1-r0", "D:a svc"), pk("a-1-r0", "D:base"),
			pk("svc-1-r0", "D:net-any"), pk("base-1-r0", "o:o"),
			pk("net-ng-2-r0", "p:net-any", "k:900", "o:ng"), pk("net-o-1-r0", "p:net-any", "k:200", "o:o"))),
			[]string{"top"}, "base-1-r0 a-1-r0 net-o-1-r0 svc-1-r0 top-1-r0", nil},
		{"origin selected at another version does not count", repos(repo("main", pk("top-1-r0", "D:a svc"), pk("a-1-r0", "D:base"),
			pk("svc-1-r0", "D:net-any"), pk("base-2-r0", "o:o"),
			pk("net-ng-2-r0", "p:net-any", "k:900", "o:ng"), pk("net-o-1-r0", "p:net-any", "k:200", "o:o"))),
			[]string{"top"}, "base-2-r0 a-1-r0 net-ng-2-r0 svc-1-r0 top-1-r0", nil},
		// apko walks top's dependencies fewest candidates first, then by
		// text: svc before z, so base is not recorded yet (Alpine's aconf,
		// whose uwsgi brings busybox in after lua5.3-openrc's openrc).
		{"origin brought in by a sibling walked later does not count yet", repos(repo("main", pk("top-1-r0", "D:z svc"), pk("z-1-r0", "D:base"),
			pk("svc-1-r0", "D:net-any"), pk("base-1-r0", "o:o"),
			pk("net-ng-2-r0", "p:net-any", "k:900", "o:ng"), pk("net-o-1-r0", "p:net-any", "k:200", "o:o"))),
			[]string{"top"}, "base-1-r0 z-1-r0 net-ng-2-r0 svc-1-r0 top-1-r0", nil},
		// a-any has two candidates, svc one: svc is walked first.
		{"a sibling with more candidates is walked later", repos(repo("main", pk("top-1-r0", "D:a-any svc"),
			pk("a1-1-r0", "p:a-any", "D:base"), pk("a2-1-r0", "p:a-any", "D:base"),
			pk("svc-1-r0", "D:net-any"), pk("base-1-r0", "o:o"),
			pk("net-ng-2-r0", "p:net-any", "k:900", "o:ng"), pk("net-o-1-r0", "p:net-any", "k:200", "o:o"))),
			[]string{"top"}, "base-1-r0 a1-1-r0 net-ng-2-r0 svc-1-r0 top-1-r0", nil},
		// apko sorts the world and walks its entries in turn: a's packages
		// are all recorded before top's walk, zed's not yet.
		{"origin brought in by a world entry sorting earlier", repos(repo("main", pk("top-1-r0", "D:svc"), pk("a-1-r0", "D:base"),
			pk("svc-1-r0", "D:net-any"), pk("base-1-r0", "o:o"),
			pk("net-ng-2-r0", "p:net-any", "k:900", "o:ng"), pk("net-o-1-r0", "p:net-any", "k:200", "o:o"))),
			[]string{"top", "a"}, "net-o-1-r0 svc-1-r0 top-1-r0 base-1-r0 a-1-r0", nil},
		{"origin brought in by a world entry sorting later", repos(repo("main", pk("top-1-r0", "D:svc"), pk("zed-1-r0", "D:base"),
			pk("svc-1-r0", "D:net-any"), pk("base-1-r0", "o:o"),
			pk("net-ng-2-r0", "p:net-any", "k:900", "o:ng"), pk("net-o-1-r0", "p:net-any", "k:200", "o:o"))),
			[]string{"zed", "top"}, "base-1-r0 zed-1-r0 net-ng-2-r0 svc-1-r0 top-1-r0", nil},
		// base is svc's sibling and top's own dependency: apko records it
		// only once top's walk is over (Alpine's alpine-conf).
		{"origin brought in by the requirer's own requirer does not count yet", repos(repo("main", pk("top-1-r0", "D:base svc"),
			pk("svc-1-r0", "D:net-any"), pk("base-1-r0", "o:o"),
			pk("net-ng-2-r0", "p:net-any", "k:900", "o:ng"), pk("net-o-1-r0", "p:net-any", "k:200", "o:o"))),
			[]string{"top"}, "base-1-r0 net-ng-2-r0 svc-1-r0 top-1-r0", nil},
		{"origin of a world entry counts", repos(repo("main", pk("top-1-r0", "D:svc"), pk("base-1-r0", "o:o"),
			pk("svc-1-r0", "D:net-any"),
			pk("net-ng-2-r0", "p:net-any", "k:900", "o:ng"), pk("net-o-1-r0", "p:net-any", "k:200", "o:o"))),
			[]string{"base", "top"}, "base-1-r0 net-o-1-r0 svc-1-r0 top-1-r0", nil},
		{"no origin rule for world entries", repos(repo("main", pk("base-1-r0", "o:o"),
			pk("net-ng-2-r0", "p:net-any", "k:900", "o:ng"), pk("net-o-1-r0", "p:net-any", "k:200", "o:o"))),
			[]string{"base", "net-any"}, "base-1-r0 net-ng-2-r0", nil},
		// apko v1.2.39 never applies "same origin as the package that
		// depends on it": app's own origin counts only when the world asks
		// for app.
		{"the requirer's own origin, when the world asks for it", repos(repo("main", pk("app-1-r0", "D:plugin", "o:app"),
			pk("app-plugin-1-r0", "p:plugin", "o:app"), pk("zz-plugin-1-r0", "p:plugin", "k:10", "o:zz"))),
			[]string{"app"}, "app-plugin-1-r0 app-1-r0", nil},
		{"the requirer's own origin, when it is a dependency", repos(repo("main", pk("top-1-r0", "D:app"), pk("app-1-r0", "D:plugin", "o:app"),
			pk("app-plugin-1-r0", "p:plugin", "o:app"), pk("zz-plugin-1-r0", "p:plugin", "k:10", "o:zz"))),
			[]string{"top"}, "zz-plugin-1-r0 app-1-r0 top-1-r0", nil},
		// nor "same repository as the package that depends on it".
		{"the requirer's repository does not decide", repos(repo("one", pk("x-a-1-r0", "p:v")),
			repo("two", pk("app-1-r0", "D:v"), pk("x-b-1-r0", "p:v"))),
			[]string{"app"}, "x-a-1-r0 app-1-r0", nil},

		// Pin: the preferred repository before a higher version.
		{"pinned repository before the higher version", repos(repo("main", pk("a-3-r0")), tagged("edge", "edge", pk("a-2-r0"))),
			[]string{"a@edge"}, "a-2-r0", nil},
		// ... and the origin rule before the pin: dependencies prefer
		// untagged repositories, unless a tagged candidate's origin is selected.
		{"origin before the pin", repos(repo("main", pk("net-ng-2-r0", "p:net-any", "k:900")),
			tagged("edge", "edge", pk("top-1-r0", "D:a svc"), pk("a-1-r0", "D:base"), pk("svc-1-r0", "D:net-any"),
				pk("base-1-r0", "o:o"), pk("net-o-1-r0", "p:net-any", "o:o"))),
			[]string{"top@edge"}, "base-1-r0 a-1-r0 net-o-1-r0 svc-1-r0 top-1-r0", nil},

		// Higher version under the requested name, over priority.
		{"higher provided version before priority", repos(repo("main", pk("app-1-r0", "D:so:x.so.1"),
			pk("a-1-r0", "p:so:x.so.1=2-r0"), pk("b-9-r0", "p:so:x.so.1=1-r0", "k:50"))),
			[]string{"app"}, "a-1-r0 app-1-r0", nil},
		// 2.0 > 1.2.3-r0, but apko ranks the so: version without a release as 0.2.0.
		{"a so: version without a release ranks as 0.VERSION", repos(repo("main", pk("app-1-r0", "D:so:libfoo.so.1"),
			pk("libfoo-1.2.3-r0", "p:so:libfoo.so.1=1.2.3-r0"), pk("libfoo-compat-2.0-r0", "p:so:libfoo.so.1=2.0"))),
			[]string{"app"}, "libfoo-1.2.3-r0 app-1-r0", nil},
		{"so: versions without a release compare among themselves", repos(repo("main", pk("app-1-r0", "D:so:libfoo.so.1"),
			pk("libfoo-9-r0", "p:so:libfoo.so.1=1.5"), pk("libfoo2-1-r0", "p:so:libfoo.so.1=2.1"))),
			[]string{"app"}, "libfoo2-1-r0 app-1-r0", nil},
		// An unversioned provide ties with any version: priority decides.
		{"an unversioned provide ties with a versioned one", repos(repo("main", pk("app-1-r0", "D:foo"),
			pk("foo-2-r0"), pk("bar-1-r0", "p:foo", "k:5"))),
			[]string{"app"}, "bar-1-r0 app-1-r0", nil},

		// Between two versions of one package providing the same version
		// of the name: the higher package version, though the older has the
		// higher priority.
		{"higher version of one package before priority", repos(repo("main", pk("app-1-r0", "D:v"),
			pk("x-1-r0", "p:v=1", "k:5"), pk("x-2-r0", "p:v=1"))),
			[]string{"app"}, "x-2-r0 app-1-r0", nil},
		// A list whose pairwise order is not transitive: x-2 beats x-1
		// (rule 5), x-1 beats y-1 and y-1 beats x-2 (priority). apko keeps
		// the first candidate it scans until a later one beats it; kiln
		// scans as apko does, x's versions then y: x-2, then y-1.
		{"an intransitive list", repos(repo("main", pk("app-1-r0", "D:v"),
			pk("x-2-r0", "p:v=1"), pk("x-1-r0", "p:v=1", "k:10"), pk("y-1-r0", "p:v=1", "k:5"))),
			[]string{"app"}, "y-1-r0 app-1-r0", nil},

		// Priority, when the versions under the name tie.
		{"priority between equal provided versions", repos(repo("main", pk("app-1-r0", "D:v"),
			pk("a-1-r0", "p:v=1"), pk("b-1-r0", "p:v=1", "k:5"))),
			[]string{"app"}, "b-1-r0 app-1-r0", nil},

		// Package version, whatever the names, before the name.
		{"higher package version before the name", repos(repo("main", pk("app-1-r0", "D:/bin/sh"),
			pk("ash-1-r0", "p:/bin/sh"), pk("zsh-2-r0", "p:/bin/sh"))),
			[]string{"app"}, "zsh-2-r0 app-1-r0", nil},

		// Name last: gvim provides vim unversioned, at vim's version.
		{"name breaks the last tie", repos(repo("main", pk("vim-8.2-r0"), pk("gvim-8.2-r0", "p:vim"))),
			[]string{"vim"}, "gvim-8.2-r0", nil},
	})
}
