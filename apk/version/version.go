// Package version parses and compares apk versions and dependency
// constraints with apk-tools' rules:
//
//	number{.number}{letter}{_suffix{number}}{~hash}{-rN}
//
// Numbers compare numerically, except that a non-initial number with a
// leading zero on either side compares as a string ("1.01" < "1.1");
// suffixes order alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p;
// a commit hash compares as a string; when one version runs out of
// components first it is older, unless the other continues with a
// pre-release suffix.
package version

import (
	"fmt"
	"strings"
)

type tokenKind uint8

// Token kinds in the order they may appear; a version's tokens never go
// backwards except digit→digit (".N") and suffix→suffix.
const (
	tInitialDigit tokenKind = iota
	tDigit
	tLetter
	tSuffix
	tSuffixNo
	tCommitHash
	tRevision
	tEnd
	tInvalid // ends the tokens of a malformed version (loose comparison only)
)

// Suffix ranks; suffixNone sits between the pre- and post-release ones.
const (
	suffixAlpha = iota + 1
	suffixBeta
	suffixPre
	suffixRC
	suffixNone
	suffixCVS
	suffixSVN
	suffixGit
	suffixHg
	suffixP
)

var suffixRank = map[string]uint64{
	"alpha": suffixAlpha, "beta": suffixBeta, "pre": suffixPre, "rc": suffixRC,
	"cvs": suffixCVS, "svn": suffixSVN, "git": suffixGit, "hg": suffixHg, "p": suffixP,
}

type token struct {
	kind tokenKind
	num  uint64 // number value, letter byte or suffix rank
	text string // digits as written, or the commit hash
}

// Version is a parsed apk version. The zero Version is invalid.
type Version struct {
	raw  string
	toks []token
}

// Parse validates and tokenises s.
func Parse(s string) (Version, error) {
	toks, err := tokenize(s)
	if err != nil {
		return Version{}, err
	}
	return Version{raw: s, toks: toks}, nil
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
	_, err := tokenize(s)
	return err == nil
}

// String returns the version as written.
func (v Version) String() string { return v.raw }

// IsZero reports whether v is the zero (unparsed) Version.
func (v Version) IsZero() bool { return v.toks == nil }

// tokenize splits s into tokens. On malformed input it returns the
// tokens of the valid prefix followed by a tInvalid token, and an error:
// apk-tools compares such versions up to the point where they go wrong.
func tokenize(s string) ([]token, error) {
	var toks []token
	bad := func(why string) ([]token, error) {
		return append(toks, token{kind: tInvalid}), fmt.Errorf("invalid version %q: %s", s, why)
	}
	if s == "" {
		return bad("empty")
	}
	// Most versions have under 8 tokens; size once.
	toks = make([]token, 0, 2+strings.Count(s, ".")+strings.Count(s, "_")*2)
	i, n := 0, len(s)
	digits := func(kind tokenKind) bool {
		start := i
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
		toks = append(toks, numberToken(kind, s[start:i]))
		return true
	}
	if !digits(tInitialDigit) {
		return bad("must start with a number")
	}
	last := tInitialDigit
	for i < n {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			if last > tDigit {
				return bad(fmt.Sprintf("letter %q after %s", c, last))
			}
			toks = append(toks, token{kind: tLetter, num: uint64(c)})
			i++
			last = tLetter
		case c == '.' || (c >= '0' && c <= '9'):
			if c == '.' {
				if last > tDigit {
					return bad(fmt.Sprintf("'.' after %s", last))
				}
				i++
			}
			kind := tDigit
			switch last {
			case tInitialDigit, tDigit:
			case tSuffix:
				kind = tSuffixNo
			default:
				return bad(fmt.Sprintf("number after %s", last))
			}
			if !digits(kind) {
				return bad("'.' must be followed by a number")
			}
			last = kind
		case c == '_':
			if last > tSuffixNo {
				return bad(fmt.Sprintf("suffix after %s", last))
			}
			i++
			start := i
			for i < n && s[i] >= 'a' && s[i] <= 'z' {
				i++
			}
			rank, ok := suffixRank[s[start:i]]
			if !ok {
				return bad(fmt.Sprintf("unknown suffix %q", s[start:i]))
			}
			toks = append(toks, token{kind: tSuffix, num: rank})
			last = tSuffix
		case c == '~':
			if last >= tCommitHash {
				return bad(fmt.Sprintf("'~' after %s", last))
			}
			i++
			start := i
			for i < n && isHex(s[i]) {
				i++
			}
			if i == start {
				return bad("'~' must be followed by a hex commit hash")
			}
			toks = append(toks, token{kind: tCommitHash, text: s[start:i]})
			last = tCommitHash
		case c == '-':
			if last >= tRevision || i+1 >= n || s[i+1] != 'r' {
				return bad("'-' must start the final -rN revision")
			}
			i += 2
			if !digits(tRevision) {
				return bad("-r must be followed by a number")
			}
			last = tRevision
		default:
			return bad(fmt.Sprintf("unexpected %q", c))
		}
	}
	return toks, nil
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// numberToken keeps the digits as written; the value is used when it fits
// in 64 bits, otherwise comparison falls back to the digits.
func numberToken(kind tokenKind, digits string) token {
	t := token{kind: kind, text: digits}
	if len(digits) <= 19 {
		for j := 0; j < len(digits); j++ {
			t.num = t.num*10 + uint64(digits[j]-'0')
		}
	} else {
		t.num = ^uint64(0) // marker: compare digits instead
	}
	return t
}

func (k tokenKind) String() string {
	switch k {
	case tInitialDigit, tDigit:
		return "a number"
	case tLetter:
		return "a letter"
	case tSuffix, tSuffixNo:
		return "a suffix"
	case tCommitHash:
		return "the commit hash"
	case tRevision:
		return "the revision"
	}
	return "the end"
}

// Compare orders v and o: -1 when v is older, 0 when equal, +1 when newer.
func (v Version) Compare(o Version) int { return compare(v.toks, o.toks, false) }

// CompareLoose orders two version strings the way apk-tools does even
// when they are malformed: components are compared up to the first bad
// one. For indexes that carry such versions; user input goes through Parse.
func CompareLoose(a, b string) int {
	ta, _ := tokenize(a)
	tb, _ := tokenize(b)
	return compare(ta, tb, false)
}

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

// compare implements apk's ordering; with fuzzy, a that continues past
// the end of b compares equal (b is a prefix constraint).
func compare(a, b []token, fuzzy bool) int {
	i := 0
	for ; i < len(a) && i < len(b) && a[i].kind == b[i].kind; i++ {
		if r := cmpToken(&a[i], &b[i]); r != 0 {
			return r
		}
	}
	ak, bk := kindAt(a, i), kindAt(b, i)
	if ak == bk || (bk == tEnd && fuzzy) {
		return 0
	}
	// The version that goes on is newer, unless it goes on with a
	// pre-release suffix.
	if ak == tSuffix && a[i].num < suffixNone {
		return -1
	}
	if bk == tSuffix && b[i].num < suffixNone {
		return 1
	}
	if ak > bk {
		return -1
	}
	return 1
}

func kindAt(t []token, i int) tokenKind {
	if i < len(t) {
		return t[i].kind
	}
	return tEnd
}

func cmpToken(a, b *token) int {
	switch a.kind {
	case tDigit:
		if a.text[0] == '0' || b.text[0] == '0' {
			return strings.Compare(a.text, b.text)
		}
		return cmpNumber(a, b)
	case tInitialDigit, tSuffixNo, tRevision:
		return cmpNumber(a, b)
	case tCommitHash:
		return strings.Compare(a.text, b.text)
	}
	return cmpUint(a.num, b.num)
}

func cmpNumber(a, b *token) int {
	const big = ^uint64(0)
	if a.num != big && b.num != big {
		return cmpUint(a.num, b.num)
	}
	// At least one has 20+ digits: compare without leading zeros, longer
	// is larger, then digit by digit.
	x, y := strings.TrimLeft(a.text, "0"), strings.TrimLeft(b.text, "0")
	if len(x) != len(y) {
		return cmpUint(uint64(len(x)), uint64(len(y)))
	}
	return strings.Compare(x, y)
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
