// Package expr is melange's small template language: ${{name}}
// references in configuration values, and the conditions of `if:`
// fields (==, !=, &&, ||, parentheses and quoted strings).
package expr

import (
	"fmt"
	"strings"
)

// Ref is one ${{name}} reference in a text.
type Ref struct {
	Name string
	// Start and End are the byte offsets of the whole reference,
	// "${{" to "}}" inclusive.
	Start, End int
	// Exact is set when the reference is written without blanks inside
	// the braces. melange substitutes some variables before the rest by
	// plain text replacement, which sees only exact references.
	Exact bool
}

// SyntaxError is a malformed reference or condition.
type SyntaxError struct {
	Offset int // byte offset in the text
	Msg    string
}

func (e *SyntaxError) Error() string { return e.Msg }

// nameChar reports whether c may appear in a variable name.
func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

func blank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Refs returns the references in s, in order. Anything that starts with
// "${{" must be a well-formed reference, as melange requires.
func Refs(s string) ([]Ref, error) {
	var refs []Ref
	for i := 0; ; {
		j := strings.Index(s[i:], "${{")
		if j < 0 {
			return refs, nil
		}
		start := i + j
		k := start + 3
		for k < len(s) && blank(s[k]) {
			k++
		}
		nameStart := k
		for k < len(s) && nameChar(s[k]) {
			k++
		}
		name := s[nameStart:k]
		if name == "" {
			return nil, &SyntaxError{Offset: start, Msg: "empty variable name in ${{...}}"}
		}
		for k < len(s) && blank(s[k]) {
			k++
		}
		if !strings.HasPrefix(s[k:], "}}") {
			return nil, &SyntaxError{Offset: start, Msg: fmt.Sprintf("unterminated reference to %q (want ${{%s}})", name, name)}
		}
		end := k + 2
		refs = append(refs, Ref{Name: name, Start: start, End: end, Exact: s[start:end] == "${{"+name+"}}"})
		i = end
	}
}

// Expand replaces each reference in s with what value returns for it.
// The replacement text is not scanned again.
func Expand(s string, value func(Ref) (string, error)) (string, error) {
	refs, err := Refs(s)
	if err != nil || len(refs) == 0 {
		return s, err
	}
	var b strings.Builder
	last := 0
	for _, r := range refs {
		v, err := value(r)
		if err != nil {
			return "", err
		}
		b.WriteString(s[last:r.Start])
		b.WriteString(v)
		last = r.End
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// ExpandKnown replaces the references value knows (ok) and leaves the
// rest, malformed ones included, as written. melange treats free text
// (descriptions, step names) this way: it replaces what it can and never
// fails on it.
func ExpandKnown(s string, value func(Ref) (string, bool)) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${{")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		refs, err := Refs(s[:refEnd(s)])
		if err != nil || len(refs) == 0 {
			b.WriteString("${{")
			s = s[3:]
			continue
		}
		r := refs[0]
		if v, ok := value(r); ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[:r.End])
		}
		s = s[r.End:]
	}
}

// refEnd is where a reference starting at s[0] ends at the latest: just
// after the first "}}", or the end of s.
func refEnd(s string) int {
	if j := strings.Index(s, "}}"); j >= 0 {
		return j + 2
	}
	return len(s)
}
