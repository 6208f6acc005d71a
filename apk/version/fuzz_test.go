package version

import "testing"

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{
		"1.0", "1.2.3_rc1-r2", "2.0~abc-r1", "1.0a_p1_p2", "0.01", "1.001", "1..2", "",
		"99999999999999999999999", "18446744073709551616", "1.0_foo", "0.99f7-r0", "1.0-r",
		"0.1_git20240101_pre1", "6.8.0p2-r4", "v2.4",
	} {
		f.Add(s, "1.0-r0", "1.0_rc1")
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		va, errA := Parse(a)
		vb, errB := Parse(b)
		vc, errC := Parse(c)
		// Loose comparison is total on any input: reflexive and antisymmetric.
		if CompareLoose(a, a) != 0 {
			t.Fatalf("CompareLoose(%q, %q) != 0", a, a)
		}
		if CompareLoose(a, b) != -CompareLoose(b, a) {
			t.Fatalf("CompareLoose(%q, %q) not antisymmetric", a, b)
		}
		if (errA == nil) != Valid(a) {
			t.Fatalf("Valid(%q) = %v but Parse error %v", a, Valid(a), errA)
		}
		if errA != nil {
			return
		}
		ta, okA := refTokens(a)
		if !okA {
			t.Fatalf("Parse accepted %q, the reference grammar does not", a)
		}
		if va.String() != a || va.Compare(va) != 0 {
			t.Fatalf("%q: String %q, self-compare %d", a, va.String(), va.Compare(va))
		}
		again, err := Parse(va.String())
		if err != nil || again.Compare(va) != 0 {
			t.Fatalf("%q does not round-trip: %v", a, err)
		}
		if errB != nil {
			return
		}
		ab := va.Compare(vb)
		if ab != -vb.Compare(va) {
			t.Fatalf("Compare(%q, %q) not antisymmetric", a, b)
		}
		if ab != CompareLoose(a, b) {
			t.Fatalf("Compare(%q, %q) = %d, CompareLoose %d", a, b, ab, CompareLoose(a, b))
		}
		tb, _ := refTokens(b)
		if want := refCompare(ta, tb, false); ab != want {
			t.Fatalf("Compare(%q, %q) = %d, reference %d", a, b, ab, want)
		}
		if errC != nil {
			return
		}
		bc, ac := vb.Compare(vc), va.Compare(vc)
		if ab <= 0 && bc <= 0 && ac > 0 || ab >= 0 && bc >= 0 && ac < 0 {
			t.Fatalf("not transitive: %q %q %q: %d %d %d", a, b, c, ab, bc, ac)
		}
	})
}

func FuzzParseDependency(f *testing.F) {
	for _, s := range []string{
		"busybox", "!a<3", "a@b>=1.0", "so:libc.so=1", "a><Q1abc=", "a~1", "x=~2", "x~=2",
		"cmd:[=9.1-r0", "a=>1", "a@", "=1", "a>=1..2", "pc:librtmp=v2.4", "a><Q2" + "AAAA",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDependency(s)
		ld, broken, lerr := ParseDependencyLoose(s)
		if (err == nil) != (lerr == nil && !broken) {
			t.Fatalf("%q: strict error %v, loose error %v broken %v", s, err, lerr, broken)
		}
		if lerr == nil {
			ld.MatchesLoose("1.0") // must not panic
			if again, _, err := ParseDependencyLoose(ld.String()); err != nil || !sameDep(again, ld) {
				t.Fatalf("loose %q -> %q does not round-trip: %v", s, ld.String(), err)
			}
		}
		if err != nil {
			return
		}
		if d.Name == "" || (d.Op == OpAny) != (d.Version == "") {
			t.Fatalf("%q parsed to %+v", s, d)
		}
		again, err := ParseDependency(d.String())
		if err != nil {
			t.Fatalf("%q -> %q does not parse: %v", s, d.String(), err)
		}
		if !sameDep(again, d) || again.String() != d.String() {
			t.Fatalf("%q round trip: %+v != %+v", s, again, d)
		}
		if d.Op != OpAny && d.Op != OpChecksum {
			v := MustParse(d.Version)
			if d.Matches(v) != (d.Op != OpLess && d.Op != OpGreater) {
				t.Fatalf("%q: its own version %s matches = %v", s, v, d.Matches(v))
			}
		}
	})
}
