package expr

import (
	"fmt"
	"strings"
)

// Eval evaluates a condition whose references have been substituted
// (see Quote). The grammar is melange's:
//
//	cond  = atom { ("&&" | "||") atom }
//	atom  = "(" cond ")" | value ("==" | "!=") value
//	value = 'text' | "text"
//
// && and || bind equally and apply left to right, as in melange, so
// a || b && c is (a || b) && c. In a quoted string, \\ \' \" \n and \t
// are escapes; any other backslash is kept as written.
func Eval(cond string) (bool, error) {
	c := &condParser{s: cond}
	v, err := c.expr()
	if err != nil {
		return false, err
	}
	c.skip()
	if c.i != len(c.s) {
		return false, c.errorf("unexpected %q after the condition", c.s[c.i:])
	}
	return v, nil
}

// Quote writes v as a condition string literal, the way melange inserts
// variable values into conditions (Go's strconv.Quote, read back with
// the escapes Eval knows).
func Quote(v string) string { return fmt.Sprintf("%q", v) }

type condParser struct {
	s string
	i int
}

func (c *condParser) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: c.i, Msg: fmt.Sprintf("condition %q: ", c.s) + fmt.Sprintf(format, args...)}
}

func (c *condParser) skip() {
	for c.i < len(c.s) && blank(c.s[c.i]) {
		c.i++
	}
}

func (c *condParser) op(ops ...string) string {
	c.skip()
	for _, op := range ops {
		if strings.HasPrefix(c.s[c.i:], op) {
			c.i += len(op)
			return op
		}
	}
	return ""
}

func (c *condParser) expr() (bool, error) {
	v, err := c.atom()
	if err != nil {
		return false, err
	}
	for {
		op := c.op("&&", "||")
		if op == "" {
			return v, nil
		}
		rhs, err := c.atom()
		if err != nil {
			return false, err
		}
		if op == "&&" {
			v = v && rhs
		} else {
			v = v || rhs
		}
	}
}

func (c *condParser) atom() (bool, error) {
	if c.op("(") != "" {
		v, err := c.expr()
		if err != nil {
			return false, err
		}
		if c.op(")") == "" {
			return false, c.errorf("missing ')'")
		}
		return v, nil
	}
	lhs, err := c.value()
	if err != nil {
		return false, err
	}
	op := c.op("==", "!=")
	if op == "" {
		return false, c.errorf("expected == or != at offset %d", c.i)
	}
	rhs, err := c.value()
	if err != nil {
		return false, err
	}
	return (lhs == rhs) == (op == "=="), nil
}

func (c *condParser) value() (string, error) {
	c.skip()
	if c.i >= len(c.s) {
		return "", c.errorf("expected a quoted string at the end")
	}
	q := c.s[c.i]
	if q != '\'' && q != '"' {
		if strings.HasPrefix(c.s[c.i:], "${{") {
			return "", c.errorf("unsubstituted reference at offset %d", c.i)
		}
		return "", c.errorf("expected a quoted string at offset %d, found %q", c.i, c.s[c.i])
	}
	start := c.i
	c.i++
	var b strings.Builder
	for c.i < len(c.s) && c.s[c.i] != q {
		ch := c.s[c.i]
		if ch == '\\' && c.i+1 < len(c.s) {
			c.i++
			switch e := c.s[c.i]; e {
			case '\\', '\'', '"':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		} else {
			b.WriteByte(ch)
		}
		c.i++
	}
	if c.i >= len(c.s) {
		c.i = start
		return "", c.errorf("unterminated string starting at offset %d", start)
	}
	c.i++
	return b.String(), nil
}
