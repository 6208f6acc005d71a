package resolve

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kiln-build/kiln/apk/version"
)

// WorldError is a failure to meet one world entry, which callers can
// point at where the entry was written.
type WorldError struct {
	Entry string // the world entry as given
	msg   string
}

func (e *WorldError) Error() string { return e.msg }

// failure ends an attempt: give up with final, or learn a hint
// (hintName, hintDep) or rule out a candidate (exclude, why) and retry.
type failure struct {
	final    error
	hintName int32
	hintDep  *dep
	exclude  int32
	why      string
}

// fail decides what requirement ri's failure teaches. Only reached when
// an attempt fails, so it may allocate.
func (s *state) fail(ri int32) *failure {
	r := s.r
	rec := &s.cons[ri]
	d, n := rec.dep, rec.name
	if n >= 0 {
		// A selected package holds the name without meeting d.
		s.touch(n)
		holder := s.occ[n]
		if holder < 0 {
			holder = s.shared[n]
		}
		if holder >= 0 {
			o := r.provs[holder].cand
			if s.addHintIfNew(n, d) {
				return &failure{hintName: n, hintDep: d}
			}
			return s.excludeLater(o, rec.from, fmt.Sprintf("%s: ruled out: %s is not met by it", r.candString(o), s.req(ri)),
				fmt.Sprintf("%s is not met by selected %s", d.text, r.candString(o)))
		}
		// Candidates that meet d but clash with the selection.
		allowed, _ := s.nameMask(n)
		for _, pi := range r.providers(n) {
			p := &r.provs[pi]
			if !s.usable(p.cand, allowed) || !r.provSatisfies(p, &d.d) {
				continue
			}
			if f := s.learn(ri, p.cand, s.blocker(p.cand)); f != nil {
				return f
			}
		}
	}
	// Nothing to learn below: the requirer is at fault.
	why := s.explain(ri)
	if rec.from == fromWorld {
		return &failure{final: &WorldError{Entry: rec.dep.text, msg: s.req(ri) + ": " + why}}
	}
	if rec.from < 0 {
		return &failure{final: errors.New(s.req(ri) + ": " + why)}
	}
	return &failure{exclude: rec.from, why: s.req(ri) + ": " + why}
}

// addHintIfNew reports whether d is new as a hint on n (the caller then
// returns it; resolve records it).
func (s *state) addHintIfNew(n int32, d *dep) bool {
	if s.hGen[n] == s.rgen {
		for h := s.hintHd[n]; h >= 0; h = s.hints[h].next {
			if s.hints[h].dep.text == d.text {
				return false
			}
		}
	}
	return true
}

// learn turns candidate ci's block into a hint or an exclusion, or returns
// nil when the block cannot be lifted (the world imposes it).
func (s *state) learn(ri, ci int32, b block) *failure {
	r := s.r
	from := s.cons[ri].from
	need := s.req(ri) + " needs " + r.candString(ci)
	switch b.kind {
	case blockNone:
		return nil // pick would have taken it
	case blockTaken:
		// Prefer, next time, the version of the name that ci provides.
		if p := &r.provs[b.prov]; p.hasVer {
			h := &dep{name: b.name, id: -1, d: version.Dependency{Name: r.names[b.name], Op: version.OpEqual, Version: p.raw}}
			h.text = h.d.String()
			if s.addHintIfNew(b.name, h) {
				return &failure{hintName: b.name, hintDep: h}
			}
		}
		return s.excludeLater(b.other, from,
			fmt.Sprintf("%s: ruled out: %s, which would take %s from it", r.candString(b.other), need, r.names[b.name]),
			fmt.Sprintf("%s would take %s from selected %s", r.candString(ci), r.names[b.name], r.candString(b.other)))
	case blockConstraint, blockConflict:
		k := &s.cons[b.rec]
		verb := "does not meet"
		if b.kind == blockConflict {
			verb = "is forbidden by"
		}
		if k.from < 0 {
			return nil // the world imposes it: try the next candidate
		}
		return s.excludeLater(k.from, from,
			fmt.Sprintf("%s: ruled out: %s, which %s %s", s.who(k.from), need, verb, s.req(b.rec)),
			fmt.Sprintf("%s %s %s", r.candString(ci), verb, s.req(b.rec)))
	case blockOwnConflict:
		return s.excludeLater(b.other, from,
			fmt.Sprintf("%s: ruled out: %s, which has %s", r.candString(b.other), need, b.dep.text),
			fmt.Sprintf("%s -> %s conflicts with selected %s", r.candString(ci), b.dep.text, r.candString(b.other)))
	case blockDepUnmet:
		if s.addHintIfNew(b.name, b.dep) {
			return &failure{hintName: b.name, hintDep: b.dep}
		}
		return s.excludeLater(b.other, from,
			fmt.Sprintf("%s: ruled out: %s, which needs %s", r.candString(b.other), need, b.dep.text),
			fmt.Sprintf("%s -> %s is not met by selected %s", r.candString(ci), b.dep.text, r.candString(b.other)))
	}
	return nil
}

// excludeLater rules out whichever of other and the requirer from was
// selected later, keeping decisions closer to the world; the world and
// install_if triggers are never ruled out.
func (s *state) excludeLater(other, from int32, whyOther, whyFrom string) *failure {
	switch {
	case other < 0 && from < 0:
		return nil
	case from < 0 || (other >= 0 && s.selSeq[other] > s.selSeq[from]):
		return &failure{exclude: other, why: whyOther}
	}
	return &failure{exclude: from, why: s.r.candString(from) + ": ruled out: " + whyFrom}
}

// req renders requirement ri: "world: foo>=2" or "app-1-r0 -> so:libfoo.so.1".
func (s *state) req(ri int32) string {
	rec := &s.cons[ri]
	switch rec.from {
	case fromWorld:
		return "world: " + rec.dep.text
	case fromIIF:
		return "install_if " + s.r.names[rec.name]
	}
	return s.r.candString(rec.from) + " -> " + rec.dep.text
}

func (s *state) who(from int32) string {
	if from < 0 {
		return "world"
	}
	return s.r.candString(from)
}

// maxListed caps the candidates an error lists.
const maxListed = 5

// explain says why nothing meets requirement ri.
func (s *state) explain(ri int32) string {
	r := s.r
	rec := &s.cons[ri]
	d, n := rec.dep, rec.name
	provs := r.providers(n)
	if len(provs) == 0 {
		return "provided by nothing in " + r.repoList
	}
	allowed, _ := s.nameMask(n)
	var versions, rows, pinned []string
	for _, pi := range provs {
		p := &r.provs[pi]
		ci := p.cand
		c := &r.cands[ci]
		if !r.provSatisfies(p, &d.d) {
			versions = append(versions, r.provLabel(p, n))
			continue
		}
		switch {
		case c.broken():
			rows = append(rows, r.brokenReason(ci, 0))
		case s.excluded(ci):
			rows = append(rows, s.exWhy[ci])
		case c.tag != 0 && allowed&(1<<c.tag) == 0:
			pinned = append(pinned, r.candString(ci)+" (@"+r.tags[c.tag]+")")
		default:
			if b := s.blocker(ci); b.kind != blockNone {
				rows = append(rows, s.describe(ci, b))
			}
		}
	}
	var parts []string
	if len(rows) > 0 {
		parts = append(parts, list(rows))
	}
	if len(pinned) > 0 {
		parts = append(parts, "only in pinned repositories: "+list(pinned)+"; ask for "+d.d.Name+"@TAG")
	}
	if len(parts) == 0 {
		return "only versions " + listSep(dedupe(versions), ", ") + " available in " + r.repoList
	}
	return strings.Join(parts, "; ")
}

// describe renders a block for an error.
func (s *state) describe(ci int32, b block) string {
	r := s.r
	c := r.candString(ci)
	switch b.kind {
	case blockTaken:
		return fmt.Sprintf("%s would take %s from selected %s", c, r.names[b.name], r.candString(b.other))
	case blockConstraint:
		return fmt.Sprintf("%s does not meet %s", c, s.req(b.rec))
	case blockConflict:
		return fmt.Sprintf("%s is forbidden by %s", c, s.req(b.rec))
	case blockOwnConflict:
		return fmt.Sprintf("%s -> %s conflicts with selected %s", c, b.dep.text, r.candString(b.other))
	case blockDepUnmet:
		return fmt.Sprintf("%s -> %s is not met by selected %s", c, b.dep.text, r.candString(b.other))
	}
	return c
}

// brokenReason says why a candidate can never be installed.
func (r *Resolver) brokenReason(ci int32, depth int) string {
	c := &r.cands[ci]
	if c.badTok != "" {
		return fmt.Sprintf("%s: unreadable dependency %q", r.candString(ci), c.badTok)
	}
	d := &r.deps[c.badDep]
	return r.candString(ci) + " -> " + d.text + ": " + r.staticExplain(d, depth+1)
}

// staticExplain says why nothing installable meets d, whatever else is
// selected.
func (r *Resolver) staticExplain(d *dep, depth int) string {
	provs := r.providers(d.name)
	if len(provs) == 0 {
		return "provided by nothing in " + r.repoList
	}
	var versions, rows []string
	for _, pi := range provs {
		p := &r.provs[pi]
		switch {
		case !r.provSatisfies(p, &d.d):
			versions = append(versions, r.provLabel(p, d.name))
		case depth > 8:
			rows = append(rows, r.candString(p.cand)+" is uninstallable")
		default:
			rows = append(rows, r.brokenReason(p.cand, depth))
		}
	}
	if len(rows) > 0 {
		return list(rows)
	}
	return "only versions " + listSep(dedupe(versions), ", ") + " available in " + r.repoList
}

// provLabel renders what p offers for name n: "1.0-r0" for a package of
// that name, "1.2 (libfoo-1.2-r0)" or "unversioned (sh-1-r0)" for provides.
func (r *Resolver) provLabel(p *prov, n int32) string {
	c := &r.cands[p.cand]
	switch {
	case c.name == n:
		return p.raw
	case p.hasVer:
		return p.raw + " (" + r.candString(p.cand) + ")"
	}
	return "unversioned (" + r.candString(p.cand) + ")"
}

func list(items []string) string { return listSep(items, "; ") }

func listSep(items []string, sep string) string {
	if len(items) > maxListed {
		return strings.Join(items[:maxListed], sep) + fmt.Sprintf("%sand %d more", sep, len(items)-maxListed)
	}
	return strings.Join(items, sep)
}

func dedupe(ss []string) []string {
	out := ss[:0]
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
