package resolve

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/version"
)

// Repository is one repository's packages for one architecture.
type Repository struct {
	Name     string // URL or path, shown in errors
	Tag      string // "" untagged; else eligible only through name@tag or a pinned package's dependencies
	Arch     string
	Packages []*index.Package
	// Installed marks packages the image already holds (a base image's
	// installed database): each stays at its version, as if the world
	// pinned name=version, is never added by install_if, and the
	// architectures of ResolveArchs need not agree on it.
	Installed bool
}

// Resolver holds the parsed relations of a set of repositories. Build it
// once with New and resolve any number of worlds; it is safe for
// concurrent use.
type Resolver struct {
	repos []Repository
	arch  string
	tags  []string // tag id → name; id 0 is "untagged"

	names  []string
	nameID map[string]int32

	cands []cand
	provs []prov // each candidate's provides, its own name first
	deps  []dep  // distinct dependency tokens

	candDeps []int32 // D: of each candidate (indexes into deps), by cand.deps range
	candIIF  []int32 // i: of each candidate, by cand.iif range

	// provider lists per name, best first (see order.go): provOf[provStart[n]:provStart[n+1]]
	provStart []int32
	provOf    []int32
	listFlags []uint8           // per name: listIrregular, listOrigins
	scanOrder map[int32][]int32 // irregular names' candidates in apko's scan order
	origins   int32             // distinct origin-version pairs (cand.ov)
	// install_if candidates first waiting on name n: iifOf[iifStart[n]:iifStart[n+1]]
	iifStart []int32
	iifOf    []int32

	repoList string // "[a b]" for errors

	// pins are name=version for every installed package (see
	// Repository.Installed), added to each world.
	pins []string

	// provMark[n] is 1 + the candidate that last provided name n while
	// the tables were built: one array lookup finds a duplicate provide,
	// where scanning the candidate's provides made a long p: line cost
	// quadratic time.
	provMark []int32

	pool sync.Pool // *state
}

// cand is one installable package of one repository.
type cand struct {
	pkg   *index.Package
	repo  int32
	name  int32
	tag   int32 // repository tag id, 0 untagged
	prio  int32
	ov    int32 // its origin at its version, numbered per resolver; -1 without an origin
	ver   version.Version
	loose bool // package version malformed: compared as apk compares it

	deps, depsEnd int32 // range in candDeps
	iif, iifEnd   int32 // range in candIIF
	provs, provsE int32 // range in provs

	// Uninstallable when badTok != "" (a D: apk cannot read) or badDep >= 0
	// (a dependency nothing installable provides).
	badTok string
	badDep int32
}

// prov is one name a candidate provides.
type prov struct {
	name   int32
	cand   int32
	hasVer bool
	loose  bool // the version is malformed
	shift  bool // apko ranks the version as 0.VERSION (see shiftedSoVersion)
	ver    version.Version
	raw    string // the version as written
}

// dep is one parsed dependency token, shared by every package using it.
type dep struct {
	name int32 // -1: a name no package provides
	tag  int32 // repository tag of name@tag, 0 none, -1 unknown tag
	id   int32 // index in Resolver.deps; -1 for a world entry or a hint
	d    version.Dependency
	text string
}

func (c *cand) broken() bool { return c.badTok != "" || c.badDep >= 0 }

// Flags on a name's provider list.
const (
	listIrregular uint8 = 1 << iota // pick ranks it with the exact keys (order.go)
	listOrigins                     // some provider has an origin: pick applies the origin rule
)

// maxTags bounds distinct repository tags: pinning is a bit mask.
const maxTags = 63

// New parses every package's relations and builds the provider tables.
// Packages of another architecture than their repository's (other than
// noarch) are left out. All repositories must be for one architecture.
func New(repos []Repository) (*Resolver, error) {
	r := &Resolver{repos: slices.Clone(repos), tags: []string{""}}
	n, nprov, ndep, norigin := 0, 0, 0, 0
	for i := range r.repos {
		repo := &r.repos[i]
		if r.arch == "" {
			r.arch = repo.Arch
		} else if repo.Arch != "" && repo.Arch != r.arch {
			return nil, fmt.Errorf("repositories for %s and %s in one resolver (use ResolveArchs)", r.arch, repo.Arch)
		}
		if repo.Tag != "" && r.tagID(repo.Tag) < 0 {
			if len(r.tags) > maxTags {
				return nil, fmt.Errorf("repository %s: more than %d repository tags", repo.Name, maxTags)
			}
			r.tags = append(r.tags, repo.Tag)
		}
		n += len(repo.Packages)
		for _, p := range repo.Packages {
			nprov += len(p.Provides)
			ndep += len(p.Dependencies) + len(p.InstallIf)
			if p.Origin != "" {
				norigin++
			}
		}
	}
	// Sized up front: growing these is most of New's cost on big indexes.
	r.cands = make([]cand, 0, n)
	r.provs = make([]prov, 0, n+nprov)
	r.candDeps = make([]int32, 0, ndep)
	r.names = make([]string, 0, n+nprov)
	r.nameID = make(map[string]int32, n+nprov)
	r.deps = make([]dep, 0, ndep/2)
	depCache := make(map[string]int32, ndep/2)
	r.provMark = make([]int32, 0, n+nprov)
	ovs := make(map[originVersion]int32, norigin/2) // subpackages share their origin
	for i := range r.repos {
		repo := &r.repos[i]
		for j, p := range repo.Packages {
			if repo.Arch != "" && p.Arch != "" && p.Arch != repo.Arch && p.Arch != "noarch" {
				continue
			}
			if p.Name == "" {
				return nil, fmt.Errorf("repository %s: package #%d has no name", repo.Name, j)
			}
			r.addCand(p, int32(i), depCache, ovs)
			if repo.Installed {
				r.pins = append(r.pins, p.Name+"="+p.Version)
			}
		}
	}
	r.provMark = nil // only needed while adding candidates
	r.origins = int32(len(ovs))
	r.buildProviders()
	r.buildInstallIf()
	r.markUninstallable()
	names := make([]string, len(r.repos))
	for i := range r.repos {
		names[i] = r.repos[i].Name
		if t := r.repos[i].Tag; t != "" {
			names[i] = "@" + t + " " + names[i]
		}
	}
	r.repoList = "[" + strings.Join(names, " ") + "]"
	return r, nil
}

func (r *Resolver) tagID(tag string) int32 {
	for i, t := range r.tags {
		if t == tag {
			return int32(i)
		}
	}
	return -1
}

func (r *Resolver) intern(name string) int32 {
	if id, ok := r.nameID[name]; ok {
		return id
	}
	id := int32(len(r.names))
	r.names = append(r.names, name)
	r.nameID[name] = id
	return id
}

// originVersion keys apko's "origin already selected at this version".
type originVersion struct{ origin, version string }

func (r *Resolver) addCand(p *index.Package, repo int32, depCache map[string]int32, ovs map[originVersion]int32) {
	ci := int32(len(r.cands))
	c := cand{pkg: p, repo: repo, name: r.intern(p.Name), prio: int32(p.ProviderPriority), ov: -1, badDep: -1}
	if p.Origin != "" {
		k := originVersion{p.Origin, p.Version}
		id, ok := ovs[k]
		if !ok {
			id = int32(len(ovs))
			ovs[k] = id
		}
		c.ov = id
	}
	if t := r.repos[repo].Tag; t != "" {
		c.tag = r.tagID(t)
	}
	v, err := version.Parse(p.Version)
	// apk keeps packages with malformed versions and compares the valid
	// prefix; so do we.
	c.ver, c.loose = v, err != nil
	c.provs = int32(len(r.provs))
	r.provs = append(r.provs, prov{name: c.name, cand: ci, hasVer: true, loose: c.loose, ver: c.ver, raw: p.Version})
	for _, tok := range p.Provides {
		d, _, err := version.ParseDependencyLoose(tok)
		if err != nil || d.Conflict || (d.Op != version.OpAny && d.Op != version.OpEqual) {
			continue // apk ignores provides it cannot use
		}
		pv := prov{name: r.intern(d.Name), cand: ci}
		if d.Op == version.OpEqual {
			pv.hasVer, pv.raw = true, d.Version
			pv.ver, err = version.Parse(d.Version)
			pv.loose = err != nil
			pv.shift = shiftedSoVersion(d.Name, d.Version)
		}
		if pv.name == c.name || r.markProvided(ci, pv.name) {
			continue // a duplicate would occupy the name twice
		}
		r.provs = append(r.provs, pv)
	}
	c.provsE = int32(len(r.provs))
	c.deps = int32(len(r.candDeps))
	for _, tok := range p.Dependencies {
		di, ok := r.parseDep(tok, depCache)
		if !ok {
			if c.badTok == "" {
				c.badTok = tok
			}
			continue
		}
		r.candDeps = append(r.candDeps, di)
	}
	c.depsEnd = int32(len(r.candDeps))
	c.iif = int32(len(r.candIIF))
	iif := p.InstallIf
	if r.repos[repo].Installed {
		iif = nil // already installed: nothing adds it
	}
	for _, tok := range iif {
		di, ok := r.parseDep(tok, depCache)
		if !ok {
			// A condition apk cannot read never holds.
			r.candIIF = r.candIIF[:c.iif]
			break
		}
		r.candIIF = append(r.candIIF, di)
	}
	c.iifEnd = int32(len(r.candIIF))
	r.cands = append(r.cands, c)
}

// markProvided records that candidate ci provides name and reports
// whether it already did.
func (r *Resolver) markProvided(ci, name int32) bool {
	if int(name) >= len(r.provMark) {
		r.provMark = append(r.provMark, make([]int32, int(name)+1-len(r.provMark))...)
	}
	if r.provMark[name] == ci+1 {
		return true
	}
	r.provMark[name] = ci + 1
	return false
}

// parseDep parses an index token once per distinct token.
func (r *Resolver) parseDep(tok string, cache map[string]int32) (int32, bool) {
	if i, ok := cache[tok]; ok {
		return i, i >= 0
	}
	d, _, err := version.ParseDependencyLoose(tok)
	if err != nil {
		cache[tok] = -1
		return -1, false
	}
	i := int32(len(r.deps))
	nd := r.newDep(d, tok)
	nd.id = i
	r.deps = append(r.deps, nd)
	cache[tok] = i
	return i, true
}

func (r *Resolver) newDep(d version.Dependency, text string) dep {
	nd := dep{name: r.intern(d.Name), d: d, text: text}
	if d.Tag != "" {
		nd.tag = r.tagID(d.Tag)
	}
	return nd
}

// buildProviders fills provStart/provOf, each name's list sorted best first.
func (r *Resolver) buildProviders() {
	nn := len(r.names)
	r.provStart = make([]int32, nn+1)
	for i := range r.provs {
		r.provStart[r.provs[i].name+1]++
	}
	for i := 1; i <= nn; i++ {
		r.provStart[i] += r.provStart[i-1]
	}
	r.provOf = make([]int32, len(r.provs))
	fill := slices.Clone(r.provStart[:nn])
	for i := range r.provs {
		n := r.provs[i].name
		r.provOf[fill[n]] = int32(i)
		fill[n]++
	}
	// Each package name's first candidate, and the names whose versions
	// do not share one provider_priority.
	firstCand := make([]int32, nn)
	prioVaries := make([]bool, nn)
	for i := range firstCand {
		firstCand[i] = -1
	}
	for i := range r.cands {
		c := &r.cands[i]
		if f := firstCand[c.name]; f < 0 {
			firstCand[c.name] = int32(i)
		} else if r.cands[f].prio != c.prio {
			prioVaries[c.name] = true
		}
	}
	r.listFlags = make([]uint8, nn)
	for n := 0; n < nn; n++ {
		list := r.provOf[r.provStart[n]:r.provStart[n+1]]
		if len(list) < 2 {
			continue
		}
		first := r.provs[list[0]].hasVer
		var flags uint8
		for _, pi := range list {
			p := &r.provs[pi]
			c := &r.cands[p.cand]
			if p.hasVer != first || prioVaries[c.name] {
				flags |= listIrregular
			}
			if c.ov >= 0 {
				flags |= listOrigins
			}
		}
		r.listFlags[n] = flags
		if flags&listIrregular != 0 {
			r.keepScanOrder(int32(n), list, firstCand)
		}
		slices.SortFunc(list, func(a, b int32) int { return r.compareProviders(int32(n), a, b, false) })
	}
}

// keepScanOrder records, for an irregular name, the order apko scans its
// candidates in: the packages of that name, then the providers grouped by
// package name, each in repository and index order (list is in candidate
// order). On an intransitive list the candidate apko settles on depends
// on that order. apko orders the groups of providers by map iteration, at
// random; kiln by their names' first appearance.
func (r *Resolver) keepScanOrder(n int32, list, firstCand []int32) {
	scan := slices.Clone(list)
	key := func(pi int32) int32 {
		c := &r.cands[r.provs[pi].cand]
		if c.name == n {
			return -1
		}
		return firstCand[c.name]
	}
	slices.SortStableFunc(scan, func(a, b int32) int { return cmp.Compare(key(a), key(b)) })
	if r.scanOrder == nil {
		r.scanOrder = map[int32][]int32{}
	}
	r.scanOrder[n] = scan
}

// buildInstallIf files each install_if candidate under one positive
// condition, the name fewest candidates wait on: it is looked at when
// that name is first provided, and then waits on its next unmet condition
// (see state.installIf), so a common trigger such as docs or openrc does
// not make every resolve scan thousands of candidates. A candidate without
// a positive condition is never triggered.
func (r *Resolver) buildInstallIf() {
	nn := len(r.names)
	users := make([]int32, nn)
	for ci := range r.cands {
		c := &r.cands[ci]
		for _, di := range r.candIIF[c.iif:c.iifEnd] {
			users[r.deps[di].name]++
		}
	}
	watch := make([]int32, len(r.cands))
	r.iifStart = make([]int32, nn+1)
	for ci := range r.cands {
		c := &r.cands[ci]
		watch[ci] = -1
		for _, di := range r.candIIF[c.iif:c.iifEnd] {
			d := &r.deps[di]
			if !d.d.Conflict && (watch[ci] < 0 || users[d.name] < users[watch[ci]]) {
				watch[ci] = d.name
			}
		}
		if watch[ci] >= 0 {
			r.iifStart[watch[ci]+1]++
		}
	}
	for i := 1; i <= nn; i++ {
		r.iifStart[i] += r.iifStart[i-1]
	}
	r.iifOf = make([]int32, r.iifStart[nn])
	fill := slices.Clone(r.iifStart[:nn])
	for ci, n := range watch {
		if n >= 0 {
			r.iifOf[fill[n]] = int32(ci)
			fill[n]++
		}
	}
}

// markUninstallable rules out, once for every resolve, the packages with
// a dependency that nothing installable can meet, to a fixpoint.
func (r *Resolver) markUninstallable() {
	ok := make([]int8, len(r.deps)) // 0 unknown, 1 yes, -1 no
	for changed := true; changed; {
		changed = false
		clear(ok)
		for ci := range r.cands {
			c := &r.cands[ci]
			if c.broken() {
				continue
			}
			for _, di := range r.candDeps[c.deps:c.depsEnd] {
				d := &r.deps[di]
				if d.d.Conflict {
					continue
				}
				if ok[di] == 0 {
					ok[di] = -1
					if r.installableProvider(d) {
						ok[di] = 1
					}
				}
				if ok[di] < 0 {
					c.badDep = di
					changed = true
					break
				}
			}
		}
	}
}

func (r *Resolver) installableProvider(d *dep) bool {
	for _, pi := range r.providers(d.name) {
		p := &r.provs[pi]
		if !r.cands[p.cand].broken() && r.provSatisfies(p, &d.d) {
			return true
		}
	}
	return false
}

// providers lists the provides entries for name n, best first.
func (r *Resolver) providers(n int32) []int32 {
	if n < 0 {
		return nil
	}
	return r.provOf[r.provStart[n]:r.provStart[n+1]]
}

// provSatisfies reports whether what p provides meets d's version
// condition (for a conflict: whether the conflict hits it).
func (r *Resolver) provSatisfies(p *prov, d *version.Dependency) bool {
	switch {
	case d.Op == version.OpAny:
		return true
	case d.Op == version.OpChecksum:
		return d.Version == r.cands[p.cand].pkg.Checksum
	case !p.hasVer:
		return false
	case p.loose:
		return d.MatchesLoose(p.raw)
	}
	return d.Matches(p.ver)
}

// candidates counts the providers meeting d, as apko counts a
// dependency's options to order its walk.
func (r *Resolver) candidates(d *dep) int {
	n := 0
	for _, pi := range r.providers(d.name) {
		if r.provSatisfies(&r.provs[pi], &d.d) {
			n++
		}
	}
	return n
}

// provFor returns c's provides entry for name n, or -1.
func (r *Resolver) provFor(ci, n int32) int32 {
	c := &r.cands[ci]
	for i := c.provs; i < c.provsE; i++ {
		if r.provs[i].name == n {
			return i
		}
	}
	return -1
}

func (r *Resolver) candString(ci int32) string {
	p := r.cands[ci].pkg
	return p.Name + "-" + p.Version
}
