package version

type tokenKind uint8

// Token kinds in the order they may appear. The order matters twice: a
// version's tokens never go backwards (except digit→digit and
// suffix→suffix), and when two versions diverge in kind, the one whose
// next token is the earlier kind is the newer (see tail).
const (
	kInitial  tokenKind = iota // first number
	kDigit                     // .N
	kLetter                    // a single a-z after a number
	kSuffix                    // _alpha … _p
	kSuffixNo                  // the number after a suffix name
	kHash                      // ~hex
	kRevision                  // -rN
	kEnd                       // past the last token
	kInvalid                   // the point where a malformed version goes wrong
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

// A token packs into 64 bits, so that two tokens of the same kind whose
// values fit compare as plain integers:
//
//	bits 63-60 kind, bit 59 slow, bits 58-0 payload
//
// The payload is the number's value, the letter byte or the suffix rank;
// for a slow token (a hash, a ".N" with a leading zero, or a number of
// 2^59 or more) it is instead the offset of the text in the version
// string, which is compared by text.
type token uint64

const (
	kindShift   = 60
	slowBit     = token(1) << 59
	payloadMask = slowBit - 1
)

func mkToken(k tokenKind, payload uint64) token { return token(k)<<kindShift | token(payload) }

func slowToken(k tokenKind, off int) token { return mkToken(k, uint64(off)) | slowBit }

func (t token) kind() tokenKind { return tokenKind(t >> kindShift) }

func (t token) slow() bool { return t&slowBit != 0 }

func (t token) payload() uint64 { return uint64(t & payloadMask) }

// tokenize appends the tokens of s to toks. A malformed s yields the
// tokens of its valid prefix followed by one kInvalid token, plus the
// reason; apk-tools compares such versions up to that point.
func tokenize(s string, toks []token) ([]token, failure) {
	i := digitsEnd(s, 0)
	if i == 0 {
		return append(toks, mkToken(kInvalid, 0)), failure{"must start with a number", 0}
	}
	toks = append(toks, numberToken(kInitial, s, 0, i))
	last := kInitial
	for i < len(s) {
		start := i
		var why string
		switch c := s[i]; {
		case c >= 'a' && c <= 'z':
			if last > kDigit {
				why = "letter not directly after a number"
				break
			}
			toks = append(toks, mkToken(kLetter, uint64(c)))
			i++
			last = kLetter
		case c == '.':
			if last > kDigit {
				why = "'.' after a letter or suffix"
				break
			}
			j := digitsEnd(s, i+1)
			if j == i+1 {
				why = "'.' not followed by a number"
				break
			}
			toks = append(toks, numberToken(kDigit, s, i+1, j))
			i, last = j, kDigit
		case c >= '0' && c <= '9':
			// Numbers after '.', '-r' and the first are consumed whole, so
			// a digit here follows a suffix name (the 1 of _rc1) or a
			// letter; apk-tools 3 rejects the latter ("0.99f7"), 2.x did not.
			if last != kSuffix {
				why = "number directly after a letter"
				break
			}
			j := digitsEnd(s, i)
			toks = append(toks, numberToken(kSuffixNo, s, i, j))
			i, last = j, kSuffixNo
		case c == '_':
			if last > kSuffixNo {
				why = "suffix after the hash or revision"
				break
			}
			j := i + 1
			for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
				j++
			}
			rank := suffixRank(s[i+1 : j])
			if rank == 0 {
				why = "unknown suffix (want alpha, beta, pre, rc, cvs, svn, git, hg or p)"
				break
			}
			toks = append(toks, mkToken(kSuffix, rank))
			i, last = j, kSuffix
		case c == '~':
			if last >= kHash {
				why = "second '~' or '~' after the revision"
				break
			}
			j := hexEnd(s, i+1)
			if j == i+1 {
				why = "'~' not followed by a lowercase hex commit hash"
				break
			}
			toks = append(toks, slowToken(kHash, i+1))
			i, last = j, kHash
		case c == '-':
			if last >= kRevision || i+1 >= len(s) || s[i+1] != 'r' {
				why = "'-' must start the one final -rN"
				break
			}
			j := digitsEnd(s, i+2)
			if j == i+2 {
				why = "-r not followed by a number"
				break
			}
			toks = append(toks, numberToken(kRevision, s, i+2, j))
			i, last = j, kRevision
		default:
			why = "unexpected character"
		}
		if why != "" {
			return append(toks, mkToken(kInvalid, 0)), failure{why, start}
		}
	}
	return toks, failure{}
}

func suffixRank(name string) uint64 {
	switch name {
	case "alpha":
		return suffixAlpha
	case "beta":
		return suffixBeta
	case "pre":
		return suffixPre
	case "rc":
		return suffixRC
	case "cvs":
		return suffixCVS
	case "svn":
		return suffixSVN
	case "git":
		return suffixGit
	case "hg":
		return suffixHg
	case "p":
		return suffixP
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// apk's commit hashes are lowercase hex only.
func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' }

func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func hexEnd(s string, i int) int {
	for i < len(s) && isHex(s[i]) {
		i++
	}
	return i
}

// numberToken reads s[start:end]. A ".N" with a leading zero, and a
// number too large for the payload, become slow tokens compared by text.
func numberToken(kind tokenKind, s string, start, end int) token {
	if kind == kDigit && s[start] == '0' {
		return slowToken(kind, start)
	}
	var v uint64
	for j := start; j < end; j++ {
		v = v*10 + uint64(s[j]-'0')
		if v > uint64(payloadMask) {
			return slowToken(kind, start)
		}
	}
	return mkToken(kind, v)
}
