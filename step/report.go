package step

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// A step that refuses its input (a tampered package, an unsafe path, two
// packages claiming one file) says why on stderr, which BuildKit shows in
// the step's log; the last line buildx prints is BuildKit's generic "process
// ... did not complete successfully". So every step also writes its reason
// into an output mount of its own, MountReport: BuildKit keeps a failed
// exec's outputs for the frontend (as it does for `buildx debug`), and the
// frontend puts that reason on the user's last line.
const (
	// MountReport is the output where a step leaves ReportFile when it fails.
	MountReport = "/report"
	// ReportFile holds the step's error message, one line of text.
	ReportFile = "error.txt"
	// MaxReport bounds the message the frontend reads (a package controls
	// part of it, through the names it ships).
	MaxReport = 4 << 10
	// ReportFlag comes right after the command name when a step has a report
	// output.
	ReportFlag = "--report"
)

// WithReport gives a step's command line (as Args builds it) the report
// output dir, right after the command name.
func WithReport(args []string, dir string) []string {
	if len(args) < 2 {
		return args
	}
	out := make([]string, 0, len(args)+2)
	out = append(out, args[:2]...)
	out = append(out, ReportFlag, dir)
	return append(out, args[2:]...)
}

// CutReport takes the report flag off the arguments after a step's command
// name and returns its directory ("" when there is none) and the rest.
func CutReport(args []string) (dir string, rest []string) {
	if len(args) >= 2 && args[0] == ReportFlag {
		return args[1], args[2:]
	}
	return "", args
}

// ReportDir returns the report output of a step's command line (as an exec
// runs it: binary, command, flags), or "" when it has none.
func ReportDir(args []string) string {
	if len(args) < 2 || args[0] != ToolBinary {
		return ""
	}
	dir, _ := CutReport(args[2:])
	return dir
}

// WriteReport leaves err's message in dir for the frontend. It writes
// nothing for a usage error (a kiln bug, not the input's fault: the generic
// failure says enough) or when dir is "".
func WriteReport(dir string, err error) error {
	var ue UsageError
	if dir == "" || err == nil || errors.As(err, &ue) {
		return nil
	}
	// dir may be an output the step also writes its results to: the
	// report goes through no link.
	f, ferr := os.OpenFile(filepath.Join(dir, ReportFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o644)
	if ferr != nil {
		return ferr
	}
	if _, ferr := f.WriteString(CleanReport(err.Error()) + "\n"); ferr != nil {
		f.Close()
		return ferr
	}
	return f.Close()
}

// ReadReport reads the message a failed step left in dir.
func ReadReport(dir string) (string, error) {
	f, err := os.Open(filepath.Join(dir, ReportFile))
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxReport+1))
	if err != nil {
		return "", err
	}
	msg := CleanReport(string(b))
	if msg == "" {
		return "", fmt.Errorf("%s: empty report", filepath.Join(dir, ReportFile))
	}
	return msg, nil
}

// CleanReport makes a message safe to show on a terminal as one line:
// control characters and invalid UTF-8 become '?', surrounding space goes,
// and it is cut to MaxReport bytes (on a rune boundary).
func CleanReport(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r == utf8.RuneError:
			r = '?'
		case r == '\n' || r == '\t':
			r = ' '
		case unicode.IsControl(r) || !unicode.IsPrint(r) && r != ' ':
			r = '?'
		}
		if b.Len()+utf8.RuneLen(r) > MaxReport {
			break
		}
		b.WriteRune(r)
	}
	// The cut, or a newline turned into a space, can leave spaces at the
	// end; trimmed, a cleaned report cleans to itself.
	return strings.TrimRight(b.String(), " ")
}
