package version

import (
	"strings"
	"testing"
)

func TestCompareOrder(t *testing.T) {
	// Each pair is strictly older < newer.
	tests := []struct{ older, newer string }{
		{"1", "2"},
		{"1.2", "1.10"},           // numeric, not string
		{"1.2.3", "1.2.3.1"},      // more components is newer
		{"0.1", "1"},              //
		{"1.0", "1.0a"},           // a letter after a number is newer
		{"1.0a", "1.0b"},          //
		{"1.0z", "1.0.1"},         // a further component beats a letter
		{"1a", "1.0"},             // even after the initial number
		{"1.0_alpha", "1.0_beta"}, // suffix order
		{"1.0_beta", "1.0_pre"},
		{"1.0_pre", "1.0_rc"},
		{"1.0_rc", "1.0"},  // pre-release before release
		{"1.0", "1.0_cvs"}, // post-release after release
		{"1.0_cvs", "1.0_svn"},
		{"1.0_svn", "1.0_git"},
		{"1.0_git", "1.0_hg"},
		{"1.0_hg", "1.0_p"},
		{"1.0_alpha", "1.0_alpha1"}, // a suffix number is newer than none
		{"1.0_rc1", "1.0_rc2"},
		{"1.0_rc2", "1.0_rc10"}, // suffix numbers are numeric
		{"1.0_alpha1_p1", "1.0_alpha2"},
		{"1.0_p1", "1.0_p1_p1"},         // a further post-release suffix is newer
		{"1.0_p1_rc1", "1.0_p1"},        // a further pre-release suffix is older
		{"1.0_alpha_pre2", "1.0_alpha"}, //
		{"1.0-r0", "1.0-r1"},            // revision
		{"1.0-r9", "1.0-r10"},           //
		{"1.0", "1.0-r1"},               // no revision is older than -r1 ...
		{"1.0", "1.0-r0"},               // ... and than -r0: apk compares tokens, not values
		{"1.0-r5", "1.0.1"},             // a revision loses to a component
		{"1.0-r5", "1.0a"},              // and to a letter
		{"1.0-r5", "1.0_p1"},            // and to a post-release suffix
		{"1.0_rc1-r5", "1.0"},           // but not to a pre-release one
		{"1.01", "1.1"},                 // leading zero: compared as strings
		{"1.001", "1.01"},               //
		{"1.0", "1.00"},                 // "0" < "00"
		{"1.00", "1.001"},               //
		{"1.09", "1.1"},                 // "09" < "1"
		{"1.10", "1.90"},                // no leading zero: numeric
		{"8.2.0", "8.2.001"},            // apk-tools 3 (2.x orders these the other way)
		{"8.2.0015", "8.2.002"},         //
		{"1.0~abc1", "1.0~abc2"},        // commit hashes compare as strings
		{"1.0~abc", "1.0~abc0"},         // a longer hash with the same start is newer
		{"1.0~9", "1.0~a"},              // bytewise: '9' < 'a'
		{"1.0", "1.0~00"},               // any hash is newer than none
		{"1.0-r1", "1.0~00"},            // a hash comes before -r, so it wins
		{"1.0~1234-r1", "1.0~2345-r0"},  //
		{"1.0~1234-r0", "1.0~1234-r1"},  //
		{"1.0_rc1~ff", "1.0_rc2"},
		{"20230101", "20230102"},                          // dates
		{"0.1_pre20060810", "0.1_pre20060817"},            //
		{"99999999999999999999", "100000000000000000000"}, // beyond 64 bits: by value
		{"18446744073709551615", "18446744073709551616"},  // 2^64-1 < 2^64
		{"1.0-r18446744073709551616", "1.0-r18446744073709551617"},
		{"1.18446744073709551616", "1.18446744073709551617"},
		{"3.16.2-r0", "3.16.10-r0"},
		{"1.36.1-r2", "1.36.1-r15"},
	}
	for _, tt := range tests {
		a, err := Parse(tt.older)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.older, err)
			continue
		}
		b, err := Parse(tt.newer)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.newer, err)
			continue
		}
		if got := a.Compare(b); got != -1 {
			t.Errorf("Compare(%s, %s) = %d, want -1", tt.older, tt.newer, got)
		}
		if got := b.Compare(a); got != 1 {
			t.Errorf("Compare(%s, %s) = %d, want 1", tt.newer, tt.older, got)
		}
		if a.Compare(a) != 0 || b.Compare(b) != 0 {
			t.Errorf("%s or %s not equal to itself", tt.older, tt.newer)
		}
		if got, err := Compare(tt.older, tt.newer); err != nil || got != -1 {
			t.Errorf("Compare(%q, %q) = %d, %v; want -1", tt.older, tt.newer, got, err)
		}
		if got := CompareLoose(tt.older, tt.newer); got != -1 {
			t.Errorf("CompareLoose(%q, %q) = %d, want -1", tt.older, tt.newer, got)
		}
	}
}

func TestCompareEqualSpellings(t *testing.T) {
	// Different strings that apk orders as equal: numbers other than a
	// ".N" component compare by value.
	tests := []struct{ a, b string }{
		{"01.2", "1.2"},
		{"007", "7"},
		{"1.0-r01", "1.0-r1"},
		{"1.0-r00", "1.0-r0"},
		{"1.0_rc01", "1.0_rc1"},
		{"1.0_p0", "1.0_p00"},
		{"00000000000000000000000001.5", "1.5"}, // long, but small in value
	}
	for _, tt := range tests {
		a, b := MustParse(tt.a), MustParse(tt.b)
		if a.Compare(b) != 0 || b.Compare(a) != 0 {
			t.Errorf("Compare(%s, %s) = %d, want 0", tt.a, tt.b, a.Compare(b))
		}
		if a.String() != tt.a {
			t.Errorf("String() = %q, want %q as written", a.String(), tt.a)
		}
	}
}

// TestCompareSortedChain checks every pair of a list in apk order, which
// also exercises transitivity across the rules.
func TestCompareSortedChain(t *testing.T) {
	chain := []string{
		"0", "0.0", "0.00", "0.01", "0.09", "0.1_alpha", "0.1_beta2", "0.1_rc1", "0.1",
		"0.1-r1", "0.1~0abc", "0.1~0abc-r3", "0.1_p1", "0.1a", "0.1.0", "0.1.1",
		"0.9", "0.10", "0.10.0_pre20240101", "0.10.0", "1_alpha",
		"1_alpha1", "1_beta", "1_pre", "1_rc", "1", "1-r0", "1-r2", "1-r10", "1_cvs",
		"1_svn", "1_git20240101", "1_hg", "1_p", "1_p1", "1_p1_p1", "1_p2", "1a",
		"1b_rc1", "1b", "1.0", "2",
	}
	vs := make([]Version, len(chain))
	for i, s := range chain {
		vs[i] = MustParse(s)
	}
	for i := range vs {
		for j := range vs {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := vs[i].Compare(vs[j]); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", chain[i], chain[j], got, want)
			}
		}
	}
}

func TestOrderingVectors(t *testing.T) {
	for _, row := range orderingVectors {
		f := strings.Fields(row)
		if len(f) != 3 {
			t.Fatalf("bad row %q", row)
		}
		a, op, b := f[0], f[1], f[2]
		switch op {
		case "<", ">", "=":
			want := map[string]int{"<": -1, ">": 1, "=": 0}[op]
			if got := CompareLoose(a, b); got != want {
				t.Errorf("%s: CompareLoose = %d", row, got)
			}
			if got := CompareLoose(b, a); got != -want {
				t.Errorf("%s: reversed CompareLoose = %d", row, got)
			}
			if Valid(a) && Valid(b) {
				if got := MustParse(a).Compare(MustParse(b)); got != want {
					t.Errorf("%s: Compare = %d", row, got)
				}
			}
		default:
			neg := strings.HasPrefix(op, "!")
			d, broken, err := ParseDependencyLoose("x" + strings.TrimPrefix(op, "!") + b)
			if err != nil || broken {
				t.Fatalf("%s: constraint: %v (broken %v)", row, err, broken)
			}
			if got := d.MatchesLoose(a); got == neg {
				t.Errorf("%s: MatchesLoose = %v", row, got)
			}
			if Valid(a) {
				if got := d.Matches(MustParse(a)); got == neg {
					t.Errorf("%s: Matches = %v", row, got)
				}
			}
		}
	}
}

func TestCompareLooseMalformed(t *testing.T) {
	// apk-tools compares the tokens before the first bad one; the bad
	// token itself sorts before everything, the end of a version included.
	tests := []struct {
		a, b string
		want int
	}{
		{"23_foo", "4_beta", 1},     // decided before the bad suffix
		{"1.0", "1.0bc", -1},        // 1.0b then bad: the letter makes it newer
		{"1.0_foo", "1.0", -1},      // bad suffix < end
		{"1.0_foo", "1.0_bar", 0},   // both go bad at the same token
		{"1.0_foo", "1.0_alpha", 1}, // a pre-release suffix is older even than a bad token
		{"", "0", -1},
		{"", "", 0},
		{"abc", "xyz", 0},
		{"1.0-r", "1.0", -1},
		{"1.0-r1x", "1.0-r1", -1},
		{"1.0-r1x", "1.0-r2", -1},
		{"1.0-r2x", "1.0-r1", 1},
		{"1.0.", "1.0", -1},
		{"1.0~", "1.0", -1},
		{"1.0~zz", "1.0~", 0},
		{"0.99f7-r0", "0.99f-r0", -1}, // apk-tools 2.x accepted digits after a letter; 3 does not
		{"1.2.3", "1.2.3", 0},
	}
	for _, tt := range tests {
		if got := CompareLoose(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareLoose(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := CompareLoose(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareLoose(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestCompareZeroVersion(t *testing.T) {
	var zero Version
	if !zero.IsZero() || MustParse("0").IsZero() {
		t.Fatal("IsZero wrong")
	}
	if zero.Compare(zero) != 0 || zero.Compare(MustParse("0")) != -1 || MustParse("0").Compare(zero) != 1 {
		t.Error("the zero Version must sort before every valid version")
	}
}
