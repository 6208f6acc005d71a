package resolve

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kiln-build/kiln/apk/version"
)

// maxAttempts bounds backtracking. Every failed attempt learns a new hint
// or rules out a new candidate, so this is only a guard against
// pathological inputs.
const maxAttempts = 10000

// Resolve computes the packages a world installs. World entries are
// `[!]name[@tag][op version]`.
func (r *Resolver) Resolve(world []string) (*Solution, error) {
	return r.resolve(world, nil)
}

// resolve is Resolve with candidates ruled out beforehand (ResolveArchs).
func (r *Resolver) resolve(world []string, pre map[int32]string) (*Solution, error) {
	s := r.getState()
	defer r.putState(s)
	if len(r.pins) > 0 {
		world = append(slices.Clone(world), r.pins...)
	}
	if err := s.parseWorld(world); err != nil {
		return nil, err
	}
	s.beginResolve()
	for ci, why := range pre {
		s.exclude(ci, why)
	}
	for attempt := 1; ; attempt++ {
		s.beginAttempt()
		f := s.run()
		if f == nil {
			return s.solution(), nil
		}
		if f.final != nil {
			return nil, f.final
		}
		if attempt == maxAttempts {
			return nil, fmt.Errorf("giving up after %d attempts; the last failure: %s", attempt, f.why)
		}
		if f.hintDep != nil {
			s.addHint(f.hintName, f.hintDep)
		} else {
			s.exclude(f.exclude, f.why)
		}
	}
}

func (s *state) parseWorld(world []string) error {
	r := s.r
	for _, w := range world {
		d, err := version.ParseDependency(w)
		if err != nil {
			return fmt.Errorf("world: %w", err)
		}
		nd := dep{name: -1, id: -1, d: d, text: w}
		if id, ok := r.nameID[d.Name]; ok {
			nd.name = id
		}
		if d.Tag != "" {
			if nd.tag = r.tagID(d.Tag); nd.tag < 0 {
				return fmt.Errorf("world: %q: no repository is tagged @%s in %s", w, d.Tag, r.repoList)
			}
		}
		s.world = append(s.world, nd)
	}
	return nil
}

// run makes one attempt: requirements breadth first, then install_if,
// until nothing changes.
func (s *state) run() *failure {
	for i := range s.world {
		d := &s.world[i]
		if d.d.Conflict && d.name < 0 {
			continue // forbids something no repository has
		}
		ri := s.addCons(d, d.name, fromWorld)
		if d.tag > 0 {
			s.cons[ri].mask = 1 << d.tag
		}
		if !d.d.Conflict {
			s.queue = append(s.queue, ri)
		}
	}
	for {
		for s.qh < len(s.queue) {
			ri := s.queue[s.qh]
			s.qh++
			if f := s.satisfy(ri); f != nil {
				return f
			}
		}
		if !s.installIf() {
			return s.recheckInstallIf()
		}
	}
}

// recheckInstallIf rules out a package added by install_if whose !name
// condition something selected later broke (apk would not have added it).
func (s *state) recheckInstallIf() *failure {
	for _, ci := range s.order {
		if s.cons[s.via[ci]].from != fromIIF {
			continue
		}
		if _, ok := s.conditionsMet(ci); !ok {
			c := &s.r.cands[ci]
			return &failure{exclude: ci, why: fmt.Sprintf("%s: ruled out: its install_if %q no longer holds once everything is selected",
				s.r.candString(ci), strings.Join(c.pkg.InstallIf, " "))}
		}
	}
	return nil
}

// satisfy meets one requirement: with a package already selected, or by
// choosing the best candidate.
func (s *state) satisfy(ri int32) *failure {
	rec := &s.cons[ri]
	d, n := rec.dep, rec.name
	if n < 0 {
		return s.fail(ri)
	}
	s.touch(n)
	if s.occ[n] >= 0 || s.shared[n] >= 0 {
		o := s.selectedMatching(n, &d.d, -1)
		if o < 0 {
			return s.fail(ri)
		}
		// Only unversioned provides hold n, which apko does not record:
		// it takes o only if it has recorded o itself by now, and
		// otherwise ranks the candidates again, and may add another.
		// Ranking first: it mostly names a selected package, and then
		// whether o is recorded does not matter.
		if s.occ[n] < 0 {
			allowed, pref := s.nameMask(n)
			ci := s.pick(n, &d.d, allowed, pref, ri)
			switch {
			case ci < 0:
			case s.selected(ci):
				o = ci
			case !s.recorded(o, ri):
				s.choose(ci, ri, allowed)
				return nil
			}
		}
		s.link(ri, o)
		return nil
	}
	allowed, pref := s.nameMask(n)
	if ci := s.pick(n, &d.d, allowed, pref, ri); ci >= 0 {
		s.choose(ci, ri, allowed)
		return nil
	}
	return s.fail(ri)
}

// pick returns the best candidate for name n meeting d, required by from,
// or -1. Before the static order of the list (order.go) come, most
// significant first: meeting the hints learnt on n (kiln's backtracking),
// apko's origin rule (see originSelected; apko resolves world entries
// before anything is selected, so not for them) and apko's pin rule (the
// candidate's repository tag is pref). apko's first rule, a package of
// that name and version already selected, never reaches pick: satisfy
// links such a package instead.
//
// A candidate's class is the set of those it misses; only a candidate of
// a better class than the best found so far is checked against the
// selection, so a list is usually scanned once with cheap tests.
func (s *state) pick(n int32, d *version.Dependency, allowed uint64, pref int32, ri int32) int32 {
	r := s.r
	const (
		missPin uint8 = 1 << iota
		missOrigin
		missHint
		worst
	)
	hinted := s.hasHints(n)
	flags := r.listFlags[n]
	exact := flags&listIrregular != 0
	list := r.providers(n)
	if exact {
		list = r.scanOrder[n]
	}
	byOrigin := s.cons[ri].from >= 0 && flags&listOrigins != 0
	best, bestPI, bestClass := int32(-1), int32(-1), worst
	for _, pi := range list {
		p := &r.provs[pi]
		c := &r.cands[p.cand]
		var class uint8
		if c.tag != pref {
			class |= missPin
		}
		if byOrigin && !s.originSelected(c, ri) {
			class |= missOrigin
		}
		if hinted && !s.hintsOK(n, p) {
			class |= missHint
		}
		if class > bestClass || (class == bestClass && !exact) {
			continue
		}
		if !s.usable(p.cand, allowed) || !r.provSatisfies(p, d) || s.blocker(p.cand).kind != blockNone {
			continue
		}
		if class == bestClass && r.compareProviders(n, pi, bestPI, true) >= 0 {
			continue
		}
		best, bestPI, bestClass = p.cand, pi, class
		if class == 0 && !exact {
			break
		}
	}
	return best
}

// usable: installable, not ruled out, and in a repository the pinning allows.
func (s *state) usable(ci int32, allowed uint64) bool {
	c := &s.r.cands[ci]
	return !c.broken() && !s.excluded(ci) && (c.tag == 0 || allowed&(1<<c.tag) != 0)
}

// nameMask is what the constraints recorded on n allow (apk's
// pinning_allowed) and the preferred tag: a world entry's name@tag, else
// the untagged repositories.
func (s *state) nameMask(n int32) (allowed uint64, pref int32) {
	for k := s.consHd[n]; k >= 0; k = s.cons[k].next {
		rec := &s.cons[k]
		if rec.dep.d.Conflict {
			continue
		}
		allowed |= s.reqMask(rec)
		if rec.from == fromWorld && rec.dep.tag > 0 && pref == 0 {
			pref = rec.dep.tag
		}
	}
	return allowed, pref
}

// choose selects ci: it takes the names it provides and records its
// dependencies, which are then met in turn.
func (s *state) choose(ci, ri int32, mask uint64) {
	r := s.r
	c := &r.cands[ci]
	s.selGen[ci] = s.gen
	s.selSeq[ci] = int32(len(s.order))
	s.order = append(s.order, ci)
	s.via[ci] = ri
	s.mask[ci] = mask
	s.inHd[ci] = -1
	s.metBy(ri, ci)
	if c.ov >= 0 {
		if s.ovGen[c.ov] != s.gen {
			s.ovGen[c.ov] = s.gen
			s.ovHd[c.ov] = -1
		}
		s.ovNext[ci] = s.ovHd[c.ov]
		s.ovHd[c.ov] = ci
	}
	for i := c.provs; i < c.provsE; i++ {
		p := &r.provs[i]
		s.touch(p.name)
		if p.hasVer {
			s.occ[p.name] = i
		} else if s.shared[p.name] < 0 {
			s.shared[p.name] = i
		}
		if r.iifStart[p.name+1] > r.iifStart[p.name] || (s.wGen[p.name] == s.gen && s.wHd[p.name] >= 0) {
			s.newNames = append(s.newNames, p.name)
		}
	}
	s.depRec[ci] = int32(len(s.cons))
	for _, di := range r.candDeps[c.deps:c.depsEnd] {
		d := &r.deps[di]
		k := s.addCons(d, d.name, ci)
		if !d.d.Conflict {
			s.queue = append(s.queue, k)
		}
	}
}

// link records that an already selected candidate meets requirement ri,
// passing on the requirement's pinning.
func (s *state) link(ri, ci int32) {
	s.metBy(ri, ci)
	if m := s.reqMask(&s.cons[ri]); m&^s.mask[ci] != 0 {
		s.raiseMask(ci, m)
	}
}

// raiseMask widens a selected package's pinning and that of the selected
// dependencies below it.
func (s *state) raiseMask(ci int32, m uint64) {
	work := []int32{ci}
	for len(work) > 0 {
		c := work[len(work)-1]
		work = work[:len(work)-1]
		if m&^s.mask[c] == 0 {
			continue
		}
		s.mask[c] |= m
		cd := &s.r.cands[c]
		for k := s.depRec[c]; k < s.depRec[c]+cd.depsEnd-cd.deps; k++ {
			if to := s.cons[k].to; to >= 0 {
				work = append(work, to)
			}
		}
	}
}

// selectedMatching returns a selected candidate other than except that
// provides name n meeting d, or -1.
func (s *state) selectedMatching(n int32, d *version.Dependency, except int32) int32 {
	r := s.r
	if n < 0 {
		return -1
	}
	s.touch(n)
	if o := s.occ[n]; o >= 0 {
		if p := &r.provs[o]; p.cand != except && r.provSatisfies(p, d) {
			return p.cand
		}
		return -1
	}
	if s.shared[n] < 0 {
		return -1
	}
	if p := &r.provs[s.shared[n]]; p.cand != except && r.provSatisfies(p, d) {
		return p.cand
	}
	// Several packages may share an unversioned name.
	for _, pi := range r.providers(n) {
		p := &r.provs[pi]
		if !p.hasVer && p.cand != except && s.selected(p.cand) && r.provSatisfies(p, d) {
			return p.cand
		}
	}
	return -1
}

// installIf adds the packages whose install_if conditions the selection
// now meets; it reports whether it added any. Candidates waiting on a name
// provided since the last pass are looked at: one whose conditions all
// hold marks its name, one still missing a condition waits on that name.
func (s *state) installIf() bool {
	r := s.r
	if len(s.newNames) == 0 {
		return false
	}
	if s.pass++; s.pass == 0 {
		clear(s.seen)
		s.pass = 1
	}
	names := s.newNames
	s.newNames = s.spare[:0]
	todo := s.todo[:0]
	for _, m := range names {
		for _, ci := range r.iifOf[r.iifStart[m]:r.iifStart[m+1]] {
			todo = s.triggered(ci, todo)
		}
		if s.wGen[m] == s.gen {
			w := s.wHd[m]
			s.wHd[m] = -1
			for ; w >= 0; w = s.watches[w].next {
				todo = s.triggered(s.watches[w].cand, todo)
			}
		}
	}
	added := false
	for _, n := range todo {
		s.touch(n)
		if s.occ[n] >= 0 || s.shared[n] >= 0 {
			continue
		}
		// The best version whose own conditions hold (versions of a
		// package may name different versions of their triggers).
		for _, pi := range r.providers(n) {
			ci := r.provs[pi].cand
			c := &r.cands[ci]
			if c.name != n || c.iif == c.iifEnd || c.broken() || s.excluded(ci) {
				continue
			}
			mask, ok := s.conditionsMet(ci)
			if !ok || (c.tag != 0 && mask&(1<<c.tag) == 0) || s.blocker(ci).kind != blockNone {
				continue
			}
			s.choose(ci, s.addCons(nil, n, fromIIF), mask)
			added = true
			break
		}
	}
	s.spare = names[:0]
	s.todo = todo[:0]
	return added
}

// triggered looks at install_if candidate ci: if its conditions hold, its
// name joins todo; if one is unmet because nothing provides that name
// yet, ci waits on it; if one can no longer hold, ci is dropped.
func (s *state) triggered(ci int32, todo []int32) []int32 {
	r := s.r
	c := &r.cands[ci]
	for _, di := range r.candIIF[c.iif:c.iifEnd] {
		d := &r.deps[di]
		o := s.selectedMatching(d.name, &d.d, -1)
		if d.d.Conflict {
			if o >= 0 {
				return todo
			}
			continue
		}
		if o >= 0 {
			continue
		}
		if s.occ[d.name] >= 0 || s.shared[d.name] >= 0 {
			return todo // held by a package that does not meet it
		}
		if s.wGen[d.name] != s.gen {
			s.wGen[d.name] = s.gen
			s.wHd[d.name] = -1
		}
		s.watches = append(s.watches, watch{cand: ci, next: s.wHd[d.name]})
		s.wHd[d.name] = int32(len(s.watches) - 1)
		return todo
	}
	if s.seen[c.name] != s.pass {
		s.seen[c.name] = s.pass
		todo = append(todo, c.name)
	}
	return todo
}

// conditionsMet reports whether every i: condition of ci holds, and the
// pinning of the packages meeting them.
func (s *state) conditionsMet(ci int32) (uint64, bool) {
	r := s.r
	c := &r.cands[ci]
	var mask uint64
	for _, di := range r.candIIF[c.iif:c.iifEnd] {
		d := &r.deps[di]
		o := s.selectedMatching(d.name, &d.d, -1)
		if d.d.Conflict {
			if o >= 0 {
				return 0, false
			}
			continue
		}
		if o < 0 {
			return 0, false
		}
		mask |= s.mask[o]
	}
	return mask, true
}
