package resolve

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kiln-build/kiln/apk/index"
)

// ResolveArchs resolves world for several architectures together, as apko
// does: only name-versions present on every architecture are candidates
// (noarch packages are listed in each arch's index), so every architecture
// installs the same name-version set.
func ResolveArchs(reposByArch map[string][]Repository, world []string) (map[string]*Solution, error) {
	archs := make([]string, 0, len(reposByArch))
	for a := range reposByArch {
		archs = append(archs, a)
	}
	sort.Strings(archs)
	if len(archs) == 0 {
		return nil, fmt.Errorf("no architectures to resolve for")
	}
	filtered := reposByArch
	if len(archs) > 1 {
		filtered = commonOnly(reposByArch, archs)
	}
	out := map[string]*Solution{}
	for _, a := range archs {
		r, err := New(filtered[a])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		sol, err := r.Resolve(world)
		if err != nil {
			if len(archs) > 1 {
				return nil, fmt.Errorf("%s (resolving %s together; a package must exist on all of them): %w", a, strings.Join(archs, ", "), err)
			}
			return nil, err
		}
		sol.Arch = a
		out[a] = sol
	}
	if len(archs) > 1 {
		first := nameVersions(out[archs[0]])
		for _, a := range archs[1:] {
			if got := nameVersions(out[a]); got != first {
				return nil, fmt.Errorf("resolved different packages for %s and %s:\n  %s\n  %s", archs[0], a, first, got)
			}
		}
	}
	return out, nil
}

// commonOnly keeps, on every arch, the packages whose name-version is
// available on all archs.
func commonOnly(reposByArch map[string][]Repository, archs []string) map[string][]Repository {
	count := map[string]int{}
	for _, a := range archs {
		seen := map[string]bool{}
		for _, repo := range reposByArch[a] {
			for _, p := range repo.Packages {
				k := p.Name + "\x00" + p.Version
				if !seen[k] {
					seen[k] = true
					count[k]++
				}
			}
		}
	}
	out := map[string][]Repository{}
	for _, a := range archs {
		for _, repo := range reposByArch[a] {
			kept := make([]*index.Package, 0, len(repo.Packages))
			for _, p := range repo.Packages {
				if count[p.Name+"\x00"+p.Version] == len(archs) {
					kept = append(kept, p)
				}
			}
			repo.Packages = kept
			out[a] = append(out[a], repo)
		}
	}
	return out
}

func nameVersions(s *Solution) string {
	nv := make([]string, len(s.Packages))
	for i, p := range s.Packages {
		nv[i] = p.Package.Name + "-" + p.Package.Version
	}
	sort.Strings(nv)
	return strings.Join(nv, " ")
}
