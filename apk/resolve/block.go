package resolve

type blockKind uint8

const (
	blockNone        blockKind = iota
	blockTaken                 // a selected package (other) holds a name it would take
	blockConstraint            // a recorded requirement (rec) on a name it would take is not met
	blockConflict              // a recorded !conflict (rec) hits it
	blockOwnConflict           // its own !dep hits a selected package (other)
	blockDepUnmet              // its dependency dep cannot be met: other holds the name
)

// block says why a candidate cannot join the current selection.
type block struct {
	kind  blockKind
	other int32 // selected candidate involved, or the record's requirer
	name  int32 // the name concerned
	prov  int32 // the candidate's provides entry for name (taken, constraint, conflict)
	rec   int32 // constraint record (constraint, conflict)
	dep   *dep  // the candidate's dependency (own conflict, unmet)
}

// blocker checks ci against the selection and every constraint recorded
// so far; it is the hot path, so it returns a value and never allocates.
func (s *state) blocker(ci int32) block {
	r := s.r
	c := &r.cands[ci]
	for i := c.provs; i < c.provsE; i++ {
		p := &r.provs[i]
		m := p.name
		s.touch(m)
		if o := s.occ[m]; o >= 0 && r.provs[o].cand != ci {
			return block{kind: blockTaken, other: r.provs[o].cand, name: m, prov: i}
		}
		if sh := s.shared[m]; sh >= 0 && p.hasVer {
			return block{kind: blockTaken, other: r.provs[sh].cand, name: m, prov: i}
		}
		for k := s.consHd[m]; k >= 0; k = s.cons[k].next {
			rec := &s.cons[k]
			hit := r.provSatisfies(p, &rec.dep.d)
			switch {
			case rec.dep.d.Conflict && hit && rec.from != ci:
				return block{kind: blockConflict, other: rec.from, name: m, prov: i, rec: k}
			case !rec.dep.d.Conflict && !hit:
				return block{kind: blockConstraint, other: rec.from, name: m, prov: i, rec: k}
			}
		}
	}
	// Look ahead one level, as apk disqualifies packages whose
	// dependencies are no longer satisfiable.
	for _, di := range r.candDeps[c.deps:c.depsEnd] {
		d := &r.deps[di]
		m := d.name
		s.touch(m)
		if d.d.Conflict {
			if o := s.selectedMatching(m, &d.d, ci); o >= 0 {
				return block{kind: blockOwnConflict, other: o, name: m, dep: d}
			}
			continue
		}
		if s.occ[m] < 0 && s.shared[m] < 0 {
			continue
		}
		if s.selectedMatching(m, &d.d, -1) >= 0 || r.provFor(ci, m) >= 0 {
			continue
		}
		holder := s.occ[m]
		if holder < 0 {
			holder = s.shared[m]
		}
		return block{kind: blockDepUnmet, other: r.provs[holder].cand, name: m, dep: d}
	}
	return block{}
}
