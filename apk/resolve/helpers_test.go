package resolve

import (
	"strconv"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/version"
)

// pk builds an index record from "name-version" and fields written as in
// an APKINDEX: "D:a b>=2", "p:so:libx.so.1=1 cmd:x", "i:a docs", "r:old",
// "k:100", "A:noarch", "C:Q1...", "o:origin".
func pk(nameVersion string, fields ...string) *index.Package {
	i := strings.LastIndex(nameVersion, "-")
	if j := strings.LastIndex(nameVersion[:i], "-"); j > 0 && strings.HasPrefix(nameVersion[i+1:], "r") {
		i = j
	}
	p := &index.Package{Name: nameVersion[:i], Version: nameVersion[i+1:], Arch: "x86_64"}
	for _, f := range fields {
		key, val := f[:2], f[2:]
		switch key {
		case "D:":
			p.Dependencies = strings.Fields(val)
		case "p:":
			p.Provides = strings.Fields(val)
		case "i:":
			p.InstallIf = strings.Fields(val)
		case "r:":
			p.Replaces = strings.Fields(val)
		case "k:":
			n, err := strconv.Atoi(val)
			if err != nil {
				panic(err)
			}
			p.ProviderPriority, p.HasProviderPrio = n, true
		case "A:":
			p.Arch = val
		case "o:":
			p.Origin = val
		case "C:":
			p.Checksum = val
		default:
			panic("pk: unknown field " + f)
		}
	}
	return p
}

func repo(name string, pkgs ...*index.Package) Repository {
	return Repository{Name: name, Arch: "x86_64", Packages: pkgs}
}

func tagged(name, tag string, pkgs ...*index.Package) Repository {
	return Repository{Name: name, Tag: tag, Arch: "x86_64", Packages: pkgs}
}

func repos(rs ...Repository) []Repository { return rs }

// order renders a solution as "a-1-r0 b-2-r0" in install order.
func order(s *Solution) string {
	out := make([]string, len(s.Packages))
	for i, p := range s.Packages {
		out[i] = p.Package.Name + "-" + p.Package.Version
	}
	return strings.Join(out, " ")
}

// offers reports whether package p meets dependency d, written from the
// index fields directly (not the resolver's tables): its own name with
// its version, a provide name=version, or an unversioned provide for an
// unversioned d; a checksum pin compares p's checksum.
func offers(t testing.TB, p *index.Package, d version.Dependency) bool {
	t.Helper()
	check := func(v string) bool {
		switch d.Op {
		case version.OpAny:
			return true
		case version.OpChecksum:
			return p.Checksum == d.Version
		}
		pv, err := version.Parse(v)
		if err != nil {
			return d.MatchesLoose(v)
		}
		return d.Matches(pv)
	}
	if p.Name == d.Name {
		return check(p.Version)
	}
	for _, tok := range p.Provides {
		name, ver, versioned := strings.Cut(tok, "=")
		if name != d.Name {
			continue
		}
		if !versioned {
			return d.Op == version.OpAny || (d.Op == version.OpChecksum && p.Checksum == d.Version)
		}
		return check(ver)
	}
	return false
}

// versionedNames lists the names p holds with a version: its own and its
// name=version provides.
func versionedNames(p *index.Package) []string {
	out := []string{p.Name}
	for _, tok := range p.Provides {
		if name, _, ok := strings.Cut(tok, "="); ok {
			out = append(out, name)
		}
	}
	return out
}

// checkSolution asserts what apk guarantees of any solution, from the
// index fields alone: the world is met and its conflicts respected;
// every D: of every package is met inside the set; no !conflict hits
// another selected package; no two packages hold one name with a version;
// Depends lists only packages meeting a D:; dependencies come first
// except around cycles.
func checkSolution(t testing.TB, world []string, sol *Solution) {
	t.Helper()
	var pkgs []*index.Package
	pos := map[*index.Package]int{}
	for i, rp := range sol.Packages {
		pkgs = append(pkgs, rp.Package)
		pos[rp.Package] = i
	}
	holder := map[string]string{}
	for _, p := range pkgs {
		for _, n := range versionedNames(p) {
			if h, dup := holder[n]; dup {
				t.Errorf("%s-%s and %s both hold %s", p.Name, p.Version, h, n)
			}
			holder[n] = p.Name + "-" + p.Version
		}
	}
	for _, p := range pkgs {
		for _, tok := range p.Provides {
			if !strings.Contains(tok, "=") && holder[tok] != "" {
				t.Errorf("%s-%s provides %s unversioned, but %s holds it with a version", p.Name, p.Version, tok, holder[tok])
			}
		}
	}
	metBy := func(d version.Dependency, self *index.Package) *index.Package {
		for _, q := range pkgs {
			if q != self && offers(t, q, d) {
				return q
			}
		}
		if self != nil && offers(t, self, d) {
			return self
		}
		return nil
	}
	for _, w := range world {
		d, err := version.ParseDependency(w)
		if err != nil {
			t.Fatal(err)
		}
		if got := metBy(d, nil); (got != nil) == d.Conflict {
			t.Errorf("world %s: met by %v", w, got)
		}
	}
	for i, rp := range sol.Packages {
		p := rp.Package
		for _, tok := range p.Dependencies {
			d, _, err := version.ParseDependencyLoose(tok)
			if err != nil {
				t.Errorf("%s: selected with unreadable dependency %q", p.Name, tok)
				continue
			}
			if d.Conflict {
				for _, q := range pkgs {
					if q != p && offers(t, q, d) {
						t.Errorf("%s-%s has %s but %s-%s is selected", p.Name, p.Version, tok, q.Name, q.Version)
					}
				}
				continue
			}
			if metBy(d, p) == nil {
				t.Errorf("%s-%s: dependency %s not met", p.Name, p.Version, tok)
			}
		}
		for _, dep := range rp.Depends {
			if !meetsSomeDep(t, p, dep.Package) {
				t.Errorf("%s lists %s in Depends, but no D: is met by it", p.Name, dep.Package.Name)
			}
			if pos[dep.Package] > i && !reaches(dep, p, map[*Resolved]bool{}) {
				t.Errorf("%s installed before its dependency %s", p.Name, dep.Package.Name)
			}
		}
	}
}

func meetsSomeDep(t testing.TB, p, q *index.Package) bool {
	for _, tok := range p.Dependencies {
		if d, _, err := version.ParseDependencyLoose(tok); err == nil && !d.Conflict && offers(t, q, d) {
			return true
		}
	}
	return false
}

// reaches reports whether target is reachable from from through Depends
// (so an out-of-order edge is part of a cycle).
func reaches(from *Resolved, target *index.Package, seen map[*Resolved]bool) bool {
	if seen[from] {
		return false
	}
	seen[from] = true
	for _, d := range from.Depends {
		if d.Package == target || reaches(d, target, seen) {
			return true
		}
	}
	return false
}
