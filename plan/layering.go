package plan

import (
	"fmt"
	"sort"
	"strings"
)

// DefaultLayerBudget caps the layers kiln makes when a config says nothing
// about layering: one layer per package up to this many, so a one-package
// bump re-uploads one small layer, and the image stays under 50 layers
// with the metadata layer on top.
const DefaultLayerBudget = 48

// Layering is how packages are grouped into layers.
type Layering struct {
	Strategy string // "origin" (the only strategy apko has) or "" for kiln's default
	Budget   int    // maximum number of package layers; 0 = DefaultLayerBudget
}

// Member is what grouping needs to know of a package.
type Member struct {
	Name          string
	Origin        string
	InstalledSize uint64
	Replaces      []string // r: entries, possibly with version constraints
}

// Group splits packages (given in install order) into at most budget
// layers and returns each layer's member indexes.
//
// With strategy "origin", as in apko: packages group by origin (the
// subpackages of one source build change together), groups holding a
// package and one it replaces are merged (so which file wins never depends
// on layer order), and when there are more groups than the budget the
// budget-1 largest keep their own layers and the rest share one. With the
// default strategy each package is its own group before the budget applies.
//
// Layers are ordered by their first package's install position, and
// packages keep install order inside a layer.
func Group(members []Member, l Layering) ([][]int, error) {
	switch l.Strategy {
	case "", "origin":
	default:
		return nil, fmt.Errorf("layering: unknown strategy %q (known: origin)", l.Strategy)
	}
	budget := l.Budget
	if budget == 0 {
		budget = DefaultLayerBudget
	}
	if budget < 1 {
		return nil, fmt.Errorf("layering: budget %d is less than 1", budget)
	}
	if len(members) == 0 {
		return nil, nil
	}

	parent := make([]int, len(members))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int) {
		ra, rb := find(a), find(b)
		if ra == rb {
			return
		}
		if ra > rb {
			ra, rb = rb, ra
		}
		parent[rb] = ra // the root is always the earliest member
	}

	byName := map[string]int{}
	byOrigin := map[string]int{}
	for i, m := range members {
		byName[m.Name] = i
		if l.Strategy == "origin" {
			origin := m.Origin
			if origin == "" {
				origin = m.Name
			}
			if j, ok := byOrigin[origin]; ok {
				union(i, j)
			} else {
				byOrigin[origin] = i
			}
		}
	}
	for i, m := range members {
		for _, r := range m.Replaces {
			if j, ok := byName[replacedName(r)]; ok {
				union(i, j)
			}
		}
	}

	type group struct {
		root int
		size uint64
		idx  []int
	}
	var groups []*group
	byRoot := map[int]*group{}
	for i, m := range members {
		r := find(i)
		g := byRoot[r]
		if g == nil {
			g = &group{root: r}
			byRoot[r] = g
			groups = append(groups, g)
		}
		g.idx = append(g.idx, i)
		g.size += m.InstalledSize
	}

	if len(groups) > budget {
		bySize := append([]*group(nil), groups...)
		sort.SliceStable(bySize, func(a, b int) bool {
			if bySize[a].size != bySize[b].size {
				return bySize[a].size > bySize[b].size
			}
			return bySize[a].root < bySize[b].root
		})
		keep := map[*group]bool{}
		for _, g := range bySize[:budget-1] {
			keep[g] = true
		}
		var rest *group
		var kept []*group
		for _, g := range groups {
			if keep[g] {
				kept = append(kept, g)
				continue
			}
			if rest == nil {
				rest = &group{root: g.root}
				kept = append(kept, rest)
			}
			rest.idx = append(rest.idx, g.idx...)
		}
		sort.Ints(rest.idx)
		groups = kept
	}
	out := make([][]int, len(groups))
	for i, g := range groups {
		out[i] = g.idx
	}
	return out, nil
}

// replacedName strips a version constraint from an r: entry.
func replacedName(r string) string {
	if i := strings.IndexAny(r, "<>=~"); i >= 0 {
		return r[:i]
	}
	return r
}
