package version

import (
	"bufio"
	"math/big"
	"math/rand"
	"os"
	"regexp"
	"strings"
	"testing"
)

// A second, deliberately naive model of valid versions: the grammar as
// one regular expression, and ordering over the pieces it captures with
// math/big. The real parser is a hand-written state machine with 64-bit
// fast paths, so agreement on random input is meaningful.
var refGrammar = regexp.MustCompile(`^([0-9]+)((?:\.[0-9]+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*)(?:~([0-9a-f]+))?(?:-r([0-9]+))?$`)

var refSuffixes = []string{"alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p"}

type refTok struct {
	kind int // order of appearance, as apk ranks kinds
	text string
}

func refTokens(s string) ([]refTok, bool) {
	m := refGrammar.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	toks := []refTok{{0, m[1]}}
	for _, d := range strings.Split(m[2], ".")[1:] {
		toks = append(toks, refTok{1, d})
	}
	if m[3] != "" {
		toks = append(toks, refTok{2, m[3]})
	}
	for _, suf := range strings.Split(m[4], "_")[1:] {
		name := strings.TrimRight(suf, "0123456789")
		toks = append(toks, refTok{3, name})
		if n := suf[len(name):]; n != "" {
			toks = append(toks, refTok{4, n})
		}
	}
	if m[5] != "" {
		toks = append(toks, refTok{5, m[5]})
	}
	if m[6] != "" {
		toks = append(toks, refTok{6, m[6]})
	}
	return toks, true
}

func refSuffixRank(name string) int {
	for i, s := range refSuffixes {
		if s == name && s != "" {
			return i
		}
	}
	panic("unknown suffix " + name)
}

func refNum(s string) *big.Int {
	n, _ := new(big.Int).SetString(s, 10)
	return n
}

func refCompare(a, b []refTok, fuzzy bool) int {
	for i := 0; ; i++ {
		if i == len(a) || i == len(b) || a[i].kind != b[i].kind {
			ka, kb := 7, 7 // 7: ended
			if i < len(a) {
				ka = a[i].kind
			}
			if i < len(b) {
				kb = b[i].kind
			}
			switch {
			case ka == kb, fuzzy && kb == 7:
				return 0
			case ka == 3 && refSuffixRank(a[i].text) < 4:
				return -1
			case kb == 3 && refSuffixRank(b[i].text) < 4:
				return 1
			case ka > kb:
				return -1
			}
			return 1
		}
		x, y := a[i].text, b[i].text
		var r int
		switch a[i].kind {
		case 1:
			if x[0] == '0' || y[0] == '0' {
				r = strings.Compare(x, y)
			} else {
				r = refNum(x).Cmp(refNum(y))
			}
		case 2, 5:
			r = strings.Compare(x, y)
		case 3:
			r = refSuffixRank(x) - refSuffixRank(y)
		default:
			r = refNum(x).Cmp(refNum(y))
		}
		if r != 0 {
			if r < 0 {
				return -1
			}
			return 1
		}
	}
}

// randomVersion strings together version-like pieces, valid or not.
func randomVersion(r *rand.Rand) string {
	pieces := []string{"0", "1", "2", "9", "10", "01", "00", "007", "18446744073709551616", "a", "z",
		"_alpha", "_beta", "_pre", "_rc", "_cvs", "_svn", "_git", "_hg", "_p", "_foo", "_",
		"~", "~abc", "~0", "~ABC", "-r", "-r0", "-r01", "-r10", "-", "."}
	var b strings.Builder
	if r.Intn(20) != 0 {
		b.WriteString([]string{"0", "1", "2", "10", "01", "00"}[r.Intn(6)])
	}
	for n := r.Intn(7); n > 0; n-- {
		p := pieces[r.Intn(len(pieces))]
		if p[0] >= '0' && p[0] <= '9' && r.Intn(3) != 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func TestAgainstReferenceModel(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var valid []string
	for i := 0; i < 20000; i++ {
		s := randomVersion(r)
		_, refOK := refTokens(s)
		if Valid(s) != refOK {
			t.Fatalf("Valid(%q) = %v, reference grammar says %v", s, Valid(s), refOK)
		}
		if refOK {
			valid = append(valid, s)
		}
	}
	if len(valid) < 2000 {
		t.Fatalf("only %d valid versions generated", len(valid))
	}
	for i := 0; i < 50000; i++ {
		a, b := valid[r.Intn(len(valid))], valid[r.Intn(len(valid))]
		if r.Intn(4) == 0 { // make prefixes common, to reach the tail rules
			b = a[:r.Intn(len(a))+1]
			if !Valid(b) {
				continue
			}
		}
		ta, _ := refTokens(a)
		tb, _ := refTokens(b)
		va, vb := MustParse(a), MustParse(b)
		if got, want := va.Compare(vb), refCompare(ta, tb, false); got != want {
			t.Fatalf("Compare(%q, %q) = %d, reference %d", a, b, got, want)
		}
		d := Dependency{Name: "x", Op: OpFuzzy, Version: b}
		if got, want := d.Matches(va), refCompare(ta, tb, true) == 0; got != want {
			t.Fatalf("~%s Matches %s = %v, reference %v", b, a, got, want)
		}
	}
}

// TestApkToolsVectorFile runs every line of apk-tools' own
// test/unit/version.data when APK_TOOLS_VERSION_DATA points at it (it is
// not vendored). Lines are "ver", "!ver", "a OP b" or "a !OP b".
func TestApkToolsVectorFile(t *testing.T) {
	path := os.Getenv("APK_TOOLS_VERSION_DATA")
	if path == "" {
		t.Skip("set APK_TOOLS_VERSION_DATA to apk-tools' test/unit/version.data to run its vectors")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		switch len(fields) {
		case 0:
			continue
		case 1:
			s, invalid := strings.CutPrefix(fields[0], "!")
			if Valid(s) == invalid {
				t.Errorf("%s: Valid(%q) = %v", line, s, Valid(s))
			}
		case 3:
			a, op, b := fields[0], fields[1], fields[2]
			op, neg := strings.CutPrefix(op, "!")
			var ok bool
			switch op {
			case "<", ">", "=":
				ok = CompareLoose(a, b) == map[string]int{"<": -1, ">": 1, "=": 0}[op]
			default:
				d, _, err := ParseDependencyLoose("x" + op + b)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				ok = d.MatchesLoose(a)
			}
			if ok == neg {
				t.Errorf("%s: does not hold", line)
			}
		default:
			t.Fatalf("cannot read %q", line)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d vectors", n)
}
