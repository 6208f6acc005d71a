// Package resolve computes what apk would install for a world: the set of
// packages and their install order, from repositories and an architecture,
// with apk's semantics for provides, provider_priority, conflicts,
// install_if, pinned repository tags and versions.
package resolve

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/version"
)

// Repository is one repository's packages for one architecture.
type Repository struct {
	Name     string // URL or path, shown in errors
	Tag      string // "" untagged; else eligible only through name@tag or a pinned package's dependencies
	Arch     string
	Packages []*index.Package
}

// cand is one installable package with its parsed relations.
type cand struct {
	pkg      *index.Package
	repo     *Repository
	repoIdx  int
	ver      version.Version
	deps     []version.Dependency
	broken   []string // dependency tokens apk could not parse: unsatisfiable
	provides []provide
	iif      []version.Dependency
	prio     int
	order    int // position in the repositories, for stable tie-breaks
}

func (c *cand) String() string { return c.pkg.Name + "-" + c.pkg.Version }

// provide is one name a candidate satisfies (its own name included).
type provide struct {
	name   string
	ver    version.Version
	hasVer bool
}

// Resolver holds parsed tables for a set of repositories; build it once,
// resolve many worlds.
type Resolver struct {
	repos     []*Repository
	arch      string
	cands     []*cand
	providers map[string][]*cand // name → candidates providing it, best first
	byName    map[string][]*cand // package name → its versions, best first
	iifByCond map[string][]*cand // condition name → install_if candidates naming it
}

// New parses every package's relations and builds the provider tables.
// Packages for another architecture are left out.
func New(repos []Repository) (*Resolver, error) {
	n, nprov := 0, 0
	for i := range repos {
		n += len(repos[i].Packages)
		for _, p := range repos[i].Packages {
			nprov += len(p.Provides)
		}
	}
	r := &Resolver{providers: make(map[string][]*cand, n+nprov), byName: make(map[string][]*cand, n),
		iifByCond: map[string][]*cand{}, cands: make([]*cand, 0, n)}
	for i := range repos {
		repo := &repos[i]
		r.repos = append(r.repos, repo)
		if r.arch == "" {
			r.arch = repo.Arch
		} else if repo.Arch != "" && repo.Arch != r.arch {
			return nil, fmt.Errorf("repositories for %s and %s in one resolver", r.arch, repo.Arch)
		}
		for _, p := range repo.Packages {
			if repo.Arch != "" && p.Arch != "" && p.Arch != repo.Arch && p.Arch != "noarch" {
				continue
			}
			c, err := newCand(p, repo, i, len(r.cands))
			if err != nil {
				return nil, fmt.Errorf("repository %s: %w", repo.Name, err)
			}
			r.cands = append(r.cands, c)
			r.byName[p.Name] = append(r.byName[p.Name], c)
			for _, pr := range c.provides {
				r.providers[pr.name] = append(r.providers[pr.name], c)
			}
			for _, d := range c.iif {
				if !d.Conflict {
					r.iifByCond[d.Name] = append(r.iifByCond[d.Name], c)
				}
			}
		}
	}
	for name, cs := range r.providers {
		sortProviders(name, cs)
	}
	for name, cs := range r.byName {
		sortProviders(name, cs)
	}
	return r, nil
}

func newCand(p *index.Package, repo *Repository, repoIdx, order int) (*cand, error) {
	if p.Name == "" {
		return nil, fmt.Errorf("package without a name")
	}
	c := &cand{pkg: p, repo: repo, repoIdx: repoIdx, order: order, prio: p.ProviderPriority}
	// A malformed version stays the zero Version: apk keeps such packages
	// and compares their valid prefix (see cmpVersion, satisfies).
	c.ver, _ = version.Parse(p.Version)
	c.provides = append(c.provides, provide{name: p.Name, ver: c.ver, hasVer: true})
	for _, tok := range p.Dependencies {
		d, err := version.ParseDependency(tok)
		if err != nil {
			c.broken = append(c.broken, tok)
			continue
		}
		c.deps = append(c.deps, d)
	}
	for _, tok := range p.Provides {
		d, err := version.ParseDependency(tok)
		if err != nil || d.Conflict || (d.Op != version.OpAny && d.Op != version.OpEqual) {
			continue // apk ignores provides it cannot read
		}
		pr := provide{name: d.Name}
		if d.Op == version.OpEqual {
			if pv, err := d.Parsed(); err == nil {
				pr.ver, pr.hasVer = pv, true
			}
		}
		c.provides = append(c.provides, pr)
	}
	for _, tok := range p.InstallIf {
		d, err := version.ParseDependency(tok)
		if err != nil {
			// A condition apk cannot read is never met.
			c.iif = nil
			c.broken = append(c.broken, tok)
			break
		}
		c.iif = append(c.iif, d)
	}
	return c, nil
}

// satisfies reports whether c meets d through what it provides as d.Name
// (the version condition only; '!' is the caller's business).
func (c *cand) satisfies(d version.Dependency) bool {
	pr, ok := c.provided(d.Name)
	if !ok {
		return false
	}
	switch {
	case d.Op == version.OpAny:
		return true
	case d.Op == version.OpChecksum:
		return d.Name == c.pkg.Name && d.Version == c.pkg.Checksum
	case !pr.hasVer:
		return false // a versioned constraint needs a versioned provide
	case pr.ver.IsZero():
		s := c.pkg.Version
		if d.Name != c.pkg.Name {
			s = pr.ver.String()
		}
		return d.MatchesLoose(s)
	}
	return d.Matches(pr.ver)
}

// provided returns what c provides under name.
func (c *cand) provided(name string) (provide, bool) {
	for _, p := range c.provides {
		if p.name == name {
			return p, true
		}
	}
	return provide{}, false
}

// sortProviders orders the candidates for name best first: the package
// really named so, then higher provider_priority, then the higher
// provided version, then the higher package version, then repository
// order, then package name.
func sortProviders(name string, cs []*cand) {
	sort.SliceStable(cs, func(i, j int) bool { return better(name, cs[i], cs[j]) })
}

func better(name string, a, b *cand) bool {
	if (a.pkg.Name == name) != (b.pkg.Name == name) {
		return a.pkg.Name == name
	}
	if a.prio != b.prio {
		return a.prio > b.prio
	}
	pa, _ := a.provided(name)
	pb, _ := b.provided(name)
	if pa.hasVer && pb.hasVer {
		if r := cmpVersion(pa.ver, pb.ver, a, b, name); r != 0 {
			return r > 0
		}
	} else if pa.hasVer != pb.hasVer {
		return pa.hasVer
	}
	if r := cmpVersion(a.ver, b.ver, a, b, ""); r != 0 {
		return r > 0
	}
	if a.repoIdx != b.repoIdx {
		return a.repoIdx < b.repoIdx
	}
	if a.pkg.Name != b.pkg.Name {
		return a.pkg.Name < b.pkg.Name
	}
	return a.order < b.order
}

// cmpVersion compares two versions; malformed package versions (zero
// Version) fall back to apk's loose comparison of the strings.
func cmpVersion(x, y version.Version, a, b *cand, provName string) int {
	if !x.IsZero() && !y.IsZero() {
		return x.Compare(y)
	}
	xs, ys := a.pkg.Version, b.pkg.Version
	if provName != "" {
		pa, _ := a.provided(provName)
		pb, _ := b.provided(provName)
		xs, ys = pa.ver.String(), pb.ver.String()
	}
	return version.CompareLoose(xs, ys)
}

// repoNames lists repositories for errors.
func (r *Resolver) repoNames() string {
	names := make([]string, len(r.repos))
	for i, repo := range r.repos {
		names[i] = repo.Name
		if repo.Tag != "" {
			names[i] = "@" + repo.Tag + " " + repo.Name
		}
	}
	return "[" + strings.Join(names, " ") + "]"
}
