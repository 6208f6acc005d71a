package version

import (
	"fmt"
	"strings"
)

// Dependency is one parsed constraint: `[!]name[@tag][op version]` or
// `name><Q1checksum`. Index provides (`so:libc.musl-x86_64.so.1=1`) use
// the same form.
type Dependency struct {
	Name     string
	Tag      string // repository pin, without '@'
	Op       Op
	Version  string // as written (OpChecksum: the "Q1…" checksum)
	Conflict bool   // leading '!'

	ver Version // Version parsed, when Op compares versions and it is valid
}

// ParseDependency parses one constraint. Every malformed part (empty
// name or tag, unknown operator, operator without a version, bad version
// or checksum) is an error quoting s.
func ParseDependency(s string) (Dependency, error) {
	d, _, err := parseDependency(s, false)
	return d, err
}

// ParseDependencyLoose is ParseDependency for fields read from an index.
// Like apk, it keeps a constraint whose version is malformed, reporting
// broken; Matches then compares that version loosely (see CompareLoose).
// Other errors are as for ParseDependency.
func ParseDependencyLoose(s string) (d Dependency, broken bool, err error) {
	return parseDependency(s, true)
}

func parseDependency(s string, loose bool) (Dependency, bool, error) {
	var d Dependency
	broken := false
	bad := func(format string, args ...any) (Dependency, bool, error) {
		return Dependency{}, false, fmt.Errorf("invalid dependency %q: %s", s, fmt.Sprintf(format, args...))
	}
	rest := s
	if len(rest) > 0 && rest[0] == '!' {
		d.Conflict = true
		rest = rest[1:]
	}
	name := rest
	if i := indexOp(rest); i >= 0 {
		name = rest[:i]
		j := i + 1
		for j < len(rest) && isOpChar(rest[j]) {
			j++
		}
		opStr := rest[i:j]
		op, ok := parseOp(opStr)
		if !ok {
			return bad("unknown operator %q", opStr)
		}
		d.Op, d.Version = op, rest[j:]
		if d.Version == "" {
			return bad("operator %q without a version", opStr)
		}
		if op == OpChecksum {
			if !validChecksum(d.Version) {
				return bad("%q is not a Q1/Q2 base64 checksum", d.Version)
			}
		} else if v, err := Parse(d.Version); err == nil {
			d.ver = v
		} else if loose {
			broken = true
		} else {
			return Dependency{}, false, fmt.Errorf("invalid dependency %q: %w", s, err)
		}
	}
	if at := strings.IndexByte(name, '@'); at >= 0 {
		name, d.Tag = name[:at], name[at+1:]
		if d.Tag == "" {
			return bad("'@' without a repository tag")
		}
		if i := badNameChar(d.Tag); i >= 0 {
			return bad("character %q in tag", d.Tag[i])
		}
	}
	if name == "" {
		return bad("empty name")
	}
	if i := badNameChar(name); i >= 0 {
		return bad("character %q in name", name[i])
	}
	d.Name = name
	return d, broken, nil
}

func indexOp(s string) int {
	for i := 0; i < len(s); i++ {
		if isOpChar(s[i]) {
			return i
		}
	}
	return -1
}

// nameChars are the characters apk-tools allows in dependency names (and
// tags): package-name characters plus the ':' '/' ',' '[' ']' of virtual
// names like so:libc.musl-x86_64.so.1, cmd:[ and /bin/sh.
var nameChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "+-._:/,[]" {
		t[c] = true
	}
	return t
}()

// badNameChar returns the index of the first character not allowed in a
// name, or -1.
func badNameChar(s string) int {
	for i := 0; i < len(s); i++ {
		if !nameChars[s[i]] {
			return i
		}
	}
	return -1
}

// validChecksum accepts "Q1" (SHA-1) or "Q2" (SHA-256) followed by
// padded standard base64. The digest length is not checked: a pin of the
// wrong length simply matches no package.
func validChecksum(s string) bool {
	if len(s) < 6 || s[0] != 'Q' || (s[1] != '1' && s[1] != '2') {
		return false
	}
	b := s[2:]
	if len(b)%4 != 0 {
		return false
	}
	pad := 0
	for pad < 2 && b[len(b)-1-pad] == '=' {
		pad++
	}
	for i := 0; i < len(b)-pad; i++ {
		c := b[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// ParseDependencies parses a list separated by spaces or newlines (apk's
// separators), as in index D:, p:, i: and r: fields and the world file.
// The first malformed entry fails the whole list.
func ParseDependencies(s string) ([]Dependency, error) {
	out := make([]Dependency, 0, countFields(s))
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != ' ' && s[i] != '\n' {
			i++
		}
		if i > 0 {
			d, err := ParseDependency(s[:i])
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		if i == len(s) {
			break
		}
		s = s[i+1:]
	}
	return out, nil
}

func countFields(s string) int {
	n, in := 0, false
	for i := 0; i < len(s); i++ {
		sep := s[i] == ' ' || s[i] == '\n'
		if !sep && !in {
			n++
		}
		in = !sep
	}
	return n
}

// String renders the canonical form, which ParseDependency reads back
// (=~ and ~= come back as ~).
func (d Dependency) String() string {
	var b strings.Builder
	b.Grow(1 + len(d.Name) + 1 + len(d.Tag) + 2 + len(d.Version))
	if d.Conflict {
		b.WriteByte('!')
	}
	b.WriteString(d.Name)
	if d.Tag != "" {
		b.WriteByte('@')
		b.WriteString(d.Tag)
	}
	if d.Op != OpAny {
		b.WriteString(d.Op.String())
		b.WriteString(d.Version)
	}
	return b.String()
}
