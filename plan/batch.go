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
// batchMaxSize weighs a cold build against a bump: each batch more costs
// a cold build one more container in the chain, while each layer more in
// the bumped batch is installed again and its content checksummed again.
// It no longer comes out of BuildKit as a new snapshot to commit and
// compress: every layer is copied from its batch's output, keyed by its
// content (plan2llb), so an unchanged layer keeps its blob. That is why a
// run of small packages has no cut points of its own any more (one name in
// two once a batch held 6 layers below 1 MiB, when only larger layers were
// copied), and why the cap is far above a batch's usual length: at 12 it
// ended about one batch in four (a run of 7 names past batchMinSize with
// no cut point is (5/6)^7), at a boundary that moves when a package before
// it comes or goes, and the bench's small image had a batch of one layer
// after two capped ones. At 40 its 5 batches are 4 and, interleaved on one
// builder (5 pairs in each order), its cold build took 2.26/2.49 s where
// it took 2.60/2.84 s (faster in 10 of 10 pairs), its bump no different
// (1.03/1.15 s, 1.13/1.13 s). Letting cut points end a batch only after
// 1 MiB, which made it 2 batches, took 0.5 s off the cold build but made
// the bump slower in 8 of 10 pairs (its bumped batch held 32 layers).
//
// Large layers: a cap of 4 MiB of them per batch cut the large image's
// bumped batch from 9 layers to 5 and its 6 batches to 12. Interleaved on
// one builder (4 cold builds and 8 bumps each) its bump took 1.49 s where
// these rules take 1.65 s, faster in every pair, and its cold build 5.86 s
// where they take 5.24 s, slower in every pair: six more containers cost a
// cold build four times what the smaller batch saves a bump, and a builder
// with no cache (a fresh CI runner) pays the cold build every time.
const (
	batchCutEvery = 6        // one name in this many ends a batch, on average
	batchMinSize  = 6        // layers before a cut point may end a batch
	batchMinBytes = 1 << 20  // installed bytes before a cut point may end a batch
	batchMaxSize  = 40       // layers
	batchMaxBytes = 64 << 20 // installed bytes
)

// oneStepBytes: an image of packages installing fewer bytes than this
// (and at most batchMaxSize layers, on no base image) installs them all
// in one step, which also writes the metadata layer (plan2llb). Each
// container a build runs costs it ~0.15 s here whatever it does, and
// such an image's installs cost less than that: the small bench image
// (35 packages, 2.5 MB) replays all of them in 0.13 s and its metadata
// step in 0.05 s. Interleaved on one builder against 4 batches and a
// metadata step, its cold build took 2.42 s where it took 3.15 s (a
// builder of many cache records; faster in 5 of 5 pairs, 2.90 CPU-s
// against 3.84), its bump 1.24 s where it took 1.26 s (median pair
// difference -0.001 s, 5 of 8), its warm build 0.70 s where it took
// 0.72 s: the container a bump saves (its step took 0.31 s where the
// bumped batch and the metadata step took 0.21 and 0.23 s) goes to
// re-installing every package and checksumming every layer after it.
// At the rule's edge, an image of the large bench image's packages of
// many small files (kiln-baselayout, busybox and seven bulk packages, 7.0
// MiB installed; 3 batches before), interleaved the same way: cold 1.56 s
// where it took 1.99 s (4 of 4), bump 1.16 s where it took 1.18 s (4 of
// 8), warm 0.60 s and 0.61 s; its one step took 0.38 s where the bumped
// batch and the metadata step took 0.26 and 0.22 s. Installing costs
// about 10 ms per MB of such files, so past this a bump would pay more
// for the re-install than the container it saves.
const oneStepBytes = 8 << 20

// Batches groups the package layers (all but the metadata layer) into
// install batches, bottom first; each batch lists layer indexes. A small
// image is one batch (oneStepBytes); any other is cut by cutBatches.
func (p *Platform) Batches() [][]int {
	var all []int
	var bytes uint64
	for i, l := range p.Layers {
		if !l.IsMetadata() {
			all = append(all, i)
			bytes += p.InstalledBytes(i)
		}
	}
	if p.Base == nil && len(all) > 0 && len(all) <= batchMaxSize && bytes < oneStepBytes {
		return [][]int{all}
	}
	return p.cutBatches()
}

// cutBatches cuts the package layers into batches by the rules above.
func (p *Platform) cutBatches() [][]int {
	var out [][]int
	var cur []int
	var bytes uint64
	for i, l := range p.Layers {
		if l.IsMetadata() {
			continue
		}
		cur = append(cur, i)
		bytes += p.InstalledBytes(i)
		h := nameHash(p.Packages[l.Packages[0]].Name)
		cutPoint := h%batchCutEvery == 0 && (len(cur) >= batchMinSize || bytes >= batchMinBytes)
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

// nameHash places a batch's cut points: a name whose hash is a multiple
// of batchCutEvery is one.
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
