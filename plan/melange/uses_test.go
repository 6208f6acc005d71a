package melange

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

func TestUses(t *testing.T) {
	tests := []struct {
		name, steps string
		want        []string
		err         string
	}{
		{name: "default input", steps: "  - uses: greet\n    with: {greeting: hi}\n", want: []string{"echo hi world"}},
		{name: "given input", steps: "  - uses: greet\n    with: {greeting: hi, who: you}\n", want: []string{"echo hi you"}},
		{name: "empty input takes the default", steps: "  - uses: greet\n    with: {greeting: hi, who: ''}\n", want: []string{"echo hi world"}},
		{name: "inputs substituted where written", steps: "  - uses: greet\n    with: {greeting: '${{package.name}}', who: '${{targets.destdir}}'}\n",
			want: []string{"echo hello /home/build/melange-out/hello"}},
		{name: "nested uses and defaults naming other inputs", steps: "  - uses: nest/outer\n    with: {compiler: clang}\n",
			want: []string{"echo hello hello-clang", "make CC=clang", "make lto"}},
		{name: "steps inside see the inputs of the definition using them", steps: "  - uses: greet\n    with: {greeting: hi}\n    pipeline:\n      - uses: nest/inherit\n",
			// uses: with pipeline: runs the nested steps, as melange does;
			// with: still reaches them.
			want: []string{"echo hi"}},
		{name: "required input missing", steps: "  - uses: greet\n",
			err: `melange.yaml:8:11: uses: greet needs input "greeting" (with: greeting: ...)`},
		{name: "required input empty", steps: "  - uses: greet\n    with: {greeting: ''}\n",
			err: `melange.yaml:8:11: uses: greet needs input "greeting" (with: greeting: ...)`},
		{name: "unknown input", steps: "  - uses: greet\n    with: {greeting: hi, whom: you}\n",
			err: `melange.yaml:9:26: with: greet has no input "whom" (known: greeting, who); did you mean "who"?`},
		{name: "no inputs declared", steps: "  - uses: nest/inherit\n    with: {greeting: hi}\n",
			err: `melange.yaml:9:12: with: nest/inherit has no input "greeting" (known: none)`},
		{name: "unknown pipeline", steps: "  - uses: gret\n",
			err: `melange.yaml:8:11: uses: no pipeline "gret" (looked for gret.yaml in pipelines); did you mean "greet"?`},
		{name: "cycle", steps: "  - uses: loop/a\n",
			err: `pipelines/loop/b.yaml:2:11: uses: loop/a uses itself (loop/a -> loop/b -> loop/a)`},
		{name: "error in a definition", steps: "  - uses: typo\n",
			err: `pipelines/typo.yaml:5:11: runs: unknown variable ${{inputs.nmae}} (line 2 of the value); did you mean ${{inputs.name}}?`},
		{name: "checksum inputs of any pipeline", steps: "  - uses: checksum\n    with: {expected-sha256: abc}\n",
			err: `melange.yaml:9:29: with.expected-sha256: "abc" is not 64 lowercase hex digits`},
		{name: "checksum inputs after substitution", steps: "  - uses: checksum\n    with: {expected-sha256: '${{vars.sum}}'}\n",
			want: []string{"echo " + strings.Repeat("ab", 32)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := header + "vars: {sum: " + strings.Repeat("ab", 32) + "}\npipeline:\n" + tt.steps
			p, err := compile(t, doc, Options{})
			if tt.err != "" {
				wantError(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := scripts(p.Pipeline); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUsesStepInfo(t *testing.T) {
	p := mustCompile(t, header+`pipeline:
  - uses: nest/outer
    working-directory: src
    environment: {A: a}
  - uses: toplevel
`, Options{})
	var got []string
	for _, s := range p.Pipeline {
		i := s.Info()
		got = append(got, fmt.Sprintf("%s @ %s in %s %v", i.Name, i.Where(), i.WorkDir, i.Env))
	}
	want := []string{
		// Steps of a definition are named after the step using them, and
		// inherit its working directory and environment.
		"greet @ pipelines/greet.yaml:16:11 via pipelines/nest/outer.yaml:16:11 via melange.yaml:7:11 in /home/build/src [{A a melange.yaml:9:22} {PATH " + DefaultPath + " }]",
		"compile @ pipelines/nest/outer.yaml:25:15 via melange.yaml:7:11 in /home/build/build [{A a melange.yaml:9:22} {CC gcc pipelines/nest/outer.yaml:23:11} {PATH " + DefaultPath + " }]",
		"toplevel @ pipelines/toplevel.yaml:5:7 via melange.yaml:10:11 in /home/build [{PATH " + DefaultPath + " }]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPipelineDirOrder(t *testing.T) {
	user := PipelineDir{Name: "user", FS: fstest.MapFS{
		"greet.yaml": {Data: []byte("inputs: {greeting: {default: ignored}}\npipeline: [{runs: 'echo from the user'}]\n")},
	}}
	doc := header + "pipeline:\n  - uses: greet\n    with: {greeting: x}\n"
	for _, tt := range []struct {
		dirs []PipelineDir
		want string
	}{
		{[]PipelineDir{user, fixtures}, "echo from the user"},
		{[]PipelineDir{fixtures, user}, "echo x world"},
		{[]PipelineDir{{Name: "nothing", FS: fstest.MapFS{}}, fixtures}, "echo x world"},
	} {
		p := mustCompile(t, doc, Options{PipelineDirs: tt.dirs})
		if got := scripts(p.Pipeline); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s first: got %q, want %q", tt.dirs[0].Name, got, tt.want)
		}
	}
}

func TestStepBudget(t *testing.T) {
	// Lists that list the previous one twice: ten levels are 1024 steps,
	// fine; twenty would be a million.
	build := func(levels int) string {
		doc := header + "subpackages:\n  - name: l0\n    pipeline: &l0 [{runs: 'true'}]\n"
		for i := 1; i <= levels; i++ {
			doc += fmt.Sprintf("  - name: l%d\n    pipeline: &l%d [{pipeline: *l%d}, {pipeline: *l%d}]\n", i, i, i-1, i-1)
		}
		return doc
	}
	if _, err := compile(t, build(10), Options{}); err != nil {
		t.Fatal(err)
	}
	_, err := compile(t, build(20), Options{})
	if err == nil || !strings.Contains(err.Error(), "more than 20000 steps") {
		t.Fatalf("got %v, want a step budget error", err)
	}
}

// TestUnknownPipelineOption checks Options.UnknownPipeline: every
// uses: naming no definition is reported (where it is written, through
// which uses:, with a suggestion) and compiles to nothing, and the rest
// of the plan is made.
func TestUnknownPipelineOption(t *testing.T) {
	doc := header + "pipeline:\n  - uses: gret\n    with: {greeting: hi}\n  - uses: nest/missing\n  - runs: echo last\n"
	var got []string
	p, err := compile(t, doc, Options{UnknownPipeline: func(u UnknownPipeline) {
		var via []string
		for _, v := range u.Via {
			via = append(via, v.String())
		}
		got = append(got, fmt.Sprintf("%s %s via [%s] suggest %q", u.Uses.Pos, u.Uses.Value, strings.Join(via, " "), u.Suggestion))
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`melange.yaml:7:11 gret via [] suggest "greet"`,
		`pipelines/nest/missing.yaml:3:11 not/there via [melange.yaml:9:11] suggest ""`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("reported\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s := scripts(p.Pipeline); strings.Join(s, "|") != "echo after|echo last" {
		t.Errorf("steps %q", s)
	}
	// Without the option the first one is the error.
	_, err = compile(t, doc, Options{})
	wantError(t, err, `melange.yaml:7:11: uses: no pipeline "gret" (looked for gret.yaml in pipelines); did you mean "greet"?`)
}
