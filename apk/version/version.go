// Package version parses and orders apk package versions and parses
// dependency constraints, following apk-tools 3 (src/version.c):
//
//	number{.number}{letter}{_suffix{number}}{~hash}{-rN}
//
// Ordering, token by token:
//   - numbers compare numerically, except that a non-initial ".N" component
//     with a leading zero on either side compares as a string, so
//     1.01 < 1.1 and 1.0 < 1.00 < 1.001 < 1.01;
//   - a letter compares by its byte;
//   - suffixes order alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p;
//   - a ~hash compares as a string; -rN numerically;
//   - when one version runs out of tokens, or continues with a different
//     kind of token, the one that continues is newer unless what follows
//     is a pre-release suffix; between two that continue differently,
//     the earlier kind of token wins:
//     1.0_rc1 < 1.0 < 1.0-r1 < 1.0~ab < 1.0_p1 < 1.0a < 1.0.1.
//
// apk-tools 2.x differs on inputs that are rare in practice: it rejects
// "~hash", accepts a digit after a letter ("0.99f7"), orders leading-zero
// components differently (8.2.001 < 8.2.0 there) and rejects components
// of 18+ digits. This package follows the newer rules throughout; see
// Dependency.Matches for the fuzzy operators.
//
// One deliberate deviation from apk-tools 3: numbers too large for 64
// bits compare by value (apk lets them wrap around).
package version

import "fmt"

// Version is a parsed apk version, tokenised once so that Compare does
// not allocate. The zero Version is not a valid version; it sorts before
// every valid one.
type Version struct {
	raw  string
	toks []token
}

// inlineTokens covers almost every real version (1.36.1_git20230101_p2-r15
// has 8 tokens), so parsing stays off the heap until the final copy.
const inlineTokens = 16

// Parse validates and tokenises s.
func Parse(s string) (Version, error) {
	var buf [inlineTokens]token
	toks, bad := tokenize(s, buf[:0])
	if bad.why != "" {
		return Version{}, bad.err(s)
	}
	// One exact-size allocation; buf stays on the stack.
	out := make([]token, len(toks))
	copy(out, toks)
	return Version{raw: s, toks: out}, nil
}

// MustParse is Parse for constants; it panics on invalid input.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Valid reports whether s is a valid apk version.
func Valid(s string) bool {
	var buf [inlineTokens]token
	_, bad := tokenize(s, buf[:0])
	return bad.why == ""
}

// String returns the version as written.
func (v Version) String() string { return v.raw }

// IsZero reports whether v is the zero (unparsed) Version.
func (v Version) IsZero() bool { return v.toks == nil }

// Compare orders v and o: -1 when v is older, 0 when equal, +1 when newer.
// Equal versions may be spelled differently (1.0-r01 and 1.0-r1).
func (v Version) Compare(o Version) int { return compare(v.toks, o.toks, v.raw, o.raw, false) }

// Compare parses and compares two version strings.
func Compare(a, b string) (int, error) {
	va, err := Parse(a)
	if err != nil {
		return 0, err
	}
	vb, err := Parse(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

// CompareLoose orders two version strings the way apk-tools does even
// when they are malformed: tokens are compared up to the first bad one,
// and a bad token sorts before anything else. It is for versions found in
// indexes (apk keeps such packages); user input should go through Parse.
// It does not allocate.
func CompareLoose(a, b string) int {
	var ba, bb [inlineTokens]token
	ta, _ := tokenize(a, ba[:0])
	tb, _ := tokenize(b, bb[:0])
	return compare(ta, tb, a, b, false)
}

// failure describes why a version is malformed; why is empty when it is not.
type failure struct {
	why string
	at  int // byte offset of the bad token
}

func (f failure) err(s string) error {
	if f.at >= len(s) {
		return fmt.Errorf("invalid version %q: %s", s, f.why)
	}
	return fmt.Errorf("invalid version %q: %s at %q", s, f.why, s[f.at:])
}
