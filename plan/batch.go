package plan

import "hash/fnv"

// Install batches: one install step (one container) installs several
// consecutive layers, since starting a container costs more than
// extracting a small package. A batch ends after a layer whose first
// package's name hashes to a cut point, so boundaries depend on names
// only: a version bump re-runs its own batch and no other, and adding or
// removing a package moves at most the boundaries next to it. Size and
// count caps keep one batch from holding most of an image. A cut point
// ends a batch only once the batch holds batchMinSize layers or
// batchMinBytes: a container costs more than installing a few small
// packages, and a run of small packages cut short by chance would pay one
// each (the bench's small image went from 7 install steps to 5).
//
// batchMaxSize weighs a cold build against a bump: each layer of the
// bumped batch comes out of BuildKit as a new snapshot, to commit, merge
// and compress again though its bytes did not change (about 25 ms each
// on the bench machine), while each batch more costs a cold build one
// more container in the chain (about 0.1 s). With at most 6 layers the
// small image's bump re-made 6 layers instead of 12 and took 0.80-0.87 s
// where 12 took 0.98-0.99 s, and its cold build ran 7 install steps
// instead of 5 and took 2.16-2.40 s where 12 took 1.97-2.09 s.
//
// Only small layers are made again that way: from LargeLayerBytes a
// layer is keyed by its content and keeps its blob when its batch
// re-runs. So once a batch holds batchSmallLayers small layers, a weaker
// cut point (one name in batchWeakCutEvery) may end it too. A hard cap
// there would move every later boundary when a package is added or
// removed; a cut point by name keeps them. Over 400 random sets of 20-59
// small packages this makes batches 6.5 layers on average instead of
// 8.3, a bump re-make 7.0 layers instead of 9.4, 35 layers take 5.4
// install steps instead of 4.2, and dropping a package change 1.9
// batches instead of 1.6. The bench's small image bumps a batch of 7
// layers instead of 12: interleaved on a fresh builder its bump took
// 0.79-0.97 s where the cap alone gave 0.99-1.12 s, and its cold build
// 2.17-2.45 s where it gave 1.94-2.25 s. Bumps are what a builder does
// most; the large image's batches, all of large layers, do not change.
//
// Large layers get no weaker cut point: one once a batch holds 4 MiB of
// them cut the large image's bumped batch from 9 layers to 5 and its 6
// batches to 12. Interleaved on one builder (4 cold builds and 8 bumps
// each) its bump took 1.49 s where these rules take 1.65 s, faster in
// every pair, and its cold build 5.86 s where they take 5.24 s, slower
// in every pair: six more containers cost a cold build four times what
// the smaller batch saves a bump, and a builder with no cache (a fresh CI
// runner) pays the cold build every time.
const (
	batchCutEvery     = 6        // one name in this many ends a batch, on average
	batchMinSize      = 6        // layers before a cut point may end a batch
	batchMinBytes     = 1 << 20  // installed bytes before a cut point may end a batch
	batchSmallLayers  = 6        // small layers before a weaker cut point may end a batch
	batchWeakCutEvery = 2        // one name in this many is a weaker cut point
	batchMaxSize      = 12       // layers
	batchMaxBytes     = 64 << 20 // installed bytes
)

// LargeLayerBytes is the installed size from which the conversion keys a
// layer by its content, so that an unchanged large layer keeps its blob
// when its batch re-runs; a smaller layer is made again with its batch,
// since compressing it again costs less than the copy that re-keys it.
const LargeLayerBytes = 1 << 20

// Batches groups the package layers (all but the metadata layer) into
// install batches, bottom first; each batch lists layer indexes.
func (p *Platform) Batches() [][]int {
	var out [][]int
	var cur []int
	var bytes uint64
	var small int // layers below LargeLayerBytes
	for i, l := range p.Layers {
		if l.IsMetadata() {
			continue
		}
		cur = append(cur, i)
		size := p.InstalledBytes(i)
		bytes += size
		if size < LargeLayerBytes {
			small++
		}
		h := nameHash(p.Packages[l.Packages[0]].Name)
		cutPoint := h%batchCutEvery == 0 && (len(cur) >= batchMinSize || bytes >= batchMinBytes)
		weakCut := small >= batchSmallLayers && h%batchWeakCutEvery == 0
		if cutPoint || weakCut || len(cur) >= batchMaxSize || bytes >= batchMaxBytes {
			out = append(out, cur)
			cur, bytes, small = nil, 0, 0
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// nameHash places a batch's cut points: a name whose hash is a multiple
// of batchCutEvery is a cut point, of batchWeakCutEvery a weaker one.
func nameHash(name string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return h.Sum32()
}

// sideBySideBytes is how much the install batches after the first must
// install between them for them to run side by side: below it, each
// batch's work is small next to starting its container, and containers
// started together on the builder's cores only wait for each other.
const sideBySideBytes = 16 << 20

// SideBySide says whether the install batches after the first run side
// by side, each through the first one's links record, rather than one
// after another (the conversion checks that this made the same layers,
// and the frontend chains them when it did not). With two batches there
// is nothing to gain: the second's record below is the first's either way.
func (p *Platform) SideBySide(batches [][]int) bool {
	if len(batches) < 3 {
		return false
	}
	var bytes uint64
	for _, b := range batches[1:] {
		for _, li := range b {
			bytes += p.InstalledBytes(li)
		}
	}
	return bytes >= sideBySideBytes
}
