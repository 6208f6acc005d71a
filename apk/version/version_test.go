package version

import (
	"strconv"
	"strings"
	"testing"
)

func TestCompareOrder(t *testing.T) {
	// Each pair is strictly older < newer.
	tests := []struct{ older, newer string }{
		{"1", "2"},
		{"1.2", "1.10"},                 // numeric, not string
		{"1.2.3", "1.2.3.1"},            // more components is newer
		{"1.0", "1.0a"},                 // letter after number
		{"1.0a", "1.0b"},                //
		{"1.0z", "1.0.1"},               // a component beats a letter
		{"1.0_alpha", "1.0_beta"},       // suffix order
		{"1.0_beta", "1.0_pre"},         //
		{"1.0_pre", "1.0_rc"},           //
		{"1.0_rc", "1.0"},               // pre-release before release
		{"1.0", "1.0_cvs"},              // post-release after release
		{"1.0_cvs", "1.0_svn"},          //
		{"1.0_svn", "1.0_git"},          //
		{"1.0_git", "1.0_hg"},           //
		{"1.0_hg", "1.0_p"},             //
		{"1.0_rc1", "1.0_rc2"},          // suffix number
		{"1.0_rc2", "1.0_rc10"},         //
		{"1.0_alpha1_p1", "1.0_alpha2"}, // several suffixes
		{"1.0_p1", "1.0_p1_p1"},         //
		{"1.0-r0", "1.0-r1"},            // revision
		{"1.0-r9", "1.0-r10"},           //
		{"1.0", "1.0-r1"},               // no revision = -r0 is older
		{"1.0-r5", "1.0.1"},             // revision loses to a component
		{"1.01", "1.1"},                 // leading zero: string compare
		{"1.001", "1.01"},               //
		{"1.0", "1.00"},                 // "0" < "00" as strings
		{"0.1", "1"},                    //
		{"2.0~abc1", "2.0~abc2"},        // commit hash as string
		{"2.0-r1", "2.0~ffff"},          // a hash is an earlier component than -r
		{"2.0", "2.0~0a"},               //
		{"20230101", "20230102"},        // dates
		{"99999999999999999999", "100000000000000000000"}, // beyond 64 bits
		{"3.16.2-r0", "3.16.10-r0"},                       //
		{"1.36.1-r2", "1.36.1-r15"},                       //
	}
	for _, tt := range tests {
		a, err := Parse(tt.older)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Parse(tt.newer)
		if err != nil {
			t.Fatal(err)
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
	}
}

func TestParseInvalid(t *testing.T) {
	for _, s := range []string{
		"", "a1", ".1", "1.", "1..2", "1.2-", "1.2-r", "1.2-rX", "1.2-r1-r2", "1.2_foo",
		"1.2ab", "1.2a.3", "1_rc1.2", "1.2~", "1.2~xyz", "1.2-r1~ab", "1.2 ", "1,2", "v1.2", "1.2-1",
	} {
		_, err := Parse(s)
		if err == nil {
			t.Errorf("Parse(%q) succeeded", s)
			continue
		}
		if !strings.Contains(err.Error(), "\""+s+"\"") {
			t.Errorf("Parse(%q) error %q does not quote the input", s, err)
		}
		if Valid(s) {
			t.Errorf("Valid(%q) = true", s)
		}
	}
}

func TestCompareLooseMalformed(t *testing.T) {
	// apk-tools compares the valid prefix of a malformed version.
	tests := []struct {
		a, b string
		want int
	}{
		{"23_foo", "4_beta", 1},
		{"1.0", "1.0bc", -1},
		{"1.2.3", "1.2.3", 0},
	}
	for _, tt := range tests {
		if got := CompareLoose(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareLoose(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestParseDependency(t *testing.T) {
	tests := []struct {
		in   string
		want Dependency
		str  string
	}{
		{"busybox", Dependency{Name: "busybox"}, "busybox"},
		{"busybox=1.36.1-r2", Dependency{Name: "busybox", Op: OpEqual, Version: "1.36.1-r2"}, ""},
		{"python3>=3.10", Dependency{Name: "python3", Op: OpGreaterEqual, Version: "3.10"}, ""},
		{"glibc<2.38", Dependency{Name: "glibc", Op: OpLess, Version: "2.38"}, ""},
		{"glibc<=2.38", Dependency{Name: "glibc", Op: OpLessEqual, Version: "2.38"}, ""},
		{"glibc>2", Dependency{Name: "glibc", Op: OpGreater, Version: "2"}, ""},
		{"go~1.21", Dependency{Name: "go", Op: OpFuzzy, Version: "1.21"}, ""},
		{"go=~1.21", Dependency{Name: "go", Op: OpFuzzy, Version: "1.21"}, "go~1.21"},
		{"go>~1.21", Dependency{Name: "go", Op: OpGreaterFuzzy, Version: "1.21"}, ""},
		{"go<~1.21", Dependency{Name: "go", Op: OpLessFuzzy, Version: "1.21"}, ""},
		{"!openssl", Dependency{Name: "openssl", Conflict: true}, ""},
		{"!openssl<3", Dependency{Name: "openssl", Conflict: true, Op: OpLess, Version: "3"}, ""},
		{"hello@local", Dependency{Name: "hello", Tag: "local"}, ""},
		{"hello@edge>=2.12", Dependency{Name: "hello", Tag: "edge", Op: OpGreaterEqual, Version: "2.12"}, ""},
		{"so:libc.musl-x86_64.so.1", Dependency{Name: "so:libc.musl-x86_64.so.1"}, ""},
		{"so:libc.musl-x86_64.so.1=1", Dependency{Name: "so:libc.musl-x86_64.so.1", Op: OpEqual, Version: "1"}, ""},
		{"cmd:busybox=1.35.0-r17", Dependency{Name: "cmd:busybox", Op: OpEqual, Version: "1.35.0-r17"}, ""},
		{"pc:zlib>=1.2", Dependency{Name: "pc:zlib", Op: OpGreaterEqual, Version: "1.2"}, ""},
		{"py3.10-pip", Dependency{Name: "py3.10-pip"}, ""},
		{"libstdc++", Dependency{Name: "libstdc++"}, ""},
		{"musl><Q1xbS6bR1aFrJ2ZnrVtt5gQakyzGk=", Dependency{Name: "musl", Op: OpChecksum, Version: "Q1xbS6bR1aFrJ2ZnrVtt5gQakyzGk="}, ""},
	}
	for _, tt := range tests {
		got, err := ParseDependency(tt.in)
		if err != nil {
			t.Errorf("ParseDependency(%q): %v", tt.in, err)
			continue
		}
		if !sameDep(got, tt.want) {
			t.Errorf("ParseDependency(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		str := tt.str
		if str == "" {
			str = tt.in
		}
		if got.String() != str {
			t.Errorf("String() = %q, want %q", got.String(), str)
		}
	}
}

func TestParseDependencyInvalid(t *testing.T) {
	for _, s := range []string{
		"", "!", "=1.0", ">=1.0", "foo>=", "foo=>1.0", "foo<>1", "foo>>1", "foo==1", "foo@", "@tag",
		"foo@>=1", "foo>=1.0bad", "foo=1..2", "foo bar", "foo><abc", "foo\t", "fo$o", "foo@t$g",
	} {
		_, err := ParseDependency(s)
		if err == nil {
			t.Errorf("ParseDependency(%q) succeeded", s)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(s)) {
			t.Errorf("ParseDependency(%q) error %q does not quote the input", s, err)
		}
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		dep, ver string
		want     bool
	}{
		{"a", "1.0", true},
		{"a=1.0", "1.0", true},
		{"a=1.0", "1.0-r0", false}, // apk: "-r0" is an extra token
		{"a=1.0-r1", "1.0-r1", true},
		{"a<2", "1.9", true},
		{"a<2", "2", false},
		{"a<=2", "2", true},
		{"a>2", "2", false},
		{"a>2", "2.0", true},
		{"a>=2", "2", true},
		{"a>=3.10", "3.9", false},
		{"a>=3.10", "3.10.1", true},
		{"a~1.2", "1.2", true},
		{"a~1.2", "1.2.9-r3", true},
		{"a~1.2", "1.2_rc1", true},
		{"a~1.2", "1.20", false},
		{"a~1.2", "1.3", false},
		{"a>~1.2", "1.2.5", true},
		{"a>~1.2", "1.3", true},
		{"a>~1.2", "1.1.9", false},
		{"a<~1.2", "1.2.5", true},
		{"a<~1.2", "1.1", true},
		{"a<~1.2", "1.3", false},
		{"!a<3", "2", true}, // Matches ignores Conflict
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
	}
}

func TestParseDependencies(t *testing.T) {
	deps, err := ParseDependencies("  so:libc.musl-x86_64.so.1 so:libz.so.1   busybox>=1.35 !foo")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range deps {
		names = append(names, d.String())
	}
	if got := strings.Join(names, " "); got != "so:libc.musl-x86_64.so.1 so:libz.so.1 busybox>=1.35 !foo" {
		t.Errorf("got %q", got)
	}
	if _, err := ParseDependencies("ok bad>="); err == nil || !strings.Contains(err.Error(), "bad>=") {
		t.Errorf("err = %v", err)
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.0", "1.2.3_rc1-r2", "2.0~abc-r1", "1.0a_p1_p2", "0.01", "1..2", "99999999999999999999999"} {
		f.Add(s, "1.0-r0")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := Parse(a)
		vb, errB := Parse(b)
		// Loose comparison must be total on any input, and antisymmetric.
		if CompareLoose(a, b) != -CompareLoose(b, a) {
			t.Fatalf("CompareLoose(%q,%q) not antisymmetric", a, b)
		}
		if errA != nil {
			if Valid(a) {
				t.Fatalf("Valid(%q) but Parse failed", a)
			}
			return
		}
		if va.String() != a || va.Compare(va) != 0 {
			t.Fatalf("%q: String %q, self-compare %d", a, va.String(), va.Compare(va))
		}
		if errB == nil && va.Compare(vb) != -vb.Compare(va) {
			t.Fatalf("Compare(%q,%q) not antisymmetric", a, b)
		}
	})
}

func FuzzParseDependency(f *testing.F) {
	for _, s := range []string{"busybox", "!a<3", "a@b>=1.0", "so:libc.so=1", "a><Q1abc=", "a~1", "x=~2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDependency(s)
		if err != nil {
			return
		}
		again, err := ParseDependency(d.String())
		if err != nil {
			t.Fatalf("%q -> %q does not parse: %v", s, d.String(), err)
		}
		if !sameDep(again, d) {
			t.Fatalf("%q round trip: %+v != %+v", s, again, d)
		}
	})
}

var sink int

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		v, _ := Parse("1.36.1_git20230101_p2-r15")
		sink += len(v.toks)
	}
}

func BenchmarkCompare(b *testing.B) {
	x, y := MustParse("1.36.1_git20230101_p2-r15"), MustParse("1.36.1_git20230101_p2-r16")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sink += x.Compare(y)
	}
}

// sameDep compares the exported fields (the parsed Version is a cache).
func sameDep(a, b Dependency) bool {
	return a.Name == b.Name && a.Tag == b.Tag && a.Op == b.Op && a.Version == b.Version && a.Conflict == b.Conflict
}
