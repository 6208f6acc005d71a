package expr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRefs(t *testing.T) {
	tests := []struct {
		in   string
		want string // name:start:end:exact ...
		err  string
	}{
		{in: "no references", want: ""},
		{in: "a ${{x.y}} b", want: "x.y:2:10:true"},
		{in: "${{ a-b_c.1 }}${{d}}", want: "a-b_c.1:0:14:false d:14:20:true"},
		{in: "$ {{x}} ${x} ${{{x}}", err: "empty variable name in ${{...}}"},
		{in: "${{x}", err: `unterminated reference to "x" (want ${{x}})`},
		{in: "${{x y}}", err: `unterminated reference to "x" (want ${{x}})`},
		{in: "${{}}", err: "empty variable name in ${{...}}"},
		{in: "tail ${{", err: "empty variable name in ${{...}}"},
	}
	for _, tt := range tests {
		refs, err := Refs(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: error %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		var got []string
		for _, r := range refs {
			got = append(got, fmt.Sprintf("%s:%d:%d:%v", r.Name, r.Start, r.End, r.Exact))
		}
		if strings.Join(got, " ") != tt.want || err != nil {
			t.Errorf("%q: got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSyntaxErrorOffset(t *testing.T) {
	_, err := Refs("abc ${{x")
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 4 {
		t.Errorf("got %#v, want offset 4", err)
	}
}

func TestExpand(t *testing.T) {
	vals := map[string]string{"a": "${{b}}", "b": "B"}
	got, err := Expand("x${{a}}y${{ b }}z", func(r Ref) (string, error) { return vals[r.Name], nil })
	// Replacement text is not scanned again.
	if err != nil || got != "x${{b}}yBz" {
		t.Errorf("got %q, %v", got, err)
	}
	want := errors.New("nope")
	if _, err := Expand("${{a}}", func(Ref) (string, error) { return "", want }); !errors.Is(err, want) {
		t.Errorf("error %v, want %v", err, want)
	}
}

func TestExpandKnown(t *testing.T) {
	known := map[string]string{"a": "A"}
	for in, want := range map[string]string{
		"${{a}} ${{b}}":        "A ${{b}}",
		"${{a} ${{a}}":         "${{a} A",
		"${{a == 'x' || ''}}":  "${{a == 'x' || ''}}",
		"${{${{a}}}}":          "${{A}}",
		"trailing ${{":         "trailing ${{",
		"${{ a }}${{}}${{a}}$": "A${{}}A$",
	} {
		got := ExpandKnown(in, func(r Ref) (string, bool) { v, ok := known[r.Name]; return v, ok })
		if got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestEval(t *testing.T) {
	tests := []struct {
		cond string
		want bool
		err  string
	}{
		{cond: `"a" == "a"`, want: true},
		{cond: `'a' == "a"`, want: true},
		{cond: `"a" != "a"`, want: false},
		{cond: ` ( "a"=="b" ) || "c"!="d" `, want: true},
		{cond: `"a" == "a" && "b" == "c"`, want: false},
		// Same precedence, left to right.
		{cond: `"a" == "a" || "x" == "y" && "x" == "y"`, want: false},
		{cond: `"x" == "y" && "x" == "y" || "a" == "a"`, want: true},
		{cond: `("a" == "a") && (("b" == "b") || ("c" == "d"))`, want: true},
		{cond: `"\"q\"" == '"q"'`, want: true},
		{cond: `'it\'s' == "it's"`, want: true},
		{cond: `"tab\there" == "tab	here"`, want: true},
		{cond: `"\x41" == "\\x41"`, want: true}, // unknown escapes stay as written
		{cond: Quote("a\"b\\c") + ` == 'a"b\\c'`, want: true},
		{cond: ``, err: `condition "": expected a quoted string at the end`},
		{cond: `"a"`, err: `condition "\"a\"": expected == or != at offset 3`},
		{cond: `"a" = "a"`, err: `condition "\"a\" = \"a\"": expected == or != at offset 4`},
		{cond: `a == "a"`, err: `condition "a == \"a\"": expected a quoted string at offset 0, found 'a'`},
		{cond: `"a == "a"`, err: `condition "\"a == \"a\"": expected == or != at offset 7`},
		{cond: `"a" == "a`, err: `condition "\"a\" == \"a": unterminated string starting at offset 7`},
		{cond: `("a" == "a"`, err: `condition "(\"a\" == \"a\"": missing ')'`},
		{cond: `"a" == "a")`, err: `condition "\"a\" == \"a\")": unexpected ")" after the condition`},
		{cond: `"a" == "a" &&`, err: `condition "\"a\" == \"a\" &&": expected a quoted string at the end`},
		{cond: `${{x}} == "a"`, err: `condition "${{x}} == \"a\"": unsubstituted reference at offset 0`},
	}
	for _, tt := range tests {
		got, err := Eval(tt.cond)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: error %v, want %s", tt.cond, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %v, %v; want %v", tt.cond, got, err, tt.want)
		}
	}
}

func FuzzEval(f *testing.F) {
	for _, s := range []string{`"a" == "a"`, `('a' != "b") || "c" == 'c' && ("d" == "d")`, `"\t\x" == ""`, `(((`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cond string) {
		_, err := Eval(cond)
		var se *SyntaxError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("error of another type: %v", err)
		}
		if err != nil && (se.Offset < 0 || se.Offset > len(cond)) {
			t.Fatalf("offset %d outside %q", se.Offset, cond)
		}
	})
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"a ${{b}} c", "${{ x }}${{", "${{a}", "$${{{{}}}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		refs, err := Refs(s)
		last := 0
		for _, r := range refs {
			if r.Start < last || r.End > len(s) || !strings.HasPrefix(s[r.Start:], "${{") || !strings.HasSuffix(s[:r.End], "}}") {
				t.Fatalf("bad reference %+v in %q", r, s)
			}
			last = r.End
		}
		// Expanding known references never fails and, when every reference
		// is well formed and known, agrees with Expand.
		id := ExpandKnown(s, func(r Ref) (string, bool) { return "<" + r.Name + ">", true })
		if err == nil {
			want, _ := Expand(s, func(r Ref) (string, error) { return "<" + r.Name + ">", nil })
			if id != want {
				t.Fatalf("ExpandKnown %q, Expand %q", id, want)
			}
		}
	})
}
