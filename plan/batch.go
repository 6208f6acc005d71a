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
// instead of 5 and took 2.16-2.40 s where 12 took 1.97-2.09 s: for its
// 35 layers a cold build and a bump cost least together near 12.
const (
	batchCutEvery = 6        // one name in this many ends a batch, on average
	batchMinSize  = 6        // layers before a cut point may end a batch
	batchMinBytes = 1 << 20  // installed bytes before a cut point may end a batch
	batchMaxSize  = 12       // layers
	batchMaxBytes = 64 << 20 // installed bytes
)

// Batches groups the package layers (all but the metadata layer) into
// install batches, bottom first; each batch lists layer indexes.
func (p *Platform) Batches() [][]int {
	var out [][]int
	var cur []int
	var bytes uint64
	for i, l := range p.Layers {
		if l.IsMetadata() {
			continue
		}
		cur = append(cur, i)
		bytes += p.InstalledBytes(i)
		cutPoint := batchEnds(p.Packages[l.Packages[0]].Name) && (len(cur) >= batchMinSize || bytes >= batchMinBytes)
		if cutPoint || len(cur) >= batchMaxSize || bytes >= batchMaxBytes {
			out = append(out, cur)
			cur, bytes = nil, 0
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func batchEnds(name string) bool {
	h := fnv.New32a()
	h.Write([]byte(name))
	return h.Sum32()%batchCutEvery == 0
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
