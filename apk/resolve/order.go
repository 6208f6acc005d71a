package resolve

import (
	"cmp"
	"strings"

	"github.com/kiln-build/kiln/apk/version"
)

// The ranking of providers follows apko's (pkg/apk/apk/repo.go,
// comparePackages as its resolver calls it). Its first keys depend on the
// selection and are applied by state.pick; the static keys are here:
//
//  4. the higher version under the requested name, when both carry one
//     (an unversioned provide ties with anything);
//  5. between two versions of one package, the higher;
//  6. higher provider_priority;
//  7. the higher package version, whatever the names;
//  8. package name;
//
// then repository order and index order, the order apko scans them in.
//
// A version apko cannot parse loses to one it can. apko ranks a so: name's
// version that has no -rN release as 0.VERSION, so that the package-versioned
// provides melange now writes (so:libfoo.so.1=1.2.3-r0) beat the older
// soname-versioned ones (so:libfoo.so.1=1.2.3).
//
// Keys 4 and 5 only compare some pairs, so on some lists the order is not
// transitive and a sort is undefined. A list is regular when its providers
// are all versioned for the name or all unversioned, and all versions of a
// package in it have one provider_priority: there key 5 agrees with keys 6
// and 7 and the keys are a plain lexicographic order, which the sorted list
// follows exactly. Other lists (irregular) are sorted by a transitive
// stand-in and pick compares their candidates with the exact keys.

// compareProviders orders provides entries a and b for name n, negative
// when a is preferred. exact applies apko's keys as written; otherwise
// versioned providers go before unversioned ones and key 5 is left out,
// which makes a total order that equals the exact one on regular lists.
func (r *Resolver) compareProviders(n, a, b int32, exact bool) int {
	pa, pb := &r.provs[a], &r.provs[b]
	switch {
	case pa.hasVer && pb.hasVer:
		if pa.raw != pb.raw {
			if c := newerUnderName(pa, pb); c != 0 {
				return c
			}
		}
	case !exact && pa.hasVer != pb.hasVer:
		if pa.hasVer {
			return -1
		}
		return 1
	}
	ca, cb := &r.cands[pa.cand], &r.cands[pb.cand]
	va, vb := rankVer{ca.ver, ca.loose, ca.pkg.Version}, rankVer{cb.ver, cb.loose, cb.pkg.Version}
	sameVersion := ca.pkg.Version == cb.pkg.Version
	if exact && ca.name == cb.name && !sameVersion {
		if c := newerFirst(va, vb); c != 0 {
			return c
		}
	}
	if ca.prio != cb.prio {
		return cmp.Compare(cb.prio, ca.prio)
	}
	if !sameVersion {
		if c := newerFirst(va, vb); c != 0 {
			return c
		}
	}
	if c := strings.Compare(ca.pkg.Name, cb.pkg.Name); c != 0 {
		return c
	}
	if ca.repo != cb.repo {
		return cmp.Compare(ca.repo, cb.repo)
	}
	return cmp.Compare(pa.cand, pb.cand)
}

// rankVer is a version as ranked: parsed, or loose when malformed.
type rankVer struct {
	v     version.Version
	loose bool
	raw   string
}

// newerUnderName compares the versions a and b carry for their name as
// apko ranks them. Shifting both to 0.VERSION keeps their order unless a
// major number has a leading zero (it would then compare as a fraction),
// so only a shifted version against an unshifted one, or that case, needs
// the shifted text parsed; both are rare.
func newerUnderName(a, b *prov) int {
	if a.shift == b.shift && !(a.shift && (strings.HasPrefix(a.raw, "0") || strings.HasPrefix(b.raw, "0"))) {
		return newerFirst(rankVer{a.ver, a.loose, a.raw}, rankVer{b.ver, b.loose, b.raw})
	}
	return newerFirst(shifted(a), shifted(b))
}

// shifted is the version p carries for its name as apko ranks it.
func shifted(p *prov) rankVer {
	if !p.shift {
		return rankVer{p.ver, p.loose, p.raw}
	}
	s := "0." + p.raw
	v, err := version.Parse(s)
	return rankVer{v, err != nil, s}
}

// newerFirst is negative when a is the higher version. A malformed version
// loses to a well-formed one; two malformed ones compare as apk compares
// them (apko leaves that case unordered).
func newerFirst(a, b rankVer) int {
	switch {
	case a.loose && b.loose:
		return -version.CompareLoose(a.raw, b.raw)
	case a.loose:
		return 1
	case b.loose:
		return -1
	}
	return -a.v.Compare(b.v)
}

// shiftedSoVersion reports whether apko ranks version v provided for name
// as 0.v: a so: name whose version does not end in a release -rN.
func shiftedSoVersion(name, v string) bool {
	if !strings.HasPrefix(name, "so:") {
		return false
	}
	i := strings.LastIndex(v, "-r")
	if i < 0 || i+2 == len(v) {
		return true
	}
	for _, c := range v[i+2:] {
		if c < '0' || c > '9' {
			return true
		}
	}
	return false
}
