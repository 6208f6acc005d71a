package yamlnode

import (
	"fmt"
	"strconv"
)

// Pos is where a value was written. Line and Column are 1-based; a zero
// Line means the value was not written in any file (a default).
type Pos struct {
	File   string
	Line   int
	Column int
}

// IsValid reports whether p names a place in a file.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String formats p as "file:line:col", leaving out what is unknown.
func (p Pos) String() string {
	s := p.File
	if p.Line <= 0 {
		return s
	}
	if s != "" {
		s += ":"
	}
	s += strconv.Itoa(p.Line)
	if p.Column > 0 {
		s += ":" + strconv.Itoa(p.Column)
	}
	return s
}

// Errorf returns an *Error at p.
func (p Pos) Errorf(format string, args ...any) error {
	e := &Error{File: p.File, Line: p.Line, Column: p.Column, Msg: fmt.Sprintf(format, args...)}
	// Keep the cause reachable through errors.Is/As when one is wrapped.
	for _, a := range args {
		if err, ok := a.(error); ok {
			e.Err = err
		}
	}
	return e
}

// Error is a problem at a place in a YAML file.
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
	Err    error // the wrapped cause, if any; its text is already in Msg
}

// Error formats the error as "file:line:col: msg".
func (e *Error) Error() string {
	p := e.Pos().String()
	if p == "" {
		return e.Msg
	}
	return p + ": " + e.Msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Pos returns where the error is.
func (e *Error) Pos() Pos { return Pos{File: e.File, Line: e.Line, Column: e.Column} }
