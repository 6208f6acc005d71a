package resolve

import (
	"cmp"
	"strings"
)

// state is the scratch space of one Resolve, pooled per Resolver. Arrays
// indexed by candidate or name are reset in O(1) by generation stamps:
// an entry is valid only when its stamp equals the current generation.
type state struct {
	r    *Resolver
	gen  uint32 // attempt generation: selections, recorded constraints
	rgen uint32 // resolve generation: exclusions and hints survive attempts
	pass uint32 // install_if pass, for de-duplication

	// per candidate
	selGen   []uint32 // selected in this attempt when == gen
	selSeq   []int32  // position in order
	via      []int32  // the record that selected it
	mask     []uint64 // repository tags its requirers allow (apk's pinning)
	depRec   []int32  // first record of its dependencies (contiguous)
	exGen    []uint32 // ruled out for this resolve when == rgen
	exWhy    []string
	exList   []int32  // candidates with an exWhy to clear
	vis      []uint8  // install-order walk: 1 on the path, 2 done
	inHd     []int32  // records it meets (consRec.nextIn), when selected
	ovNext   []int32  // next selected candidate of its origin-version, when selected
	chain    []uint32 // == chainMark: the requirer being served or one above it
	chainRec []int32  // on the chain: its requirement the chain goes on through (markChain)

	// per name
	nGen   []uint32
	occ    []int32  // provides entry of the package holding the name with a version, -1
	shared []int32  // provides entry of the first package providing it unversioned, -1
	consHd []int32  // recorded constraints on the name
	seen   []uint32 // install_if pass that queued the name
	hGen   []uint32
	hintHd []int32
	wGen   []uint32 // install_if candidates moved to wait on the name: watch list
	wHd    []int32

	// per origin-version pair (cand.ov)
	ovGen []uint32 // a package of that origin at that version is selected when == gen
	ovHd  []int32  // the selected candidates of that origin-version (ovNext)

	chainMark uint32
	chainFor  int32 // the requirer whose chain is marked, -1
	chainRoot int32 // the world record the chain hangs from

	depCands []int32 // per dependency token: apko's candidate count + 1, 0 unknown (walkOrder)

	cons     []consRec
	queue    []int32
	qh       int
	order    []int32 // selected candidates, in selection order
	newNames []int32 // names with install_if users provided since the last pass
	spare    []int32
	todo     []int32
	hints    []hint
	watches  []watch
	world    []dep
}

// consRec is one constraint in force: a world entry, a dependency of a
// selected package, or the install_if trigger that selected a package.
type consRec struct {
	dep    *dep
	name   int32
	from   int32 // candidate, fromWorld or fromIIF
	next   int32 // next record on the same name
	to     int32 // the candidate that met it, -1
	nextIn int32 // the next record the same candidate met
	mask   uint64
}

const (
	fromWorld = -1
	fromIIF   = -2
)

// watch is an install_if candidate waiting on a name.
type watch struct {
	cand int32
	next int32
}

// hint is a constraint learnt from a failed attempt: prefer providers of
// name that meet dep.
type hint struct {
	dep  *dep
	next int32
}

func (r *Resolver) getState() *state {
	if s, ok := r.pool.Get().(*state); ok {
		return s
	}
	nc, nn := len(r.cands), len(r.names)
	return &state{
		r:      r,
		selGen: make([]uint32, nc), selSeq: make([]int32, nc), via: make([]int32, nc),
		mask: make([]uint64, nc), depRec: make([]int32, nc), exGen: make([]uint32, nc),
		exWhy: make([]string, nc), vis: make([]uint8, nc), inHd: make([]int32, nc), ovNext: make([]int32, nc),
		chain: make([]uint32, nc), chainRec: make([]int32, nc),
		nGen: make([]uint32, nn), occ: make([]int32, nn), shared: make([]int32, nn),
		consHd: make([]int32, nn), seen: make([]uint32, nn), hGen: make([]uint32, nn), hintHd: make([]int32, nn),
		wGen: make([]uint32, nn), wHd: make([]int32, nn),
		ovGen: make([]uint32, r.origins), ovHd: make([]int32, r.origins),
		depCands: make([]int32, len(r.deps)),
	}
}

func (r *Resolver) putState(s *state) {
	for _, ci := range s.exList {
		s.exWhy[ci] = ""
	}
	s.exList = s.exList[:0]
	clear(s.world)
	s.world = s.world[:0]
	r.pool.Put(s)
}

// beginResolve forgets exclusions and hints.
func (s *state) beginResolve() {
	s.rgen++
	if s.rgen == 0 {
		clear(s.exGen)
		clear(s.hGen)
		clear(s.exWhy)
		s.rgen = 1
	}
	s.hints = s.hints[:0]
}

// beginAttempt forgets the selection.
func (s *state) beginAttempt() {
	s.gen++
	if s.gen == 0 {
		clear(s.selGen)
		clear(s.nGen)
		clear(s.wGen)
		clear(s.ovGen)
		s.gen = 1
	}
	s.chainFor = -1
	s.cons = s.cons[:0]
	s.queue = s.queue[:0]
	s.qh = 0
	s.order = s.order[:0]
	s.newNames = s.newNames[:0]
	s.watches = s.watches[:0]
}

// touch makes name n's per-attempt fields valid.
func (s *state) touch(n int32) {
	if s.nGen[n] != s.gen {
		s.nGen[n] = s.gen
		s.occ[n], s.shared[n], s.consHd[n] = -1, -1, -1
	}
}

func (s *state) selected(ci int32) bool { return s.selGen[ci] == s.gen }

func (s *state) excluded(ci int32) bool { return s.exGen[ci] == s.rgen }

func (s *state) exclude(ci int32, why string) {
	s.exGen[ci] = s.rgen
	s.exWhy[ci] = why
	s.exList = append(s.exList, ci)
}

// metBy records that candidate ci meets requirement ri.
func (s *state) metBy(ri, ci int32) {
	s.cons[ri].to = ci
	s.cons[ri].nextIn = s.inHd[ci]
	s.inHd[ci] = ri
}

// originSelected reports whether a package of c's origin at c's version
// is selected and recorded, as apko sees it when serving requirement ri.
func (s *state) originSelected(c *cand, ri int32) bool {
	if c.ov < 0 || s.ovGen[c.ov] != s.gen {
		return false
	}
	for x := s.ovHd[c.ov]; x >= 0; x = s.ovNext[x] {
		if s.recorded(x, ri) {
			return true
		}
	}
	return false
}

// recorded reports whether apko has recorded selected package x by the
// time it serves requirement ri (see the package documentation): apko
// resolves world entries with nothing recorded, and records a package once
// the walk of a package requiring it is over. So x counts if the world
// asks for it, install_if added it, or a package Q requires it whose walk
// apko has finished: Q hangs, below the package A where its line from the
// world meets ri's, from a dependency of A that apko walks before the one
// leading to ri, or from a world entry that sorts before ri's. A package
// that ri's requirer, or one above it, requires does not count.
func (s *state) recorded(x, ri int32) bool {
	from := s.cons[ri].from
	if from < 0 {
		return false
	}
	if s.chainFor != from {
		s.markChain(from)
	}
	s.chainRec[from] = ri
	for k := s.inHd[x]; k >= 0; k = s.cons[k].nextIn {
		if s.walkedBefore(k) {
			return true
		}
	}
	return false
}

// walkedBefore reports whether apko has recorded the package meeting
// record k by the time it serves the requirement the chain is marked for.
func (s *state) walkedBefore(k int32) bool {
	q := s.cons[k].from
	if q < 0 {
		return true // the world's, or install_if's
	}
	if s.chain[q] == s.chainMark {
		return false
	}
	b := s.via[q]
	for a := s.cons[b].from; a >= 0 && s.chain[a] != s.chainMark; a = s.cons[b].from {
		b = s.via[a]
	}
	a := s.cons[b].from
	if a >= 0 {
		return s.walkOrder(b, s.chainRec[a]) < 0
	}
	// Another world entry (apko walks them in sorted order), or install_if,
	// whose packages apko adds once a world entry's walk is over.
	root := &s.cons[s.chainRoot]
	return a != fromWorld || root.from != fromWorld || s.cons[b].dep.text < root.dep.text
}

// walkOrder orders two requirements of one package as apko walks them:
// fewer candidates first (counted on the whole index), then by text.
func (s *state) walkOrder(a, b int32) int {
	da, db := s.cons[a].dep, s.cons[b].dep
	if na, nb := s.candidates(da), s.candidates(db); na != nb {
		return cmp.Compare(na, nb)
	}
	return strings.Compare(da.text, db.text)
}

// candidates is r.candidates, kept per dependency token.
func (s *state) candidates(d *dep) int32 {
	if d.id < 0 {
		return int32(s.r.candidates(d))
	}
	if s.depCands[d.id] == 0 {
		s.depCands[d.id] = int32(s.r.candidates(d)) + 1
	}
	return s.depCands[d.id] - 1
}

// markChain marks from and the packages that brought it in, up to the
// world: the walks apko has not finished while it serves from. Each
// records in chainRec the requirement through which the chain goes on
// below it.
func (s *state) markChain(from int32) {
	if s.chainMark++; s.chainMark == 0 {
		clear(s.chain)
		s.chainMark = 1
	}
	s.chainFor = from
	rec := int32(-1)
	for ci := from; ci >= 0; ci = s.cons[rec].from {
		s.chain[ci] = s.chainMark
		if rec >= 0 {
			s.chainRec[ci] = rec
		}
		rec = s.via[ci]
	}
	s.chainRoot = rec
}

// addCons records a constraint and links it on its name.
func (s *state) addCons(d *dep, name, from int32) int32 {
	ri := int32(len(s.cons))
	rec := consRec{dep: d, name: name, from: from, next: -1, to: -1, nextIn: -1}
	if d != nil && name >= 0 {
		s.touch(name)
		rec.next = s.consHd[name]
		s.consHd[name] = ri
	}
	s.cons = append(s.cons, rec)
	return ri
}

// reqMask is the pinning a requirement passes on.
func (s *state) reqMask(rec *consRec) uint64 {
	m := rec.mask
	if rec.from >= 0 {
		m |= s.mask[rec.from]
	}
	if rec.dep != nil && rec.dep.tag > 0 {
		m |= 1 << rec.dep.tag
	}
	return m
}

func (s *state) hasHints(n int32) bool { return s.hGen[n] == s.rgen && s.hintHd[n] >= 0 }

// hintsOK reports whether provides entry p meets every hint on its name.
func (s *state) hintsOK(n int32, p *prov) bool {
	for h := s.hintHd[n]; h >= 0; h = s.hints[h].next {
		if !s.r.provSatisfies(p, &s.hints[h].dep.d) {
			return false
		}
	}
	return true
}

// addHint records a hint unless an equal one exists; it reports whether
// it is new.
func (s *state) addHint(n int32, d *dep) bool {
	if s.hGen[n] != s.rgen {
		s.hGen[n] = s.rgen
		s.hintHd[n] = -1
	}
	for h := s.hintHd[n]; h >= 0; h = s.hints[h].next {
		if s.hints[h].dep.text == d.text {
			return false
		}
	}
	s.hints = append(s.hints, hint{dep: d, next: s.hintHd[n]})
	s.hintHd[n] = int32(len(s.hints) - 1)
	return true
}
