package resolve

import "github.com/kiln-build/kiln/apk/index"

// Solution is what to install for one architecture.
type Solution struct {
	Arch     string
	Packages []*Resolved // install order: dependencies before dependents (cycles broken deterministically)
}

// Resolved is one package to install.
type Resolved struct {
	Package    *index.Package
	Repository *Repository
	Depends    []*Resolved // direct dependencies as resolved, in D: order (the SBOM's DEPENDS_ON)
}

// solution builds the result of a successful attempt in a handful of
// allocations: all Resolved values and all Depends share two backing
// arrays.
func (s *state) solution() *Solution {
	r := s.r
	n := len(s.order)
	res := make([]Resolved, n)
	edges := 0
	for _, ci := range s.order {
		edges += s.depCount(ci)
	}
	backing := make([]*Resolved, 0, edges)
	for i, ci := range s.order {
		c := &r.cands[ci]
		start := len(backing)
		for k := s.depRec[ci]; k < s.depRec[ci]+int32(s.depCount(ci)); k++ {
			to := s.cons[k].to
			if to < 0 || to == ci {
				continue
			}
			t := &res[s.selSeq[to]]
			dup := false
			for _, e := range backing[start:] {
				dup = dup || e == t
			}
			if !dup {
				backing = append(backing, t)
			}
		}
		res[i] = Resolved{Package: c.pkg, Repository: &r.repos[c.repo], Depends: backing[start:len(backing):len(backing)]}
		if len(res[i].Depends) == 0 {
			res[i].Depends = nil
		}
	}
	sol := &Solution{Arch: r.arch, Packages: make([]*Resolved, 0, n)}
	for _, rec := range s.cons {
		if rec.from == fromWorld && rec.to >= 0 {
			s.visit(rec.to, res, sol)
		}
		if rec.from != fromWorld {
			break // world records come first
		}
	}
	for _, ci := range s.order {
		s.visit(ci, res, sol)
	}
	for _, ci := range s.order {
		s.vis[ci] = 0
	}
	return sol
}

func (s *state) depCount(ci int32) int {
	c := &s.r.cands[ci]
	return int(c.depsEnd - c.deps)
}

// visit appends ci after its dependencies, depth first in D: order; a
// package selected through install_if also comes after the packages that
// triggered it. An edge back onto the current path (a cycle) is skipped.
func (s *state) visit(ci int32, res []Resolved, sol *Solution) {
	if s.vis[ci] != 0 {
		return
	}
	s.vis[ci] = 1
	for k := s.depRec[ci]; k < s.depRec[ci]+int32(s.depCount(ci)); k++ {
		if to := s.cons[k].to; to >= 0 && s.vis[to] == 0 {
			s.visit(to, res, sol)
		}
	}
	if s.cons[s.via[ci]].from == fromIIF {
		r := s.r
		c := &r.cands[ci]
		for _, di := range r.candIIF[c.iif:c.iifEnd] {
			d := &r.deps[di]
			if d.d.Conflict {
				continue
			}
			if o := s.selectedMatching(d.name, &d.d, -1); o >= 0 && s.vis[o] == 0 {
				s.visit(o, res, sol)
			}
		}
	}
	s.vis[ci] = 2
	sol.Packages = append(sol.Packages, &res[s.selSeq[ci]])
}
