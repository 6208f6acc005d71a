package plan

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/kiln-build/kiln/internal/testkit"
)

func TestGroup(t *testing.T) {
	m := func(name, origin string, size uint64, replaces ...string) Member {
		return Member{Name: name, Origin: origin, InstalledSize: size, Replaces: replaces}
	}
	tests := []struct {
		name    string
		members []Member
		l       Layering
		want    [][]int
		wantErr string
	}{
		{"default one per package", []Member{m("a", "a", 1), m("b", "x", 2), m("c", "x", 3)}, Layering{}, [][]int{{0}, {1}, {2}}, ""},
		{"default replaces merged", []Member{m("a", "a", 1), m("b", "b", 2), m("c", "c", 3, "a>=1")}, Layering{}, [][]int{{0, 2}, {1}}, ""},
		{"origin groups subpackages", []Member{m("a", "a", 1), m("b", "x", 2), m("c", "x", 3)}, Layering{Strategy: "origin"}, [][]int{{0}, {1, 2}}, ""},
		{"origin budget keeps largest", []Member{m("a", "a", 10), m("b", "b", 1), m("c", "c", 30), m("d", "d", 2)}, Layering{Strategy: "origin", Budget: 2}, [][]int{{0, 1, 3}, {2}}, ""},
		{"budget one", []Member{m("a", "a", 10), m("b", "b", 1)}, Layering{Strategy: "origin", Budget: 1}, [][]int{{0, 1}}, ""},
		{"bad strategy", []Member{m("a", "a", 1)}, Layering{Strategy: "size"}, nil, `unknown strategy "size"`},
		{"bad budget", []Member{m("a", "a", 1)}, Layering{Budget: -1}, nil, "budget -1"},
		{"empty", nil, Layering{}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Group(tt.members, tt.l)
			if testkit.ErrorCase(t, err, tt.wantErr) {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Group = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestGroupDefaultBudget checks the default keeps every package when it
// fits and never exceeds the budget, with every package placed once.
func TestGroupDefaultBudget(t *testing.T) {
	for _, n := range []int{1, DefaultLayerBudget, DefaultLayerBudget + 1, 200} {
		var ms []Member
		for i := 0; i < n; i++ {
			ms = append(ms, Member{Name: fmt.Sprintf("p%03d", i), Origin: fmt.Sprintf("o%d", i%60), InstalledSize: uint64(i)})
		}
		got, err := Group(ms, Layering{})
		if err != nil {
			t.Fatal(err)
		}
		if n <= DefaultLayerBudget && len(got) != n {
			t.Errorf("n=%d: %d layers, want one per package", n, len(got))
		}
		if len(got) > DefaultLayerBudget {
			t.Errorf("n=%d: %d layers exceed the budget", n, len(got))
		}
		seen := map[int]bool{}
		last := -1
		for _, g := range got {
			if g[0] <= last {
				t.Errorf("n=%d: layers out of install order: %v", n, got)
			}
			last = g[0]
			for _, i := range g {
				if seen[i] {
					t.Errorf("n=%d: package %d placed twice", n, i)
				}
				seen[i] = true
			}
		}
		if len(seen) != n {
			t.Errorf("n=%d: %d packages placed", n, len(seen))
		}
	}
}
