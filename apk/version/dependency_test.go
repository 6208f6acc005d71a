package version

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseDependency(t *testing.T) {
	tests := []struct {
		in   string
		want Dependency
		str  string // canonical form when it differs from in
	}{
		{"busybox", Dependency{Name: "busybox"}, ""},
		{"busybox=1.36.1-r2", Dependency{Name: "busybox", Op: OpEqual, Version: "1.36.1-r2"}, ""},
		{"python3>=3.10", Dependency{Name: "python3", Op: OpGreaterEqual, Version: "3.10"}, ""},
		{"glibc<2.38", Dependency{Name: "glibc", Op: OpLess, Version: "2.38"}, ""},
		{"glibc<=2.38", Dependency{Name: "glibc", Op: OpLessEqual, Version: "2.38"}, ""},
		{"glibc>2", Dependency{Name: "glibc", Op: OpGreater, Version: "2"}, ""},
		{"go~1.21", Dependency{Name: "go", Op: OpFuzzy, Version: "1.21"}, ""},
		{"libxml2-dev==2.13.4-r0", Dependency{Name: "libxml2-dev", Op: OpEqual, Version: "2.13.4-r0"}, "libxml2-dev=2.13.4-r0"},
		{"go=~1.21", Dependency{Name: "go", Op: OpFuzzy, Version: "1.21"}, "go~1.21"},
		{"go~=1.21", Dependency{Name: "go", Op: OpFuzzy, Version: "1.21"}, "go~1.21"},
		{"go>~1.21", Dependency{Name: "go", Op: OpGreaterFuzzy, Version: "1.21"}, ""},
		{"go<~1.21", Dependency{Name: "go", Op: OpLessFuzzy, Version: "1.21"}, ""},
		{"!openssl", Dependency{Name: "openssl", Conflict: true}, ""},
		{"!openssl<3", Dependency{Name: "openssl", Conflict: true, Op: OpLess, Version: "3"}, ""},
		{"hello@local", Dependency{Name: "hello", Tag: "local"}, ""},
		{"hello@edge>=2.12", Dependency{Name: "hello", Tag: "edge", Op: OpGreaterEqual, Version: "2.12"}, ""},
		{"!hello@edge", Dependency{Name: "hello", Tag: "edge", Conflict: true}, ""},
		{"so:libc.musl-x86_64.so.1", Dependency{Name: "so:libc.musl-x86_64.so.1"}, ""},
		{"so:libc.musl-x86_64.so.1=1", Dependency{Name: "so:libc.musl-x86_64.so.1", Op: OpEqual, Version: "1"}, ""},
		{"cmd:busybox=1.35.0-r17", Dependency{Name: "cmd:busybox", Op: OpEqual, Version: "1.35.0-r17"}, ""},
		{"cmd:[=9.1-r0", Dependency{Name: "cmd:[", Op: OpEqual, Version: "9.1-r0"}, ""},
		{"pc:zlib>=1.2", Dependency{Name: "pc:zlib", Op: OpGreaterEqual, Version: "1.2"}, ""},
		{"pc:gtk+-3.0=3.24.34", Dependency{Name: "pc:gtk+-3.0", Op: OpEqual, Version: "3.24.34"}, ""},
		{"/bin/sh", Dependency{Name: "/bin/sh"}, ""},
		{"py3.10-pip", Dependency{Name: "py3.10-pip"}, ""},
		{"libstdc++", Dependency{Name: "libstdc++"}, ""},
		{"Font_X,Y[1]", Dependency{Name: "Font_X,Y[1]"}, ""},
		{"musl><Q1xbS6bR1aFrJ2ZnrVtt5gQakyzGk=", Dependency{Name: "musl", Op: OpChecksum, Version: "Q1xbS6bR1aFrJ2ZnrVtt5gQakyzGk="}, ""},
		{"busybox><Q12l/v/T0pPK3aQaUWmI9djiLpF+g=", Dependency{Name: "busybox", Op: OpChecksum, Version: "Q12l/v/T0pPK3aQaUWmI9djiLpF+g="}, ""},
		{"x><Q2LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=", Dependency{Name: "x", Op: OpChecksum, Version: "Q2LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="}, ""},
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
		if again, err := ParseDependency(got.String()); err != nil || !sameDep(again, got) {
			t.Errorf("%q does not round-trip: %+v, %v", got.String(), again, err)
		}
	}
}

func TestParseDependencyInvalid(t *testing.T) {
	for _, s := range []string{
		"", "!", "!!foo", // empty or bad name
		"=1.0", ">=1.0", "!>=1.0", "@tag", "@tag>=1", // no name
		"foo>=", "foo=", "foo~", "foo><", // operator without version
		"foo=>1.0", "foo<>1", "foo>>1", "foo===1", "foo~>1", "foo<=>1", "foo=<1", "foo~~1", // unknown operators
		"foo@", "foo@>=1", "foo@@x", "foo@t$g", "foo@a@b", // bad tags
		"foo>=1.0bad", "foo=1..2", "foo=1.2-r", "foo<1.2_foo", "foo~x", "foo=1.0=2", "foo=1 ", // bad versions
		"foo><abc", "foo><Q1", "foo><Q3abcd", "foo><Q1ab$d", "foo><Q1abc", "foo><Q1a=bc", "foo><1.0", // bad checksums
		"foo bar", "foo\t", "fo$o", "föo", "foo(1)", "foo\n", // bad name characters
	} {
		d, err := ParseDependency(s)
		if err == nil {
			t.Errorf("ParseDependency(%q) = %+v, want an error", s, d)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(s)) {
			t.Errorf("ParseDependency(%q) error %q does not quote the input", s, err)
		}
	}
}

func TestParseDependencyLoose(t *testing.T) {
	tests := []struct {
		in     string
		want   Dependency
		broken bool
	}{
		{"opensmtpd=6.8.0p2-r4", Dependency{Name: "opensmtpd", Op: OpEqual, Version: "6.8.0p2-r4"}, true},
		{"foo<1.2_foo", Dependency{Name: "foo", Op: OpLess, Version: "1.2_foo"}, true},
		{"foo>=1.2", Dependency{Name: "foo", Op: OpGreaterEqual, Version: "1.2"}, false},
		{"foo", Dependency{Name: "foo"}, false},
	}
	for _, tt := range tests {
		d, broken, err := ParseDependencyLoose(tt.in)
		if err != nil || broken != tt.broken || !sameDep(d, tt.want) {
			t.Errorf("ParseDependencyLoose(%q) = %+v, %v, %v; want %+v, %v", tt.in, d, broken, err, tt.want, tt.broken)
		}
		if _, err := ParseDependency(tt.in); (err != nil) != tt.broken {
			t.Errorf("ParseDependency(%q) error = %v, want error %v", tt.in, err, tt.broken)
		}
	}
	// Structural errors stay errors.
	for _, s := range []string{"foo=>1", "=1", "foo@", "foo><abc"} {
		if _, _, err := ParseDependencyLoose(s); err == nil {
			t.Errorf("ParseDependencyLoose(%q) succeeded", s)
		}
	}
}

func TestParseDependencies(t *testing.T) {
	deps, err := ParseDependencies("  so:libc.musl-x86_64.so.1 so:libz.so.1\nbusybox>=1.35   !foo go=~1.21 ")
	if err != nil {
		t.Fatal(err)
	}
	var strs []string
	for _, d := range deps {
		strs = append(strs, d.String())
	}
	want := "so:libc.musl-x86_64.so.1 so:libz.so.1 busybox>=1.35 !foo go~1.21"
	if got := strings.Join(strs, " "); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, s := range []string{"", "   ", "\n"} {
		if deps, err := ParseDependencies(s); err != nil || len(deps) != 0 {
			t.Errorf("ParseDependencies(%q) = %v, %v; want none", s, deps, err)
		}
	}
	// Only space and newline separate, as in apk; the first bad entry
	// fails the list and is quoted.
	for _, tt := range []struct{ in, bad string }{
		{"ok bad>=", "bad>="},
		{"a\tb", "a\tb"},
		{"a b=1..2 c", "b=1..2"},
	} {
		deps, err := ParseDependencies(tt.in)
		if err == nil || deps != nil || !strings.Contains(err.Error(), strconv.Quote(tt.bad)) {
			t.Errorf("ParseDependencies(%q) = %v, %v; want an error quoting %q", tt.in, deps, err, tt.bad)
		}
	}
}

func TestOpString(t *testing.T) {
	for op, want := range map[Op]string{
		OpAny: "", OpEqual: "=", OpLess: "<", OpLessEqual: "<=", OpGreater: ">", OpGreaterEqual: ">=",
		OpFuzzy: "~", OpGreaterFuzzy: ">~", OpLessFuzzy: "<~", OpChecksum: "><", Op(200): "?",
	} {
		if got := op.String(); got != want {
			t.Errorf("Op(%d).String() = %q, want %q", op, got, want)
		}
		if op != OpAny && op < Op(200) {
			if got, ok := parseOp(want); !ok || got != op {
				t.Errorf("parseOp(%q) = %v, %v", want, got, ok)
			}
		}
	}
}

// sameDep compares the exported fields (the parsed Version is a cache).
func sameDep(a, b Dependency) bool {
	return a.Name == b.Name && a.Tag == b.Tag && a.Op == b.Op && a.Version == b.Version && a.Conflict == b.Conflict
}
