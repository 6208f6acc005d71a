package melange

import (
	"fmt"
	"strings"
	"testing"
)

// TestIf checks which steps run, for conditions written as melange's
// users write them. In melange.yaml, package.*, vars.* and range.* are
// put in as plain text (so they must be quoted by the writer) and the
// other variables as quoted strings (so they must not be).
func TestIf(t *testing.T) {
	tests := []struct {
		cond string
		arch string
		want bool
		err  string
	}{
		{cond: `${{build.arch}} == 'x86_64'`, want: true},
		{cond: `${{build.arch}} == "x86_64"`, arch: "aarch64", want: false},
		{cond: `${{build.arch}} != 'x86_64' && ${{build.arch}} != 'x86' && ${{build.arch}} != 'mips64'`, arch: "aarch64", want: true},
		{cond: `${{build.arch}} != 'x86_64' && ${{build.arch}} != 'x86'`, want: false},
		{cond: `'"${{vars.flavour}}" == "fast"'`, want: true},
		{cond: `'"${{vars.flavour}}" == "slow"'`, want: false},
		// A spaced reference is not replaced as plain text, so it is quoted.
		{cond: `${{ vars.flavour }} == 'fast'`, want: true},
		{cond: `'"${{package.name}}-${{package.version}}" == "hello-1.2.3"'`, want: true},
		{cond: `'${{options.lto.enabled}} == "false"'`, want: true},
		// && and || bind equally, left to right: (true || false) && false.
		{cond: `'"a" == "a" || "a" == "b" && "a" == "b"'`, want: false},
		{cond: `'"a" == "a" || ("a" == "b" && "a" == "b")'`, want: true},
		{cond: `'("a" != "b")'`, want: true},
		// Plain-text variables must be quoted by the writer.
		{cond: `${{vars.flavour}} == 'fast'`, err: `melange.yaml:12:9: if: condition "fast == 'fast'": expected a quoted string at offset 0, found 'f' (after substitution; written "${{vars.flavour}} == 'fast'")`},
		// And quoted ones not.
		{cond: `'"${{build.arch}}" == "x86_64"'`, err: `melange.yaml:12:9: if: condition "\"\"x86_64\"\" == \"x86_64\"": expected == or != at offset 2 (after substitution; written "\"${{build.arch}}\" == \"x86_64\"")`},
		{cond: `${{build.arch}}`, err: `melange.yaml:12:9: if: condition "\"x86_64\"": expected == or != at offset 8 (after substitution; written "${{build.arch}}")`},
		{cond: `'"a" = "a"'`, err: `melange.yaml:12:9: if: condition "\"a\" = \"a\"": expected == or != at offset 4`},
		{cond: `'"a" == "a" &&'`, err: `melange.yaml:12:9: if: condition "\"a\" == \"a\" &&": expected a quoted string at the end`},
		{cond: `${{build.cpu}} == 'x'`, err: `melange.yaml:12:9: if: unknown variable ${{build.cpu}} (it is defined in pipelines only, not in package metadata or environments)`},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			doc := header + `vars:
  flavour: fast
options:
  lto: {}
pipeline:
  - runs: echo always
  - if: ` + tt.cond + `
    runs: echo maybe
`
			p, err := compile(t, doc, Options{Arch: tt.arch})
			if tt.err != "" {
				wantError(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ran := len(p.Pipeline) == 2
			if ran != tt.want {
				t.Errorf("step ran: %v, want %v", ran, tt.want)
			}
		})
	}
}

func TestIfSkipsNestedStepsAndNeeds(t *testing.T) {
	doc := header + `pipeline:
  - if: ${{build.arch}} == 'aarch64'
    pipeline:
      - uses: greet
        with: {greeting: hi}
      - runs: echo nested
  - uses: nest/outer
  - uses: conditional
`
	for _, tt := range []struct {
		arch  string
		steps []string
		extra []string
	}{
		{"x86_64", []string{"echo hello hello-gcc", "make CC=gcc"}, []string{"busybox", "gcc", "outer-tool"}},
		{"aarch64", []string{"echo hi world", "echo nested", "echo hello hello-gcc", "make CC=gcc", "echo arm only"}, []string{"busybox", "gcc", "outer-tool"}},
	} {
		p := mustCompile(t, doc, Options{Arch: tt.arch})
		if got := scripts(p.Pipeline); strings.Join(got, "|") != strings.Join(tt.steps, "|") {
			t.Errorf("%s: steps %q, want %q", tt.arch, got, tt.steps)
		}
		if got := values(p.Environment.ExtraPackages); fmt.Sprint(got) != fmt.Sprint(tt.extra) {
			t.Errorf("%s: extra packages %q, want %q", tt.arch, got, tt.extra)
		}
	}
}

func TestSubpackageIf(t *testing.T) {
	doc := header + `data:
  - name: bits
    items: {"64": "ILP64", "": "LP64"}
subpackages:
  - range: bits
    name: lib${{range.key}}
    if: '"${{range.key}}" == ""'
    pipeline:
      - uses: greet
        with: {greeting: "${{range.value}}"}
  - name: x86-only
    if: ${{build.arch}} == 'x86_64'
    pipeline:
      - runs: echo ${{subpkg.name}}
`
	for _, tt := range []struct {
		arch string
		subs []string
	}{
		{"x86_64", []string{"lib", "x86-only"}},
		{"aarch64", []string{"lib"}},
	} {
		p := mustCompile(t, doc, Options{Arch: tt.arch})
		var got []string
		for _, s := range p.Subpackages {
			got = append(got, s.Name.Value)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.subs) {
			t.Errorf("%s: subpackages %q, want %q", tt.arch, got, tt.subs)
		}
		// melange compiles skipped subpackages too and installs what they
		// need, so lib64's greet still brings busybox.
		if got := values(p.Environment.ExtraPackages); fmt.Sprint(got) != "[busybox]" {
			t.Errorf("%s: extra packages %q", tt.arch, got)
		}
	}
}
