package version

import "strings"

// compare orders the token lists a and b of the versions ra and rb. With
// fuzzy, a that goes on past the end of b compares equal: b is then a
// prefix pattern (apk's ~).
func compare(a, b []token, ra, rb string, fuzzy bool) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := a[i], b[i]
		if x == y && !x.slow() {
			continue
		}
		if x.kind() != y.kind() {
			return tail(a, b, i, fuzzy)
		}
		if (x | y).slow() {
			if r := compareText(x, y, ra, rb); r != 0 {
				return r
			}
			continue
		}
		// Same kind, both values in the payload: integer order.
		if x < y {
			return -1
		}
		return 1
	}
	return tail(a, b, n, fuzzy)
}

// tail decides once the versions agree on tokens [0,i) and token i
// differs in kind (or one or both have ended).
func tail(a, b []token, i int, fuzzy bool) int {
	ak, bk := kEnd, kEnd
	if i < len(a) {
		ak = a[i].kind()
	}
	if i < len(b) {
		bk = b[i].kind()
	}
	if ak == bk || (fuzzy && bk == kEnd) {
		return 0
	}
	// The version that goes on is newer, unless it goes on with a
	// pre-release suffix; between two that go on differently, the
	// earlier kind of token is newer (1.0.1 > 1.0a > 1.0_p1 > 1.0-r1).
	if ak == kSuffix && a[i].payload() < suffixNone {
		return -1
	}
	if bk == kSuffix && b[i].payload() < suffixNone {
		return 1
	}
	if ak > bk {
		return -1
	}
	return 1
}

// compareText handles the tokens that cannot be ordered by payload alone;
// at least one of x and y is slow.
func compareText(x, y token, ra, rb string) int {
	if x.kind() == kHash {
		return strings.Compare(hashText(ra, x), hashText(rb, y))
	}
	// Numbers: rank them leading-zero ".N" < in the payload < too big.
	// A leading-zero ".N" sorts as a string, and as a string it is below
	// any number without one ('0' < '1'…'9'); a slow number of any kind is
	// 2^59 or more, above every payload.
	xr, yr := numberRank(x, ra), numberRank(y, rb)
	switch {
	case xr != yr:
		return cmpInt(xr, yr)
	case xr == rankLeadingZero:
		return strings.Compare(digitText(ra, x), digitText(rb, y))
	}
	return compareBig(digitText(ra, x), digitText(rb, y))
}

const (
	rankLeadingZero = iota
	rankPayload
	rankBig
)

func numberRank(t token, s string) int {
	switch {
	case !t.slow():
		return rankPayload
	case s[t.payload()] == '0' && t.kind() == kDigit:
		return rankLeadingZero
	}
	return rankBig
}

// compareBig orders decimal numbers of any length by value.
func compareBig(x, y string) int {
	x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
	if len(x) != len(y) {
		return cmpInt(len(x), len(y))
	}
	return strings.Compare(x, y)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// digitText returns the digits of a slow number token.
func digitText(s string, t token) string {
	off := int(t.payload())
	return s[off:digitsEnd(s, off)]
}

func hashText(s string, t token) string {
	off := int(t.payload())
	return s[off:hexEnd(s, off)]
}
