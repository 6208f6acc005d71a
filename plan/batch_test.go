package plan

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
)

// platformOf makes a platform of one layer per package (sizes in bytes).
func platformOf(names []string, sizes map[string]uint64) *Platform {
	p := &Platform{}
	for i, n := range names {
		p.Packages = append(p.Packages, Package{Package: &index.Package{Name: n, Version: "1-r0", InstalledSize: sizes[n]}})
		p.Layers = append(p.Layers, Layer{Packages: []int{i}})
	}
	p.Layers = append(p.Layers, Layer{})
	return p
}

// batchEnds says whether name is a cut point of one name in every.
func batchEnds(name string, every uint32) bool { return nameHash(name)%every == 0 }

// batchNames lists each batch's package names.
func batchNames(p *Platform) [][]string {
	var out [][]string
	for _, b := range p.cutBatches() {
		var names []string
		for _, li := range b {
			names = append(names, p.Packages[p.Layers[li].Packages[0]].Name)
		}
		out = append(out, names)
	}
	return out
}

func TestBatches(t *testing.T) {
	var names []string
	for i := 0; i < 60; i++ {
		names = append(names, fmt.Sprintf("pkg-%02d", i))
	}
	p := platformOf(names, nil)
	batches := batchNames(p)
	var total int
	for _, b := range batches {
		total += len(b)
		if len(b) > batchMaxSize {
			t.Errorf("batch of %d layers, more than %d", len(b), batchMaxSize)
		}
	}
	if total != 60 || len(batches) < 60/batchMaxSize {
		t.Fatalf("%d layers in %d batches", total, len(batches))
	}
	// A version bump moves no boundary.
	bumped := platformOf(names, nil)
	bumped.Packages[17].Version = "2-r0"
	if !reflect.DeepEqual(batchNames(bumped), batches) {
		t.Error("a version bump changed the batches")
	}
	// Dropping a package changes only the batch that held it.
	dropped := platformOf(append(append([]string{}, names[:30]...), names[31:]...), nil)
	changed := 0
	seen := map[string]bool{}
	for _, b := range batches {
		seen[fmt.Sprint(b)] = true
	}
	for _, b := range batchNames(dropped) {
		if !seen[fmt.Sprint(b)] {
			changed++
		}
	}
	if changed > 2 {
		t.Errorf("dropping one package changed %d batches", changed)
	}
	// Large packages end a batch early.
	big := platformOf(names[:5], map[string]uint64{"pkg-01": batchMaxBytes})
	if got := batchNames(big); len(got[0]) > 2 {
		t.Errorf("batches %v: a %d-byte package should end its batch", got, batchMaxBytes)
	}
}

func TestBatchesOfSmallPackages(t *testing.T) {
	var names []string
	for i := 0; i < 60; i++ {
		names = append(names, fmt.Sprintf("pkg-%02d", i))
	}
	// The first cut point among these names, which ends a batch early
	// when its batch is large enough in bytes.
	first := -1
	for i, n := range names {
		if batchEnds(n, batchCutEvery) {
			first = i
			break
		}
	}
	if first < 0 || first+1 >= batchMinSize {
		t.Fatalf("the test needs a cut point among the first %d names, found %d", batchMinSize-1, first)
	}
	tests := []struct {
		name  string
		sizes map[string]uint64
		check func(t *testing.T, batches [][]string)
	}{{
		name: "small packages fill a batch to the minimum",
		check: func(t *testing.T, batches [][]string) {
			for i, b := range batches[:len(batches)-1] {
				if len(b) < batchMinSize {
					t.Errorf("batch %d of %d layers: %v", i, len(b), b)
				}
			}
		},
	}, {
		name:  "a batch of enough bytes ends at a cut point",
		sizes: map[string]uint64{names[0]: batchMinBytes},
		check: func(t *testing.T, batches [][]string) {
			if len(batches[0]) != first+1 {
				t.Errorf("first batch %v, want it to end at %s", batches[0], names[first])
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, batchNames(platformOf(names, tt.sizes)))
		})
	}
}

// TestBatchesEndAtTheCap: a run of names none of which is a cut point
// ends a batch at batchMaxSize layers.
func TestBatchesEndAtTheCap(t *testing.T) {
	var names []string
	for i := 0; len(names) < 2*batchMaxSize+3; i++ {
		if n := fmt.Sprintf("pkg-%03d", i); !batchEnds(n, batchCutEvery) {
			names = append(names, n)
		}
	}
	var lens []int
	for _, b := range batchNames(platformOf(names, nil)) {
		lens = append(lens, len(b))
	}
	if want := []int{batchMaxSize, batchMaxSize, 3}; !reflect.DeepEqual(lens, want) {
		t.Errorf("batches of %v layers, want %v", lens, want)
	}
}

// TestBatchesEndAtCutPoints: over a long run of packages, each batch but
// the last ends at the first cut point it may end at, or at the cap.
func TestBatchesEndAtCutPoints(t *testing.T) {
	var names []string
	for i := 0; i < 120; i++ {
		names = append(names, fmt.Sprintf("pkg-%03d", i))
	}
	batches := batchNames(platformOf(names, nil))
	for i, b := range batches[:len(batches)-1] {
		if !batchEnds(b[len(b)-1], batchCutEvery) && len(b) != batchMaxSize {
			t.Errorf("batch %d %v ends at no cut point", i, b)
		}
		for j, n := range b[:len(b)-1] {
			if j+1 >= batchMinSize && batchEnds(n, batchCutEvery) {
				t.Errorf("batch %d %v runs past the cut point %s", i, b, n)
			}
		}
	}
}

func TestSideBySide(t *testing.T) {
	names := []string{"a", "b", "c", "d"}
	big := uint64(sideBySideBytes / 2)
	tests := []struct {
		name    string
		sizes   map[string]uint64
		batches [][]int
		want    bool
	}{
		{"large batches after the first", map[string]uint64{"b": big, "d": big}, [][]int{{0}, {1, 2}, {3}}, true},
		{"small batches after the first", map[string]uint64{"a": 4 * big, "b": big}, [][]int{{0}, {1, 2}, {3}}, false},
		{"two batches", map[string]uint64{"b": 2 * big, "d": 2 * big}, [][]int{{0}, {1, 2, 3}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := platformOf(names, tt.sizes).SideBySide(tt.batches); got != tt.want {
				t.Errorf("SideBySide = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSmallImageIsOneBatch(t *testing.T) {
	names := func(n int) []string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, fmt.Sprintf("pkg-%02d", i))
		}
		return out
	}
	sized := func(names []string, each uint64) map[string]uint64 {
		m := map[string]uint64{}
		for _, n := range names {
			m[n] = each
		}
		return m
	}
	withBase := platformOf(names(30), nil)
	withBase.Base = &BaseImage{}
	tests := []struct {
		name string
		p    *Platform
		one  bool
	}{
		{"35 small packages", platformOf(names(35), sized(names(35), 70<<10)), true},
		{"one package", platformOf(names(1), nil), true},
		{"as many layers as a batch may hold", platformOf(names(batchMaxSize), nil), true},
		{"more layers than a batch holds", platformOf(names(batchMaxSize+1), nil), false},
		{"installing oneStepBytes", platformOf(names(8), sized(names(8), oneStepBytes/8)), false},
		{"on a base image", withBase, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Batches()
			if one := len(got) == 1 && len(got[0]) == len(tt.p.Layers)-1; one != tt.one {
				t.Fatalf("batches %v: one batch of every layer %v, want %v", got, one, tt.one)
			}
			if !tt.one && !reflect.DeepEqual(got, tt.p.cutBatches()) {
				t.Errorf("batches %v, want the cut rules' %v", got, tt.p.cutBatches())
			}
		})
	}
}
