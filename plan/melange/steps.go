package melange

import (
	"path"
	"slices"
	"strconv"
	"strings"

	config "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/config/yamlnode"
)

const (
	// maxUsesDepth bounds pipelines that use pipelines; melange's own nest
	// two deep.
	maxUsesDepth = 16
	// maxCompiledSteps bounds the steps one configuration compiles to,
	// which aliases in the YAML could otherwise multiply without end.
	maxCompiledSteps = 20000
)

// compiler turns configured steps into plan steps.
type compiler struct {
	lib   *library
	steps int // compiled so far, against maxCompiledSteps
	// nativeSources: fetch and git-checkout need no wget or git in the
	// build environment (Options.NativeSources).
	nativeSources bool
	// unknown, when set, hears of uses: naming no definition, which then
	// compile to nothing (Options.UnknownPipeline).
	unknown func(UnknownPipeline)
}

// inherited is what a step gets from where it is written.
type inherited struct {
	scope *scope
	// early is set for steps written in melange.yaml (see scope.cond).
	early   bool
	workDir string // the enclosing step's working-directory, substituted
	env     map[string]EnvVar
	name    string
	via     []Pos
	uses    []string // pipelines being expanded, outermost first
}

// node is a compiled step: its action, if any, then its nested steps.
type node struct {
	run      bool // its if: holds
	action   Step
	children []*node
	needs    []Str
	assert   *config.Assertions
}

func (c *compiler) compileList(steps []config.Step, in inherited) ([]*node, error) {
	var out []*node
	for _, s := range steps {
		n, err := c.compile(s, in)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// compile compiles one step as melange does: load what it uses, bind its
// inputs, substitute its fields, compile its nested steps. Steps whose
// if: is false are compiled too, so their errors show on every arch.
func (c *compiler) compile(s config.Step, in inherited) (*node, error) {
	c.steps++
	if c.steps > maxCompiledSteps {
		return nil, s.Pos.Errorf("pipeline: more than %d steps after expanding uses:", maxCompiledSteps)
	}
	def := s // what runs: the step, or the definition it uses
	sc := in.scope
	childEarly := in.early
	via := in.via
	uses := in.uses
	name := in.name
	if s.Name.Value != "" {
		name = sc.expandFree(s.Name).Value
	} else if s.Uses.Value != "" {
		name = s.Uses.Value
	}

	var b *builtin
	if s.Uses.Value != "" && len(s.Pipeline) == 0 {
		if slices.Contains(uses, s.Uses.Value) {
			return nil, s.Uses.Pos.Errorf("uses: %s uses itself (%s -> %s)", s.Uses.Value, strings.Join(uses, " -> "), s.Uses.Value)
		}
		if len(uses) >= maxUsesDepth {
			return nil, s.Uses.Pos.Errorf("uses: pipelines use pipelines more than %d deep (%s)", maxUsesDepth, strings.Join(uses, " -> "))
		}
		var declared []config.Input
		if bi, ok := builtins[s.Uses.Value]; ok {
			b = &bi
			declared = bi.inputs
		} else {
			pf, found, err := c.lib.find(s.Uses)
			if err != nil {
				return nil, err
			}
			if !found {
				if c.unknown == nil {
					return nil, c.lib.notFound(s.Uses)
				}
				c.unknown(UnknownPipeline{Uses: s.Uses, Via: slices.Clone(via), Suggestion: c.lib.suggest(s.Uses.Value)})
				// An empty definition that takes whatever with: gives.
				pf = &config.PipelineFile{File: s.Uses.Value}
				for _, kv := range s.With {
					pf.Inputs = append(pf.Inputs, config.Input{Name: kv.Key})
				}
			}
			declared = pf.Inputs
			def = overlay(s, pf)
			childEarly = false
			via = append(slices.Clip(via), s.Uses.Pos)
			uses = append(slices.Clip(uses), s.Uses.Value)
		}
		var err error
		if sc, err = bindInputs(s, declared, in.scope); err != nil {
			return nil, err
		}
	} else if len(s.With) > 0 {
		// melange ignores uses: when a step spells out its own pipeline,
		// but its with: still reaches the nested steps as inputs.
		var err error
		if sc, err = bindInputs(s, nil, in.scope); err != nil {
			return nil, err
		}
	}

	n := &node{assert: def.Assertions}
	var err error
	// The step's own if: is written where the step is; a definition's
	// replaces it only when the definition has one.
	ifEarly := in.early
	if def.If.Pos != s.If.Pos {
		ifEarly = false
	}
	if n.run, err = sc.cond(def.If, ifEarly); err != nil {
		return nil, err
	}
	workDir := in.workDir
	if def.WorkDir.Value != "" {
		if workDir, err = sc.expand(def.WorkDir, "working-directory"); err != nil {
			return nil, err
		}
	}
	env := in.env
	if len(def.Environment) > 0 {
		env = make(map[string]EnvVar, len(in.env)+len(def.Environment))
		for k, v := range in.env {
			env[k] = v
		}
		for _, kv := range def.Environment {
			// melange does not substitute these when it compiles, so what
			// is not known stays as written.
			v := sc.expandFree(kv.Value)
			env[kv.Key.Value] = EnvVar{Name: kv.Key.Value, Value: v.Value, Pos: v.Pos}
		}
	}
	for _, p := range def.Needs.Packages {
		v, err := sc.expandStr(p, "needs.packages")
		if err != nil {
			return nil, err
		}
		n.needs = append(n.needs, v)
	}
	info := StepInfo{Name: name, Label: def.Label.Value, Via: in.via, WorkDir: absWorkDir(workDir), Env: envList(env)}

	if b != nil {
		info.Pos = s.Uses.Pos
		if !c.nativeSources {
			n.needs = append(n.needs, Str{Value: b.needs, Pos: s.Uses.Pos})
		}
		if n.action, err = b.make(inputs{scope: sc, at: s.Uses.Pos, written: written(s)}, info); err != nil {
			return nil, err
		}
		return n, nil
	}

	script, err := sc.expand(def.Runs, "runs")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(script) != "" {
		info.Pos = def.Runs.Pos
		// A definition's own runs: is reached through this step's uses:.
		info.Via = via
		if info.Name == "" {
			info.Name = firstLine(script)
		}
		n.action = &Run{StepInfo: info, Script: script}
	}
	n.children, err = c.compileList(def.Pipeline, inherited{
		scope: sc, early: childEarly, workDir: workDir, env: env, name: name, via: via, uses: uses,
	})
	return n, err
}

// overlay is a step that uses pf: melange decodes the definition onto
// the step, so what the definition sets wins, except its name.
func overlay(s config.Step, pf *config.PipelineFile) config.Step {
	d := s
	d.Runs = pf.Runs
	d.Pipeline = pf.Pipeline
	d.Needs = pf.Needs
	if pf.If.Pos.IsValid() {
		d.If = pf.If
	}
	if pf.WorkDir.Pos.IsValid() {
		d.WorkDir = pf.WorkDir
	}
	if pf.Label.Pos.IsValid() {
		d.Label = pf.Label
	}
	if pf.Assertions != nil {
		d.Assertions = pf.Assertions
	}
	if len(pf.Environment) > 0 {
		d.Environment = append(slices.Clip(s.Environment), pf.Environment...)
	}
	return d
}

// bindInputs makes the scope a used pipeline runs in: the caller's,
// plus inputs.* from with: (substituted where the step is written) and
// the declared defaults (substituted in the pipeline). An empty with:
// value takes the default, as in melange.
func bindInputs(s config.Step, declared []config.Input, caller *scope) (*scope, error) {
	sc := newScope(caller, "")
	given := map[string]KV{}
	for _, kv := range s.With {
		given[kv.Key.Value] = kv
	}
	if declared != nil || s.Uses.Value != "" && len(s.Pipeline) == 0 {
		known := map[string]bool{}
		for _, in := range declared {
			known[in.Name.Value] = true
		}
		for _, kv := range s.With {
			if !known[kv.Key.Value] {
				names := make([]string, 0, len(known))
				for k := range known {
					names = append(names, k)
				}
				slices.Sort(names)
				msg := "none"
				if len(names) > 0 {
					msg = strings.Join(names, ", ")
				}
				if c := yamlnode.Closest(kv.Key.Value, names); c != "" {
					msg += `); did you mean "` + c + `"?`
				} else {
					msg += ")"
				}
				return nil, kv.Key.Pos.Errorf("with: %s has no input %q (known: %s", s.Uses.Value, kv.Key.Value, msg)
			}
		}
	}
	for _, kv := range s.With {
		sc.vars["inputs."+kv.Key.Value] = &binding{text: kv.Value.Value, pos: kv.Value.Pos, home: caller}
	}
	for _, in := range declared {
		name := in.Name.Value
		if kv, ok := given[name]; ok && kv.Value.Value != "" {
			continue
		}
		if in.Required.Value && in.Default.Value == "" {
			return nil, s.Uses.Pos.Errorf("uses: %s needs input %q (with: %s: ...)", s.Uses.Value, name, name)
		}
		sc.vars["inputs."+name] = &binding{text: in.Default.Value, pos: in.Default.Pos, home: sc}
	}
	// melange checks the digests any pipeline is given.
	for _, in := range declared {
		name := in.Name.Value
		want := map[string]int{"expected-sha256": 64, "expected-sha512": 128, "expected-commit": 40}[name]
		if want == 0 {
			continue
		}
		b := sc.vars["inputs."+name]
		pos := b.pos
		if !pos.IsValid() {
			pos = s.Uses.Pos
		}
		v, err := sc.expandText("${{inputs."+name+"}}", pos, "with."+name, &resolution{})
		if err != nil {
			return nil, err
		}
		if v != "" && (len(v) != want || !lowerHex(v)) {
			return nil, pos.Errorf("with.%s: %q is not %d lowercase hex digits", name, v, want)
		}
	}
	return sc, nil
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// written maps input names to where a step's with: gives them.
func written(s config.Step) map[string]Pos {
	m := make(map[string]Pos, len(s.With))
	for _, kv := range s.With {
		if kv.Value.Value != "" {
			m[kv.Key.Value] = kv.Value.Pos
		}
	}
	return m
}

// inputs reads the inputs of one use of a built-in pipeline.
type inputs struct {
	scope   *scope
	at      Pos
	written map[string]Pos
}

func (in inputs) get(name string) (Str, error) {
	pos, ok := in.written[name]
	if !ok {
		pos = in.at
	}
	v, err := in.scope.expandText("${{inputs."+name+"}}", pos, "with."+name, &resolution{})
	return Str{Value: v, Pos: pos}, err
}

func (in inputs) flag(name string) (bool, error) {
	s, err := in.get(name)
	if err != nil {
		return false, err
	}
	switch s.Value {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, s.Pos.Errorf("with.%s: want true or false, got %q", name, s.Value)
}

func (in inputs) count(name string, min int) (int, error) {
	s, err := in.get(name)
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(s.Value)
	if err != nil || v < min {
		return 0, s.Pos.Errorf("with.%s: want a whole number of at least %d, got %q", name, min, s.Value)
	}
	return v, nil
}

// firstLine names an unnamed step by the first line of its script that
// is not blank, a comment or a shell option, shortened.
func firstLine(script string) string {
	const max = 60
	for _, l := range strings.Split(script, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "set -") {
			continue
		}
		if r := []rune(l); len(r) > max {
			l = string(r[:max-3]) + "..."
		}
		return l
	}
	return "runs"
}

// absWorkDir resolves a working-directory as melange does: relative to
// the workspace.
func absWorkDir(wd string) string {
	if wd == "" {
		return WorkDir
	}
	if path.IsAbs(wd) {
		return path.Clean(wd)
	}
	return path.Join(WorkDir, wd)
}

// envList is a step's environment, PATH included, sorted by name.
func envList(env map[string]EnvVar) []EnvVar {
	out := make([]EnvVar, 0, len(env)+1)
	if _, ok := env["PATH"]; !ok {
		out = append(out, EnvVar{Name: "PATH", Value: DefaultPath})
	}
	for _, v := range env {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b EnvVar) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// flatten appends the steps of the nodes that run, in order, checking
// assertions and collecting what they need.
func flatten(nodes []*node, steps *[]Step, needs *[]Str) error {
	for _, n := range nodes {
		if !n.run {
			continue
		}
		if n.action != nil {
			*steps = append(*steps, n.action)
		}
		*needs = append(*needs, n.needs...)
		if err := flatten(n.children, steps, needs); err != nil {
			return err
		}
		if n.assert != nil {
			ran := 0
			for _, c := range n.children {
				if c.run {
					ran++
				}
			}
			if want := n.assert.RequiredSteps; int64(ran) != want.Value {
				pos := want.Pos
				if !pos.IsValid() {
					pos = n.assert.Pos
				}
				return pos.Errorf("assertions.required-steps: %d nested steps must run, but %d do", want.Value, ran)
			}
		}
	}
	return nil
}
