package resolve

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/version"
)

// Solution is what to install for one architecture.
type Solution struct {
	Arch     string
	Packages []*Resolved // install order: dependencies before dependents (cycles broken deterministically)
}

// Resolved is one package to install.
type Resolved struct {
	Package    *index.Package
	Repository *Repository
	Depends    []*Resolved // direct dependencies as resolved
}

// maxRestarts bounds backtracking; each restart excludes one more
// candidate, so it also bounds by the number of candidates.
const maxRestarts = 2000

// requirement is one dependency to satisfy and where it came from.
type requirement struct {
	dep   version.Dependency
	from  *cand           // nil: the world
	tags  map[string]bool // repository tags this requirement may use
	chain string          // "hello-2.12-r0 -> " for errors
}

type attempt struct {
	r         *Resolver
	excluded  map[*cand]string // candidates ruled out by earlier attempts, and why
	selected  map[string]*cand // package name → chosen candidate
	order     []*cand          // in selection order
	edges     map[*cand][]*cand
	conflicts []requirement // '!' constraints in force
	tagsOf    map[*cand]map[string]bool
	queue     []requirement
	newNames  []string        // names provided by packages chosen since the last install_if pass
	provided  map[string]bool // every name the chosen packages provide
}

// retry asks for another attempt with one more candidate excluded.
type retry struct {
	exclude *cand
	why     string
}

// Resolve computes the packages a world installs.
func (r *Resolver) Resolve(world []string) (*Solution, error) {
	var reqs []requirement
	for _, w := range world {
		d, err := version.ParseDependency(w)
		if err != nil {
			return nil, fmt.Errorf("world: %w", err)
		}
		tags := map[string]bool{}
		if d.Tag != "" {
			tags[d.Tag] = true
		}
		reqs = append(reqs, requirement{dep: d, tags: tags, chain: "world: "})
	}
	excluded := map[*cand]string{}
	for i := 0; ; i++ {
		a := &attempt{r: r, excluded: excluded, selected: map[string]*cand{}, provided: map[string]bool{},
			edges: map[*cand][]*cand{}, tagsOf: map[*cand]map[string]bool{}}
		rt, err := a.run(reqs)
		if err != nil {
			return nil, err
		}
		if rt == nil {
			return a.solution(reqs), nil
		}
		if _, seen := excluded[rt.exclude]; seen || i >= maxRestarts {
			return nil, fmt.Errorf("%s", rt.why)
		}
		excluded[rt.exclude] = rt.why
	}
}

func (a *attempt) run(world []requirement) (*retry, error) {
	a.queue = append(a.queue, world...)
	for {
		for len(a.queue) > 0 {
			q := a.queue[0]
			a.queue = a.queue[1:]
			if rt, err := a.satisfy(q); rt != nil || err != nil {
				return rt, err
			}
		}
		added, rt := a.installIf()
		if rt != nil {
			return rt, nil
		}
		if !added {
			return nil, nil
		}
	}
}

func (a *attempt) satisfy(q requirement) (*retry, error) {
	d := q.dep
	if d.Conflict {
		for _, c := range a.order {
			if c.satisfies(d) && c != q.from {
				return a.conflictRetry(q, c)
			}
		}
		a.conflicts = append(a.conflicts, q)
		return nil, nil
	}
	for _, c := range a.r.providers[d.Name] {
		if a.selected[c.pkg.Name] == c && c.satisfies(d) {
			a.link(q.from, c)
			return nil, nil
		}
	}
	var blocked *cand // a matching candidate another version of which is already chosen
	for _, c := range a.r.providers[d.Name] {
		if !c.satisfies(d) || !eligible(c, q.tags) || len(c.broken) > 0 {
			continue
		}
		if _, ex := a.excluded[c]; ex {
			continue
		}
		if other := a.selected[c.pkg.Name]; other != nil {
			if blocked == nil {
				blocked = other
			}
			continue
		}
		if hit, ok := a.conflictWith(c); ok {
			if hit.from == nil {
				continue // the world forbids it: try the next provider
			}
			return &retry{exclude: hit.from, why: fmt.Sprintf("%s%s: %s conflicts with %s (which has %s)",
				q.chain, d, c, hit.from, hit.dep)}, nil
		}
		a.choose(q, c)
		return nil, nil
	}
	if blocked != nil {
		// An earlier choice of blocked's package took the version this
		// requirement cannot use: rule it out and start again.
		return &retry{exclude: blocked, why: fmt.Sprintf("%s%s: needs a version of %s other than %s, and none fits every constraint",
			q.chain, d, blocked.pkg.Name, blocked)}, nil
	}
	return nil, a.explain(q)
}

// choose selects c for q and queues c's dependencies.
func (a *attempt) choose(q requirement, c *cand) {
	a.selected[c.pkg.Name] = c
	a.order = append(a.order, c)
	a.link(q.from, c)
	tags := q.tags
	if c.repo.Tag != "" && !tags[c.repo.Tag] {
		tags = copyTags(tags)
		tags[c.repo.Tag] = true
	}
	a.tagsOf[c] = tags
	for _, pr := range c.provides {
		a.newNames = append(a.newNames, pr.name)
		a.provided[pr.name] = true
	}
	chain := q.chain
	if chain == "world: " {
		chain = ""
	}
	chain += c.String() + " -> "
	for _, d := range c.deps {
		a.queue = append(a.queue, requirement{dep: d, from: c, tags: tags, chain: chain})
	}
}

func (a *attempt) link(from, to *cand) {
	if from == nil || from == to {
		return
	}
	for _, e := range a.edges[from] {
		if e == to {
			return
		}
	}
	a.edges[from] = append(a.edges[from], to)
}

// conflictWith reports the '!' constraint in force that c violates.
func (a *attempt) conflictWith(c *cand) (requirement, bool) {
	for _, q := range a.conflicts {
		if q.from != c && c.satisfies(q.dep) {
			return q, true
		}
	}
	return requirement{}, false
}

// conflictRetry handles a new '!' constraint hitting a chosen package.
func (a *attempt) conflictRetry(q requirement, hit *cand) (*retry, error) {
	if q.from == nil {
		// The world forbids what a dependency pulled in: exclude it.
		return &retry{exclude: hit, why: fmt.Sprintf("world: %s, but %s is needed", q.dep, hit)}, nil
	}
	return &retry{exclude: q.from, why: fmt.Sprintf("%s%s: conflicts with %s, which is needed", q.chain, q.dep, hit)}, nil
}

// installIf adds packages whose install_if conditions the selection meets,
// best version per name, until nothing changes.
func (a *attempt) installIf() (bool, *retry) {
	added := false
	// Only packages whose conditions name something newly provided can
	// have become installable since the last pass.
	var todo []*cand
	seen := map[*cand]bool{}
	for _, name := range a.newNames {
		for _, c := range a.r.iifByCond[name] {
			if !seen[c] {
				seen[c] = true
				todo = append(todo, c)
			}
		}
	}
	a.newNames = a.newNames[:0]
	sort.Slice(todo, func(i, j int) bool { return todo[i].order < todo[j].order })
	for _, c := range todo {
		if a.selected[c.pkg.Name] != nil || len(c.broken) > 0 || c.repo.Tag != "" {
			continue
		}
		if _, ex := a.excluded[c]; ex {
			continue
		}
		if !a.conditionsMet(c.iif) {
			continue
		}
		if best := a.bestOf(c.pkg.Name); best != c {
			continue
		}
		if _, ok := a.conflictWith(c); ok {
			continue
		}
		a.choose(requirement{dep: version.Dependency{Name: c.pkg.Name}, tags: map[string]bool{}, chain: "install_if: "}, c)
		added = true
	}
	return added, nil
}

func (a *attempt) bestOf(name string) *cand {
	for _, c := range a.r.byName[name] {
		if _, ex := a.excluded[c]; !ex && c.repo.Tag == "" && len(c.broken) == 0 {
			return c
		}
	}
	return nil
}

func (a *attempt) conditionsMet(conds []version.Dependency) bool {
	for _, d := range conds {
		if !d.Conflict && !a.provided[d.Name] {
			return false // cheap: nothing chosen provides the name at all
		}
	}
	for _, d := range conds {
		met := false
		for _, c := range a.r.providers[d.Name] {
			if a.selected[c.pkg.Name] == c && c.satisfies(d) {
				met = true
				break
			}
		}
		if met == d.Conflict {
			return false
		}
	}
	return true
}

func eligible(c *cand, tags map[string]bool) bool {
	return c.repo.Tag == "" || tags[c.repo.Tag]
}

func copyTags(t map[string]bool) map[string]bool {
	out := make(map[string]bool, len(t)+1)
	for k, v := range t {
		out[k] = v
	}
	return out
}

// explain says why nothing satisfies q.
func (a *attempt) explain(q requirement) error {
	d := q.dep
	provs := a.r.providers[d.Name]
	prefix := q.chain + d.String() + ": "
	if len(provs) == 0 {
		return fmt.Errorf("%sprovided by nothing in %s", prefix, a.r.repoNames())
	}
	var versions, tagged, broken, excluded []string
	for _, c := range provs {
		if !c.satisfies(d) {
			if pr, ok := c.provided(d.Name); ok && pr.hasVer {
				versions = append(versions, pr.ver.String())
			} else {
				versions = append(versions, c.pkg.Version)
			}
			continue
		}
		switch why, ex := a.excluded[c]; {
		case !eligible(c, q.tags):
			tagged = append(tagged, fmt.Sprintf("%s (only in @%s)", c, c.repo.Tag))
		case len(c.broken) > 0:
			broken = append(broken, fmt.Sprintf("%s (unreadable dependency %q)", c, c.broken[0]))
		case ex:
			excluded = append(excluded, fmt.Sprintf("%s (%s)", c, why))
		}
	}
	var parts []string
	if len(tagged) > 0 {
		parts = append(parts, "pinned repositories only: "+strings.Join(tagged, ", ")+"; ask for "+d.Name+"@TAG")
	}
	if len(excluded) > 0 {
		parts = append(parts, "ruled out: "+strings.Join(excluded, "; "))
	}
	if len(broken) > 0 {
		parts = append(parts, "uninstallable: "+strings.Join(broken, ", "))
	}
	if len(parts) == 0 && len(versions) > 0 {
		sort.Strings(versions)
		versions = dedupe(versions)
		if len(versions) > 8 {
			versions = append(versions[:8], "...")
		}
		parts = append(parts, "only versions "+strings.Join(versions, ", ")+" available in "+a.r.repoNames())
	}
	return fmt.Errorf("%s%s", prefix, strings.Join(parts, "; "))
}

func dedupe(ss []string) []string {
	out := ss[:0]
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// solution orders the selection: a depth-first walk from the world in
// its order, dependencies first in the order packages declare them; a
// dependency already on the walk's path (a cycle) is skipped.
func (a *attempt) solution(world []requirement) *Solution {
	sol := &Solution{Arch: a.r.arch}
	res := map[*cand]*Resolved{}
	state := map[*cand]uint8{} // 1 on path, 2 done
	var visit func(c *cand)
	visit = func(c *cand) {
		if state[c] != 0 {
			return
		}
		state[c] = 1
		for _, dep := range a.edges[c] {
			visit(dep)
		}
		state[c] = 2
		rp := &Resolved{Package: c.pkg, Repository: c.repo}
		res[c] = rp
		sol.Packages = append(sol.Packages, rp)
	}
	for _, q := range world {
		if q.dep.Conflict {
			continue
		}
		for _, c := range a.r.providers[q.dep.Name] {
			if a.selected[c.pkg.Name] == c && c.satisfies(q.dep) {
				visit(c)
				break
			}
		}
	}
	for _, c := range a.order {
		visit(c)
	}
	for c, rp := range res {
		for _, dep := range a.edges[c] {
			rp.Depends = append(rp.Depends, res[dep])
		}
	}
	return sol
}
