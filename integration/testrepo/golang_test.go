package testrepo

import (
	"slices"
	"testing"
)

func TestSplitShares(t *testing.T) {
	tests := []struct {
		name  string
		sizes []int64
		n     int
		want  []int
	}{
		{"even", []int64{1, 1, 1, 1, 1, 1}, 3, []int{0, 0, 1, 1, 2, 2}},
		// A large file early must not leave the packages after it empty,
		// as a split by each file's offset into the total did.
		{"large file first", []int64{1, 90, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 4, []int{0, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3}},
		{"large file last", []int64{1, 1, 1, 1, 1, 1, 60}, 3, []int{0, 0, 0, 0, 0, 1, 2}},
		{"as many files as packages", []int64{5, 1, 9}, 3, []int{0, 1, 2}},
		{"fewer files than packages", []int64{5, 1}, 3, []int{0, 1}},
		{"one package", []int64{3, 4, 5}, 1, []int{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitShares(tt.sizes, tt.n); !slices.Equal(got, tt.want) {
				t.Errorf("splitShares(%v, %d) = %v, want %v", tt.sizes, tt.n, got, tt.want)
			}
		})
	}
}
