package resolve

import (
	"fmt"
	"testing"
)

// Each candidate occupies a name once, however often its p: line names
// it, and other candidates' provides of the same name are kept.
func TestDuplicateProvides(t *testing.T) {
	tests := []struct {
		name     string
		repo     Repository
		provided string
		want     int // providers of provided
	}{
		{"same provide twice", repo("m", pk("a-1-r0", "p:so:x.so.1=1 so:x.so.1=1")), "so:x.so.1", 1},
		{"versioned and bare", repo("m", pk("a-1-r0", "p:cmd:x cmd:x=1")), "cmd:x", 1},
		{"own name provided", repo("m", pk("a-1-r0", "p:a a=1")), "a", 1},
		{"two packages, one name", repo("m", pk("a-1-r0", "p:so:x.so.1=1 so:x.so.1=1"), pk("b-1-r0", "p:so:x.so.1=2")), "so:x.so.1", 2},
		{"a package after a long line", repo("m", pk("a-1-r0", "p:"+longProvides(3000)+" so:x.so.1=1"), pk("b-1-r0", "p:so:x.so.1=2 so:x.so.1=2")), "so:x.so.1", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New([]Repository{tt.repo})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(r.providers(r.nameID[tt.provided])); got != tt.want {
				t.Errorf("%d providers of %s, want %d", got, tt.provided, tt.want)
			}
		})
	}
}

func longProvides(n int) string {
	s := ""
	for i := range n {
		s += fmt.Sprintf(" so:l%d.so.1=1", i%(n/2)) // every name twice
	}
	return s[1:]
}

// A long p: line resolves like a short one.
func TestLongProvidesResolves(t *testing.T) {
	r, err := New(longProvidesRepo(20000))
	if err != nil {
		t.Fatal(err)
	}
	sol, err := r.Resolve([]string{"user"})
	if err != nil {
		t.Fatal(err)
	}
	if got := order(sol); got != "big-1.0-r0 user-1.0-r0" {
		t.Errorf("solution %s", got)
	}
	if n := len(r.providers(r.nameID["so:libx0000000.so.1"])); n != 1 {
		t.Errorf("duplicated provide has %d providers", n)
	}
}
