package resolve

import (
	"cmp"
	"strings"

	"github.com/kiln-build/kiln/apk/version"
)

// compareProviders is the static preference between two provides entries
// for name n (negative: a first). It is a lexicographic order over the
// keys listed in the package documentation (steps 3 to 7), so that
// sorting is well defined:
//
//   - versioned for n before unversioned;
//   - higher version under n (provided version; the package's own for n);
//   - the package really named n;
//   - higher provider_priority;
//   - package name, higher package version, repository order, index order.
func (r *Resolver) compareProviders(n, a, b int32) int {
	pa, pb := &r.provs[a], &r.provs[b]
	if pa.hasVer != pb.hasVer {
		if pa.hasVer {
			return -1
		}
		return 1
	}
	if pa.hasVer {
		if c := compareVersions(pa.ver, pb.ver, pa.loose || pb.loose, pa.raw, pb.raw); c != 0 {
			return -c
		}
	}
	ca, cb := &r.cands[pa.cand], &r.cands[pb.cand]
	if ra, rb := ca.name == n, cb.name == n; ra != rb {
		if ra {
			return -1
		}
		return 1
	}
	if ca.prio != cb.prio {
		return cmp.Compare(cb.prio, ca.prio)
	}
	if c := strings.Compare(ca.pkg.Name, cb.pkg.Name); c != 0 {
		return c
	}
	if c := compareVersions(ca.ver, cb.ver, ca.loose || cb.loose, ca.pkg.Version, cb.pkg.Version); c != 0 {
		return -c
	}
	if ca.repo != cb.repo {
		return cmp.Compare(ca.repo, cb.repo)
	}
	return cmp.Compare(pa.cand, pb.cand)
}

// compareVersions orders parsed versions, falling back to apk's loose
// comparison of the strings when either is malformed.
func compareVersions(a, b version.Version, loose bool, ra, rb string) int {
	if loose {
		return version.CompareLoose(ra, rb)
	}
	return a.Compare(b)
}
