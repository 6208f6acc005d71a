package sca

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// shbangPeek is how much of a script melange reads for its #! line.
const shbangPeek = 80

// shbangIgnored are interpreters melange never depends on: they are
// symlinks nothing provides as cmd:, or come in incompatible variants.
var shbangIgnored = map[string]bool{"python3": true, "python": true, "sh": true, "awk": true, "luajit": true}

// shbangInterpreter returns the interpreter a script's #! line names,
// looking through "/usr/bin/env [-S] name", or "" when there is none or
// it is ignored.
func shbangInterpreter(r io.Reader) (string, error) {
	buf := make([]byte, shbangPeek)
	n, err := io.ReadFull(r, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", err
	}
	buf = buf[:n]
	if !bytes.HasPrefix(buf, []byte("#!")) {
		return "", nil
	}
	line, _, _ := strings.Cut(string(buf[2:]), "\n")
	toks := strings.Fields(line)
	if len(toks) == 0 {
		return "", nil
	}
	bin := toks[0]
	if bin == "/usr/bin/env" {
		switch {
		case len(toks) == 2:
			bin = toks[1]
		case len(toks) >= 3 && toks[1] == "-S" && !strings.HasPrefix(toks[2], "-"):
			bin = toks[2]
		default:
			return "", fmt.Errorf("cannot tell the interpreter of #!%s", line)
		}
	}
	if shbangIgnored[path.Base(bin)] {
		return "", nil
	}
	return bin, nil
}
