package resolve

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/version"
)

// ResolveArchs resolves world for several architectures together, as apko
// does for a multi-arch image: a name-version is a candidate only if every
// architecture has it (a noarch package counts as present everywhere, and
// is offered from the repository that has it to architectures whose
// indexes lack it), and when the architectures still settle on different
// versions of a name, the higher is ruled out everywhere and all are
// resolved again. So every name installed on several architectures has
// the same version on each. A name may still be installed on only some
// architectures when their packages' dependencies differ.
//
// Installed packages (Repository.Installed: a base image's) belong to
// their own architecture: they need not exist elsewhere, and a name
// installed on any architecture is left out of the agreement, since its
// version there was settled before this resolution.
func ResolveArchs(reposByArch map[string][]Repository, world []string) (map[string]*Solution, error) {
	archs := make([]string, 0, len(reposByArch))
	for a := range reposByArch {
		archs = append(archs, a)
	}
	sort.Strings(archs)
	switch len(archs) {
	case 0:
		return nil, fmt.Errorf("no architectures to resolve for")
	case 1:
		r, err := New(reposByArch[archs[0]])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", archs[0], err)
		}
		sol, err := r.Resolve(world)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", archs[0], err)
		}
		sol.Arch = archs[0]
		return map[string]*Solution{archs[0]: sol}, nil
	}
	m := newMultiArch(reposByArch, archs)
	resolvers := make([]*Resolver, len(archs))
	pre := make([]map[int32]string, len(archs))
	for i, a := range archs {
		r, err := New(m.reposFor(i))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		resolvers[i] = r
		pre[i] = m.missing(r, i)
	}
	together := "resolving " + strings.Join(archs, ", ") + " together"
	for round := 0; ; round++ {
		sols := make([]*Solution, len(archs))
		for i, r := range resolvers {
			sol, err := r.resolve(world, pre[i])
			if err != nil {
				return nil, fmt.Errorf("%s (%s): %w", archs[i], together, err)
			}
			sol.Arch = archs[i]
			sols[i] = sol
		}
		name, ver, why := disagreement(archs, sols, m.installed)
		if name == "" {
			out := make(map[string]*Solution, len(archs))
			for i, a := range archs {
				out[a] = sols[i]
			}
			return out, nil
		}
		if round > 1000 {
			return nil, fmt.Errorf("%s: versions keep disagreeing: %s", together, why)
		}
		for i, r := range resolvers {
			for _, ci := range r.candsOf(name, ver) {
				pre[i][ci] = fmt.Sprintf("%s-%s: ruled out: %s", name, ver, why)
			}
		}
	}
}

// multiArch indexes which name-versions each architecture has.
type multiArch struct {
	repos   map[string][]Repository
	archs   []string
	present map[string]uint64 // name-version → bit per architecture having it
	noarch  map[string]noarchSrc
	// installed names some architecture already has (Repository.Installed)
	installed map[string]bool
}

type noarchSrc struct {
	pkg  *index.Package
	repo *Repository
}

func nv(p *index.Package) string { return p.Name + "\x00" + p.Version }

func newMultiArch(reposByArch map[string][]Repository, archs []string) *multiArch {
	m := &multiArch{repos: reposByArch, archs: archs, present: map[string]uint64{}, noarch: map[string]noarchSrc{},
		installed: map[string]bool{}}
	for i, a := range archs {
		repos := reposByArch[a]
		for j := range repos {
			if repos[j].Installed {
				for _, p := range repos[j].Packages {
					m.installed[p.Name] = true
				}
				continue
			}
			for _, p := range repos[j].Packages {
				k := nv(p)
				m.present[k] |= 1 << i
				if _, ok := m.noarch[k]; !ok && p.Arch == "noarch" {
					m.noarch[k] = noarchSrc{pkg: p, repo: &repos[j]}
				}
			}
		}
	}
	return m
}

// reposFor is architecture i's repositories plus, after them, the noarch
// packages only other architectures list, from the repository listing them.
func (m *multiArch) reposFor(i int) []Repository {
	a := m.archs[i]
	out := slices.Clone(m.repos[a])
	var extra []Repository
	keys := make([]string, 0)
	for k := range m.noarch {
		if m.present[k]&(1<<i) == 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		src := m.noarch[k]
		j := slices.IndexFunc(extra, func(r Repository) bool { return r.Name == src.repo.Name && r.Tag == src.repo.Tag })
		if j < 0 {
			extra = append(extra, Repository{Name: src.repo.Name, Tag: src.repo.Tag, Arch: a})
			j = len(extra) - 1
		}
		extra[j].Packages = append(extra[j].Packages, src.pkg)
	}
	return append(out, extra...)
}

// missing rules out, in r (architecture i), the packages some other
// architecture lacks.
func (m *multiArch) missing(r *Resolver, i int) map[int32]string {
	all := uint64(1)<<len(m.archs) - 1
	out := map[int32]string{}
	for ci := range r.cands {
		p := r.cands[ci].pkg
		if p.Arch == "noarch" || r.repos[r.cands[ci].repo].Installed {
			continue
		}
		if have := m.present[nv(p)]; have != all {
			var lack []string
			for j, a := range m.archs {
				if have&(1<<j) == 0 {
					lack = append(lack, a)
				}
			}
			out[int32(ci)] = fmt.Sprintf("%s: ruled out: not available for %s", r.candString(int32(ci)), strings.Join(lack, ", "))
		}
	}
	return out
}

// candsOf lists r's candidates with this name and version.
func (r *Resolver) candsOf(name, ver string) []int32 {
	id, ok := r.nameID[name]
	if !ok {
		return nil
	}
	var out []int32
	for _, pi := range r.providers(id) {
		if p := r.cands[r.provs[pi].cand].pkg; p.Name == name && p.Version == ver {
			out = append(out, r.provs[pi].cand)
		}
	}
	return out
}

// disagreement finds the first name (in name order) installed with
// different versions, and the highest of them, which must go.
func disagreement(archs []string, sols []*Solution, installed map[string]bool) (name, ver, why string) {
	type pick struct {
		arch int
		p    *index.Package
	}
	picks := map[string][]pick{}
	for i, sol := range sols {
		for _, rp := range sol.Packages {
			picks[rp.Package.Name] = append(picks[rp.Package.Name], pick{i, rp.Package})
		}
	}
	names := make([]string, 0, len(picks))
	for n, ps := range picks {
		if installed[n] {
			continue
		}
		for _, p := range ps[1:] {
			if p.p.Version != ps[0].p.Version {
				names = append(names, n)
				break
			}
		}
	}
	if len(names) == 0 {
		return "", "", ""
	}
	sort.Strings(names)
	ps := picks[names[0]]
	best := ps[0]
	var seen []string
	for _, p := range ps {
		seen = append(seen, archs[p.arch]+" chose "+p.p.Version)
		if version.CompareLoose(p.p.Version, best.p.Version) > 0 {
			best = p
		}
	}
	return names[0], best.p.Version, fmt.Sprintf("architectures disagree on %s (%s); every architecture must install the same version", names[0], strings.Join(seen, ", "))
}
