package version

import (
	"fmt"
	"strings"
)

// Op is the comparison in a dependency constraint.
type Op uint8

const (
	OpAny          Op = iota // no version given
	OpEqual                  // =
	OpLess                   // <
	OpLessEqual              // <=
	OpGreater                // >
	OpGreaterEqual           // >=
	OpFuzzy                  // ~ (or =~, ~=): the version starts with these components
	OpGreaterFuzzy           // >~
	OpLessFuzzy              // <~
	OpChecksum               // >< followed by a Q1 checksum
)

var opText = map[Op]string{
	OpEqual: "=", OpLess: "<", OpLessEqual: "<=", OpGreater: ">", OpGreaterEqual: ">=",
	OpFuzzy: "~", OpGreaterFuzzy: ">~", OpLessFuzzy: "<~", OpChecksum: "><",
}

// opByText accepts the spellings apk-tools writes and reads; other
// combinations of < > = ~ are rejected rather than guessed at.
var opByText = map[string]Op{
	"=": OpEqual, "<": OpLess, "<=": OpLessEqual, ">": OpGreater, ">=": OpGreaterEqual,
	"~": OpFuzzy, "=~": OpFuzzy, "~=": OpFuzzy, ">~": OpGreaterFuzzy, "<~": OpLessFuzzy, "><": OpChecksum,
}

func (o Op) String() string { return opText[o] }

// Dependency is one parsed constraint: `[!]name[@tag][op version]` or
// `name><Q1checksum`.
type Dependency struct {
	Name     string
	Tag      string // repository pin, without '@'
	Op       Op
	Version  string // as written (OpChecksum: the checksum)
	Conflict bool   // leading '!'

	ver Version // parsed Version, when Op compares versions
}

func isOpChar(c byte) bool { return c == '<' || c == '>' || c == '=' || c == '~' }

// Name characters apk accepts in dependency names: package-name
// characters plus the ':' '/' ',' '[' ']' of virtual names like so:, cmd:, pc:.
func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("+-._:/,[]", c) >= 0
}

func isTagChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("+-._:/,[]", c) >= 0
}

// ParseDependency parses one constraint.
func ParseDependency(s string) (Dependency, error) {
	bad := func(why string) (Dependency, error) {
		return Dependency{}, fmt.Errorf("invalid dependency %q: %s", s, why)
	}
	var d Dependency
	rest := s
	if strings.HasPrefix(rest, "!") {
		d.Conflict = true
		rest = rest[1:]
	}
	opStart := strings.IndexFunc(rest, func(r rune) bool { return r < 128 && isOpChar(byte(r)) })
	name := rest
	if opStart >= 0 {
		name = rest[:opStart]
		opEnd := opStart
		for opEnd < len(rest) && isOpChar(rest[opEnd]) {
			opEnd++
		}
		op, ok := opByText[rest[opStart:opEnd]]
		if !ok {
			return bad(fmt.Sprintf("unknown operator %q", rest[opStart:opEnd]))
		}
		d.Op, d.Version = op, rest[opEnd:]
		if d.Version == "" {
			return bad(fmt.Sprintf("operator %q without a version", rest[opStart:opEnd]))
		}
		if op == OpChecksum {
			if !strings.HasPrefix(d.Version, "Q1") && !strings.HasPrefix(d.Version, "Q2") {
				return bad("a >< pin needs a Q1 or Q2 checksum")
			}
		} else {
			v, err := Parse(d.Version)
			if err != nil {
				return bad(err.Error())
			}
			d.ver = v
		}
	}
	if at := strings.IndexByte(name, '@'); at >= 0 {
		d.Tag = name[at+1:]
		name = name[:at]
		if d.Tag == "" {
			return bad("'@' without a repository tag")
		}
		for i := 0; i < len(d.Tag); i++ {
			if !isTagChar(d.Tag[i]) {
				return bad(fmt.Sprintf("character %q in tag", d.Tag[i]))
			}
		}
	}
	if name == "" {
		return bad("empty name")
	}
	for i := 0; i < len(name); i++ {
		if !isNameChar(name[i]) {
			return bad(fmt.Sprintf("character %q in name", name[i]))
		}
	}
	d.Name = name
	return d, nil
}

// ParseDependencies parses a space-separated list, as in index D:, p:
// and i: fields.
func ParseDependencies(s string) ([]Dependency, error) {
	fields := strings.Fields(s)
	out := make([]Dependency, 0, len(fields))
	for _, f := range fields {
		d, err := ParseDependency(f)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// String renders the canonical form, which ParseDependency reads back.
func (d Dependency) String() string {
	var b strings.Builder
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

// Parsed returns the constraint's version, parsing it if the Dependency
// was built by hand.
func (d Dependency) Parsed() (Version, error) {
	if !d.ver.IsZero() {
		return d.ver, nil
	}
	return Parse(d.Version)
}

// MatchesLoose is Matches for a version string that may be malformed,
// compared as apk-tools compares it (see CompareLoose).
func (d Dependency) MatchesLoose(v string) bool {
	toks, _ := tokenize(v)
	return d.Matches(Version{raw: v, toks: toks})
}

// Matches reports whether v satisfies the version condition. It ignores
// Conflict (the caller decides what a match of a '!' constraint means),
// and a checksum pin never matches a version.
func (d Dependency) Matches(v Version) bool {
	if d.Op == OpAny {
		return true
	}
	if d.Op == OpChecksum {
		return false
	}
	want, err := d.Parsed()
	if err != nil {
		return false
	}
	switch d.Op {
	case OpEqual:
		return compare(v.toks, want.toks, false) == 0
	case OpLess:
		return compare(v.toks, want.toks, false) < 0
	case OpLessEqual:
		return compare(v.toks, want.toks, false) <= 0
	case OpGreater:
		return compare(v.toks, want.toks, false) > 0
	case OpGreaterEqual:
		return compare(v.toks, want.toks, false) >= 0
	case OpFuzzy:
		return compare(v.toks, want.toks, true) == 0
	case OpGreaterFuzzy:
		return compare(v.toks, want.toks, true) >= 0
	case OpLessFuzzy:
		return compare(v.toks, want.toks, true) <= 0
	}
	return false
}
