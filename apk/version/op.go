package version

// Op is the comparison in a dependency constraint.
type Op uint8

const (
	OpAny          Op = iota // no version given
	OpEqual                  // =
	OpLess                   // <
	OpLessEqual              // <=
	OpGreater                // >
	OpGreaterEqual           // >=
	OpFuzzy                  // ~ (also read as =~ or ~=): the version starts with these tokens
	OpGreaterFuzzy           // >~: ~ or newer
	OpLessFuzzy              // <~: ~ or older
	OpChecksum               // >< followed by a Q1/Q2 package checksum
)

var opText = [...]string{
	OpAny: "", OpEqual: "=", OpLess: "<", OpLessEqual: "<=", OpGreater: ">", OpGreaterEqual: ">=",
	OpFuzzy: "~", OpGreaterFuzzy: ">~", OpLessFuzzy: "<~", OpChecksum: "><",
}

// String returns the operator as apk writes it ("" for OpAny).
func (o Op) String() string {
	if int(o) < len(opText) {
		return opText[o]
	}
	return "?"
}

// parseOp reads an operator. apk-tools ORs the characters of any run of
// < > = ~ together, so it also takes "=>" or "<<"; only the spellings apk
// writes, plus =~ and ~= (which apk reads as ~) and == (which apk reads
// as =, and configs coming from other package managers write), are
// accepted here, so a typo is an error rather than a different constraint.
func parseOp(s string) (Op, bool) {
	switch s {
	case "=", "==":
		return OpEqual, true
	case "<":
		return OpLess, true
	case "<=":
		return OpLessEqual, true
	case ">":
		return OpGreater, true
	case ">=":
		return OpGreaterEqual, true
	case "~", "=~", "~=":
		return OpFuzzy, true
	case ">~":
		return OpGreaterFuzzy, true
	case "<~":
		return OpLessFuzzy, true
	case "><":
		return OpChecksum, true
	}
	return OpAny, false
}

func isOpChar(c byte) bool { return c == '<' || c == '>' || c == '=' || c == '~' }
