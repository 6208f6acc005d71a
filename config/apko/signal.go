package apko

import (
	"strconv"
	"strings"
)

// Linux signal names, as container runtimes accept them in an image's
// StopSignal (with or without "SIG", in any case).
var signalNames = map[string]bool{
	"ABRT": true, "ALRM": true, "BUS": true, "CHLD": true, "CLD": true, "CONT": true, "FPE": true,
	"HUP": true, "ILL": true, "INT": true, "IO": true, "IOT": true, "KILL": true, "PIPE": true,
	"POLL": true, "PROF": true, "PWR": true, "QUIT": true, "SEGV": true, "STKFLT": true,
	"STOP": true, "SYS": true, "TERM": true, "TRAP": true, "TSTP": true, "TTIN": true,
	"TTOU": true, "URG": true, "USR1": true, "USR2": true, "VTALRM": true, "WINCH": true,
	"XCPU": true, "XFSZ": true, "UNUSED": true, "RTMIN": true, "RTMAX": true,
}

// validSignal reports whether s names a signal: a number 1-64, a name,
// or RTMIN+n / RTMAX-n within the real-time range.
func validSignal(s string) bool {
	if n, err := strconv.Atoi(s); err == nil {
		return n >= 1 && n <= 64
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if signalNames[name] {
		return true
	}
	// SIGRTMIN is 34 and SIGRTMAX 64 on Linux.
	for rt, most := range map[string]int{"RTMIN+": 15, "RTMAX-": 14} {
		if rest, ok := strings.CutPrefix(name, rt); ok {
			n, err := strconv.Atoi(rest)
			return err == nil && rest[0] != '+' && rest[0] != '-' && n >= 1 && n <= most
		}
	}
	return false
}
