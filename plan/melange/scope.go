package melange

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kiln-build/kiln/config/yamlnode"
	"github.com/kiln-build/kiln/plan/melange/expr"
)

const (
	// maxResolveDepth bounds values that refer to values that refer to
	// values...; real configs go two or three deep.
	maxResolveDepth = 32
	// maxValueSize bounds one substituted value, so references that
	// double a value at each level cannot exhaust memory.
	maxValueSize = 4 << 20
)

// binding is the value of one variable.
type binding struct {
	text string // may itself hold ${{...}} references
	pos  Pos    // where text was written; zero for values melange computes
	// home, when set, is where references in text resolve (pipeline
	// inputs resolve where they were given). Otherwise they resolve in
	// the scope that uses the variable, as melange substitutes a value's
	// text into the field and substitutes again.
	home *scope
	// early marks the variables melange substitutes when it parses the
	// configuration (package.*, vars.*, range.*): in an `if:` written in
	// melange.yaml they go in as plain text, where every other variable
	// goes in as a quoted string.
	early bool

	resolving bool
	resolved  *string // cache for bindings with a home
}

// scope is a set of variables, falling back to a parent's.
type scope struct {
	parent *scope
	vars   map[string]*binding
	// hint explains, in unknown-variable errors, what a value here may use.
	hint string
}

func newScope(parent *scope, hint string) *scope {
	return &scope{parent: parent, vars: map[string]*binding{}, hint: hint}
}

// set binds name to a computed value (no references, no position).
func (s *scope) set(name, value string) { s.vars[name] = &binding{text: value} }

func (s *scope) lookup(name string) (*binding, bool) {
	for ; s != nil; s = s.parent {
		if b, ok := s.vars[name]; ok {
			return b, true
		}
	}
	return nil, false
}

// names lists every visible variable, sorted.
func (s *scope) names() []string {
	seen := map[string]bool{}
	var out []string
	for ; s != nil; s = s.parent {
		for n := range s.vars {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

// resolution tracks one substitution, for cycles and size.
type resolution struct {
	depth int
}

// expand substitutes every reference in v, recursively. what names the
// field in messages ("runs", "with.uri").
func (s *scope) expand(v Str, what string) (string, error) {
	return s.expandText(v.Value, v.Pos, what, &resolution{})
}

// expandStr is expand keeping v's position.
func (s *scope) expandStr(v Str, what string) (Str, error) {
	out, err := s.expand(v, what)
	return Str{Value: out, Pos: v.Pos}, err
}

func (s *scope) expandText(text string, pos Pos, what string, r *resolution) (string, error) {
	out, err := expr.Expand(text, func(ref expr.Ref) (string, error) {
		return s.value(ref, text, pos, what, r)
	})
	if err != nil {
		var se *expr.SyntaxError
		if errors.As(err, &se) {
			return "", pos.Errorf("%s: %s%s", what, se.Msg, lineOf(text, se.Offset))
		}
		return "", err
	}
	if len(out) > maxValueSize {
		return "", pos.Errorf("%s: substituted value is larger than %d bytes", what, maxValueSize)
	}
	return out, nil
}

// value resolves one reference written in text at pos.
func (s *scope) value(ref expr.Ref, text string, pos Pos, what string, r *resolution) (string, error) {
	b, ok := s.lookup(ref.Name)
	if !ok {
		return "", s.unknown(ref, text, pos, what)
	}
	if b.resolved != nil {
		return *b.resolved, nil
	}
	if !strings.Contains(b.text, "${{") {
		return b.text, nil
	}
	if b.resolving {
		return "", pos.Errorf("%s: ${{%s}} refers to itself (its value is %q)%s", what, ref.Name, b.text, lineOf(text, ref.Start))
	}
	if r.depth >= maxResolveDepth {
		return "", pos.Errorf("%s: values refer to values more than %d deep at ${{%s}}", what, maxResolveDepth, ref.Name)
	}
	home := b.home
	if home == nil {
		home = s
	}
	b.resolving = true
	r.depth++
	vpos := b.pos
	if !vpos.IsValid() {
		vpos = pos
	}
	out, err := home.expandText(b.text, vpos, "${{"+ref.Name+"}}", r)
	r.depth--
	b.resolving = false
	if err != nil {
		if b.pos.IsValid() && b.pos != pos {
			return "", fmt.Errorf("%w (substituted for ${{%s}} in %s at %s)", err, ref.Name, what, pos)
		}
		return "", err
	}
	if b.home != nil {
		b.resolved = &out
	}
	return out, nil
}

func (s *scope) unknown(ref expr.Ref, text string, pos Pos, what string) error {
	msg := fmt.Sprintf("%s: unknown variable ${{%s}}%s", what, ref.Name, lineOf(text, ref.Start))
	if c := yamlnode.Closest(ref.Name, s.names()); c != "" {
		msg += fmt.Sprintf("; did you mean ${{%s}}?", c)
	} else if w := definedWhere(ref.Name); w != "" {
		msg += " (" + w + ")"
	} else {
		for h := s; h != nil; h = h.parent {
			if h.hint != "" {
				msg += " (" + h.hint + ")"
				break
			}
		}
	}
	return pos.Errorf("%s", msg)
}

// expandFree substitutes the references in free text (descriptions,
// step names) that resolve, and leaves the others as written, as melange
// does for such fields.
func (s *scope) expandFree(v Str) Str {
	v.Value = expr.ExpandKnown(v.Value, func(ref expr.Ref) (string, bool) {
		out, err := s.value(ref, v.Value, v.Pos, "", &resolution{})
		return out, err == nil
	})
	return v
}

// definedWhere says where a variable melange knows is defined, for one
// used elsewhere.
func definedWhere(name string) string {
	switch {
	case name == "subpkg.name" || name == "targets.subpkgdir":
		return "it is defined in subpackage pipelines only"
	case strings.HasPrefix(name, "range."):
		return "it is defined in subpackages with range: only"
	case strings.HasPrefix(name, "inputs."):
		return "it is defined in pipelines given that input only"
	case strings.HasPrefix(name, "vars."):
		return "not defined in vars: or by var-transforms:"
	}
	for _, p := range []string{"targets.", "build.", "host.triplet.", "cross.triplet.", "options."} {
		if strings.HasPrefix(name, p) {
			return "it is defined in pipelines only, not in package metadata or environments"
		}
	}
	switch name {
	case "package.srcdir", "context.name":
		return "it is defined in pipelines only, not in package metadata or environments"
	}
	return ""
}

// lineOf says which line of a multi-line value an offset is on.
func lineOf(text string, off int) string {
	if !strings.Contains(text, "\n") {
		return ""
	}
	return fmt.Sprintf(" (line %d of the value)", strings.Count(text[:off], "\n")+1)
}

// cond evaluates an `if:`. An empty condition is true. early says the
// condition is written in melange.yaml, where melange has already put
// package.*, vars.* and range.* in as plain text by the time it quotes
// and inserts the other variables.
func (s *scope) cond(v Str, early bool) (bool, error) {
	if v.Value == "" {
		return true, nil
	}
	text := v.Value
	if early {
		// melange replaces these without looking inside the values, and
		// only where written exactly (no blanks in the braces).
		var err error
		text, err = expr.Expand(text, func(ref expr.Ref) (string, error) {
			if b, ok := s.lookup(ref.Name); ok && b.early && ref.Exact {
				return b.text, nil
			}
			return text[ref.Start:ref.End], nil
		})
		if err != nil {
			return false, v.Pos.Errorf("if: %v", err)
		}
	}
	r := &resolution{}
	quoted, err := expr.Expand(text, func(ref expr.Ref) (string, error) {
		val, err := s.value(ref, text, v.Pos, "if", r)
		return expr.Quote(val), err
	})
	if err != nil {
		var se *expr.SyntaxError
		if errors.As(err, &se) {
			return false, v.Pos.Errorf("if: %s", se.Msg)
		}
		return false, err
	}
	ok, err := expr.Eval(quoted)
	if err != nil {
		if quoted != v.Value {
			return false, v.Pos.Errorf("if: %v (after substitution; written %q)", err, v.Value)
		}
		return false, v.Pos.Errorf("if: %v", err)
	}
	return ok, nil
}
