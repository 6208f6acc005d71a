package repo

import (
	"strings"
	"testing"
)

// Repository lines come from configs: whatever parses prints back as a
// line that parses to the same repository, and never names a location
// with a line break.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"https://dl-cdn.alpinelinux.org/alpine/v3.16/main", "@testing https://x/y", "./packages", "/abs/dir",
		"  # comment", "", "@t", "http://127.0.0.1:8080/p/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseLine(line)
		if err != nil {
			return
		}
		if strings.ContainsAny(r.Base, "\n\r") {
			t.Fatalf("%q: location %q has a line break", line, r.Base)
		}
		again, err := ParseLine(r.String())
		if err != nil || again != r {
			t.Fatalf("%q -> %q -> %+v, %v; want %+v", line, r.String(), again, err, r)
		}
	})
}
