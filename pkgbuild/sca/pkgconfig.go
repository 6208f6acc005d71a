package sca

import (
	"bytes"
	"fmt"
	"strings"
)

// pkgConfigRequires returns the module names a pkg-config file requires
// (Requires, Requires.private and pkgconf's Requires.internal), parsed as
// pkg-config itself does: comments from '#', "name=value" variables
// expanded as ${name}, lines continued with a trailing backslash, and
// dependency lists separated by commas or spaces with optional
// "op version" constraints.
func pkgConfigRequires(data []byte) ([]string, error) {
	vars := map[string]string{}
	var out []string
	for n, line := range pcLines(data) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		end := 0
		for end < len(line) && isPCKeyChar(line[end]) {
			end++
		}
		key := line[:end]
		rest := strings.TrimLeft(line[end:], " \t")
		if key == "" || rest == "" {
			return nil, fmt.Errorf("line %d: %q is neither \"name=value\" nor \"Field: value\"", n+1, line)
		}
		value := expandPCVars(strings.TrimSpace(rest[1:]), vars)
		switch rest[0] {
		case '=':
			vars[key] = value
		case ':':
			switch key {
			case "Requires", "Requires.private", "Requires.internal":
				mods, err := pcModuleList(value)
				if err != nil {
					return nil, fmt.Errorf("line %d: %s: %w", n+1, key, err)
				}
				out = append(out, mods...)
			}
		default:
			return nil, fmt.Errorf("line %d: %q is neither \"name=value\" nor \"Field: value\"", n+1, line)
		}
	}
	return out, nil
}

func isPCKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

// pcLines splits a pkg-config file into logical lines with comments
// removed ('\#' is a literal '#') and backslash-newline continuations
// joined.
func pcLines(data []byte) []string {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	var lines []string
	var cur strings.Builder
	comment := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\n':
			lines = append(lines, cur.String())
			cur.Reset()
			comment = false
		case comment:
		case c == '\\' && i+1 < len(data) && data[i+1] == '\n':
			i++ // continuation: the next line goes on this one
		case c == '\\' && i+1 < len(data) && data[i+1] == '#':
			cur.WriteByte('#')
			i++
		case c == '#':
			comment = true
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// expandPCVars replaces ${name} with the variable's value ("" when it is
// not defined) and "$$" with "$".
func expandPCVars(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "$$"):
			b.WriteByte('$')
			i++
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			b.WriteString(vars[s[i+2:i+end]])
			i += end
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// pcModuleList parses "a, b >= 1.0 c<2" into the module names.
func pcModuleList(s string) ([]string, error) {
	var mods []string
	isSep := func(c byte) bool { return c == ' ' || c == '\t' || c == ',' }
	isOp := func(c byte) bool { return c == '<' || c == '>' || c == '=' || c == '!' }
	i := 0
	skipSep := func() {
		for i < len(s) && isSep(s[i]) {
			i++
		}
	}
	skipSep()
	for i < len(s) {
		if isOp(s[i]) {
			return nil, fmt.Errorf("%q: version constraint without a module name", s)
		}
		start := i
		for i < len(s) && !isSep(s[i]) && !isOp(s[i]) {
			i++
		}
		mods = append(mods, s[start:i])
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i < len(s) && isOp(s[i]) {
			opStart := i
			for i < len(s) && isOp(s[i]) {
				i++
			}
			switch op := s[opStart:i]; op {
			case "=", "<", ">", "<=", ">=", "!=":
			default:
				return nil, fmt.Errorf("%q: unknown comparison %q", s, op)
			}
			for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
				i++
			}
			vStart := i
			for i < len(s) && !isSep(s[i]) {
				i++
			}
			if vStart == i {
				return nil, fmt.Errorf("%q: comparison without a version", s)
			}
		}
		skipSep()
	}
	return mods, nil
}
