package version

import "testing"

func TestMatches(t *testing.T) {
	tests := []struct {
		dep, ver string
		want     bool
	}{
		{"a", "1.0", true},
		{"a", "0", true},
		{"a@tag", "1.0", true},

		{"a=1.0", "1.0", true},
		{"a=1.0", "1.00", false},
		{"a=1.0", "1.0-r0", false}, // "-r0" is an extra token
		{"a=1.0", "1.0.0", false},
		{"a=1.0-r1", "1.0-r1", true},
		{"a=1.0-r1", "1.0-r01", true}, // equal by value
		{"a=1.0-r1", "1.0-r2", false},

		{"a<2", "1.9", true},
		{"a<2", "2_rc1", true},
		{"a<2", "2", false},
		{"a<2", "2-r0", false},
		{"a<2", "10", false},

		{"a<=2", "2", true},
		{"a<=2", "1", true},
		{"a<=2", "2-r1", false},
		{"a<=2", "2.0", false},

		{"a>2", "2", false},
		{"a>2", "2.0", true},
		{"a>2", "2_p1", true},
		{"a>2", "2_rc9", false},
		{"a>2", "1.99", false},

		{"a>=2", "2", true},
		{"a>=2", "2_beta", false},
		{"a>=3.10", "3.9", false},
		{"a>=3.10", "3.10.1", true},
		{"a>=3.10", "3.010", false}, // leading zero: "010" < "10"

		{"a~1.2", "1.2", true},
		{"a~1.2", "1.2.9-r3", true},
		{"a~1.2", "1.2_rc1", true},
		{"a~1.2", "1.2_p1", true},
		{"a~1.2", "1.2a", true},
		{"a~1.2", "1.2-r5", true},
		{"a~1.2", "1.2~abc", true},
		{"a~1.2", "1.20", false},
		{"a~1.2", "1.02", false},
		{"a~1.2", "1.3", false},
		{"a~1.2", "1.1.9", false},
		{"a~1.2", "1", false}, // prefix in one direction only
		{"a~1.2.3", "1.2", false},
		{"a=~1.2", "1.2.3", true},
		{"a~1.2_rc", "1.2_rc3", true},
		{"a~1.2_rc", "1.2", false},
		{"a~1.2-r1", "1.2-r1", true},
		{"a~1.2-r1", "1.2-r10", false},

		{"a>~1.2", "1.2", true},
		{"a>~1.2", "1.2.5", true},
		{"a>~1.2", "1.2_rc1", true}, // a prefix match, though older than 1.2
		{"a>~1.2", "1.3", true},
		{"a>~1.2", "1.1.9", false},
		{"a>~1.2", "1", false},

		{"a<~1.2", "1.2", true},
		{"a<~1.2", "1.2.5", true}, // a prefix match, though newer than 1.2
		{"a<~1.2", "1.1", true},
		{"a<~1.2", "1.3", false},
		{"a<~1.2", "1.20", false},

		{"!a<3", "2", true}, // Matches ignores Conflict
		{"!a<3", "3", false},
		{"a><Q1abc=", "1.0", false},
	}
	for _, tt := range tests {
		d, err := ParseDependency(tt.dep)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Matches(MustParse(tt.ver)); got != tt.want {
			t.Errorf("%s Matches %s = %v, want %v", tt.dep, tt.ver, got, tt.want)
		}
		if got := d.MatchesLoose(tt.ver); got != tt.want {
			t.Errorf("%s MatchesLoose %s = %v, want %v", tt.dep, tt.ver, got, tt.want)
		}
		// A Dependency built by hand (no cached Version) behaves the same.
		hand := Dependency{Name: d.Name, Tag: d.Tag, Op: d.Op, Version: d.Version, Conflict: d.Conflict}
		if got := hand.Matches(MustParse(tt.ver)); got != tt.want {
			t.Errorf("hand-built %s Matches %s = %v, want %v", tt.dep, tt.ver, got, tt.want)
		}
	}
}

func TestMatchesMalformed(t *testing.T) {
	// apk keeps malformed versions from indexes and compares their valid
	// prefix; a bad token sorts before everything.
	tests := []struct {
		dep, ver string
		want     bool
	}{
		{"a=6.8.0p2-r4", "6.8.0p2-r4", true}, // both go bad at the same token
		{"a<6.8.0p2-r4", "6.8.0-r4", true},   // 6.8.0p is valid so far and newer than 6.8.0-r4
		{"a>6.8.0p2-r4", "6.8.0-r4", false},
		{"a<6.8.0p2-r4", "6.8.0q", false},
		{"a<6.8.0p2-r4", "6.8.0p", false}, // 6.8.0p ends where the other goes bad
		{"a>=6.8.0", "6.8.0p2-r4", true},
		{"a>=6.8.0p", "6.8.0p2-r4", false},
		{"a<1", "", true},
		{"a~1.2", "1.2_foo", true},
	}
	for _, tt := range tests {
		d, _, err := ParseDependencyLoose(tt.dep)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.MatchesLoose(tt.ver); got != tt.want {
			t.Errorf("%s MatchesLoose %q = %v, want %v", tt.dep, tt.ver, got, tt.want)
		}
	}
	// A malformed constraint version never matches through Parsed.
	if _, err := (Dependency{Name: "a", Op: OpEqual, Version: "1..2"}).Parsed(); err == nil {
		t.Error("Parsed accepted 1..2")
	}
}

func TestParsed(t *testing.T) {
	d, err := ParseDependency("a>=1.2-r3")
	if err != nil {
		t.Fatal(err)
	}
	v, err := d.Parsed()
	if err != nil || v.String() != "1.2-r3" || v.Compare(MustParse("1.2-r3")) != 0 {
		t.Errorf("Parsed() = %v, %v", v, err)
	}
	v, err = Dependency{Name: "a", Op: OpLess, Version: "2"}.Parsed()
	if err != nil || v.String() != "2" {
		t.Errorf("hand-built Parsed() = %v, %v", v, err)
	}
}
