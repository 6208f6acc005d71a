package plan2llb

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/step"
)

// SBOMPath is where Image.SBOM holds the SPDX document.
const SBOMPath = "/" + step.SBOMFile

// Inputs are the states a conversion starts from, which only the frontend
// can make.
type Inputs struct {
	// Tools is kiln's own image, whose binary (step.ToolBinary) runs every
	// step; ToolsPlatform is its platform: extracting files and writing
	// metadata need no emulation whatever the target arch.
	Tools         llb.State
	ToolsPlatform ocispecs.Platform
	// Context holds the plan's ContextPaths (the build context, narrowed
	// to them); unused when every package is remote.
	Context llb.State
	// ContextFor, when set, says which state holds a context path and
	// where in it: the frontend serves paths whose first element names a
	// --build-context from that context. Nil: Context, at the path.
	ContextFor func(contextPath string) (llb.State, string)
	// Fetched are remote packages the frontend has fetched already (by
	// URL), as HTTPSource states; any other is fetched by its own
	// HTTPSource.
	Fetched map[string]llb.State
	// ChainInstalls runs the install batches one after another, each
	// through the links record of all the batches below it, as they run
	// when planning says so (plan.Platform.SideBySide). Otherwise the
	// batches after the first run side by side, each through the first's
	// record, and Image.Check says whether that made the layers chaining
	// would have.
	ChainInstalls bool
	// ChainedBecause is why batches planned side by side run chained (the
	// check's verdict): the steps' progress lines say so, since a user
	// otherwise sees the same installs run twice and no reason.
	ChainedBecause string
}

// contextFor is where the conversion reads a context path from.
func (in Inputs) contextFor(p string) (llb.State, string) {
	if in.ContextFor != nil {
		return in.ContextFor(p)
	}
	return in.Context, p
}

// HTTPSource is the download of one remote file, saved as filename. A
// non-empty refetch gives BuildKit's cache a new name for it (the request
// is the same): BuildKit keeps downloads and revalidates them by ETag, so
// a copy that came damaged would otherwise be served again. The content
// decides what the steps reading it cache, so a refetched file costs no
// step its cache.
// Options opts come last (a custom name for the progress line, say).
func HTTPSource(url, filename, refetch string, opts ...llb.HTTPOption) llb.State {
	if refetch != "" {
		url += "#kiln-refetch=" + refetch
	}
	return llb.HTTP(url, append([]llb.HTTPOption{llb.Filename(filename), llb.WithCustomNamef("fetch %s", filename)}, opts...)...)
}

// Image is one platform's image as LLB plus what the exporter needs.
type Image struct {
	Root   llb.State // the merged rootfs
	Config *dockerspec.DockerOCIImage
	Labels map[string]string // the manifest's annotations
	// SBOM holds the platform's SPDX document at SBOMPath. The image graph
	// is the same whether or not it is solved, so asking for an SBOM
	// costs no cache.
	SBOM llb.State
	// Check, when not nil, is the metadata step's output, which checked
	// install batches run side by side: holding step.DiffersFile (a
	// step.Verdict), it means Root is not the image, and the conversion
	// must be made again with Inputs.ChainInstalls.
	Check *llb.State
}

// Convert makes the LLB of one platform of a plan.
func Convert(pl *plan.Plan, p *plan.Platform, in Inputs) (*Image, error) {
	if len(p.Layers) == 0 || !p.Layers[len(p.Layers)-1].IsMetadata() {
		return nil, fmt.Errorf("%s: the plan has no metadata layer", p.Arch)
	}
	all := p.Batches()
	planned := p.SideBySide(all)
	sideBySide := planned && !in.ChainInstalls
	c := &converter{p: p, in: in, keys: keysState(pl.Keys), again: planned && in.ChainInstalls}
	if len(all) == 1 && p.Base == nil {
		return c.oneStepImage(all[0])
	}
	var baseDiffs []llb.State
	var links *dirState
	var tree *llb.State
	if p.Base != nil && len(p.Base.Layers) > 0 {
		var l, t llb.State
		baseDiffs, l, t = c.baseLayers(p.Base)
		links, tree = &dirState{state: l, dir: "/"}, &t
	}
	// layers are the install steps' outputs, which the metadata step
	// reads; images are what the image holds of them.
	var layers []layerOut
	var images []llb.State
	var first *dirState
	for i, b := range all {
		lower := links
		if i > 0 && sideBySide {
			lower = first
		}
		out, files := c.install(i, b, lower)
		layers = append(layers, files...)
		for j, f := range files {
			images = append(images, c.imageLayer(b[j], f))
		}
		next := dirState{state: out, dir: "/" + step.OutLinks}
		if i == 0 {
			first = &next
		}
		links = &next
	}
	// The metadata step reads the package layers, and on a base image the
	// base's directory links under them (not its files, as in apko), each
	// layer a directory of its own: merging them for it would cost a copy
	// of every file's link. An image of no packages (apko builds those) is its
	// metadata layer.
	below := layers
	if tree != nil {
		below = append([]layerOut{{state: *tree, dir: "/", batch: -1}}, layers...)
	}
	meta, check, err := c.metadata(below, sideBySide)
	if err != nil {
		return nil, err
	}
	return c.image(append(append(baseDiffs, images...), meta), layers, check)
}

// oneStepImage is the image of one install batch, installed and its
// metadata layer written by one step (installImage).
func (c *converter) oneStepImage(batch []int) (*Image, error) {
	layers, meta, err := c.installImage(batch)
	if err != nil {
		return nil, err
	}
	var images []llb.State
	for j, l := range layers {
		images = append(images, c.imageLayer(batch[j], l))
	}
	return c.image(append(images, meta), layers, nil)
}

// image assembles the image from its layers' states (bottom first, the
// metadata layer last) and names the SBOM step over the install steps'
// layers.
func (c *converter) image(images []llb.State, layers []layerOut, check *llb.State) (*Image, error) {
	root := llb.Merge(images, llb.WithCustomNamef("[%s] assemble image (%d layers)", c.p.Arch, len(images)))
	sbom, err := c.sbom(layers)
	if err != nil {
		return nil, err
	}
	return &Image{Root: root, Config: c.p.Image, Labels: c.p.Labels, SBOM: sbom, Check: check}, nil
}

type converter struct {
	p    *plan.Platform
	in   Inputs
	keys llb.State
	// again: the install batches run chained after running side by side
	// made other layers.
	again bool
}

// stepName is a step's progress line; when the batches run again one
// after another it says so, with the reason on the metadata step.
func (c *converter) stepName(what string, meta bool) string {
	name := fmt.Sprintf("[%s] %s", c.p.Arch, what)
	switch {
	case !c.again:
		return name
	case meta && c.in.ChainedBecause != "":
		return name + " (batches one after another: " + c.in.ChainedBecause + ")"
	default:
		return name + " (batches one after another)"
	}
}

// keysState holds the trusted public keys as /<name>, in name order so the
// same keys always make the same graph: one file operation, which every
// step waits for, however many keys there are.
func keysState(keys map[string][]byte) llb.State {
	names := slices.Sorted(maps.Keys(keys))
	if len(names) == 0 {
		return llb.Scratch()
	}
	var fa *llb.FileAction
	for _, n := range names {
		if fa == nil {
			fa = llb.Mkfile("/"+n, 0o644, keys[n])
		} else {
			fa = fa.Mkfile("/"+n, 0o644, keys[n])
		}
	}
	return llb.Scratch().File(fa, llb.WithCustomNamef("keyring %s", strings.Join(names, ", ")))
}

// packageMount mounts one package's .apk, read-only, at file: from its
// HTTP source, or from the build context narrowed to that one file, so
// the step's cache key covers only the bytes it reads and an unchanged
// package keeps its cache when its neighbours change.
func (c *converter) packageMount(pk plan.Package, file string) llb.RunOption {
	if u := pk.URL(c.p.Arch); u != "" {
		src, ok := c.in.Fetched[u]
		if !ok {
			src = HTTPSource(u, pk.Filename(), "")
		}
		return llb.AddMount(file, src, llb.SourcePath("/"+pk.Filename()), llb.Readonly)
	}
	st, p := c.in.contextFor(pk.ContextPath(c.p.Arch))
	return llb.AddMount(file, st, llb.SourcePath("/"+p), llb.Readonly)
}

// sandbox is what every step runs with: no network, a read-only root
// (kiln's image), the tools' own platform, and where a failing step says
// why, for the frontend to show: report, one of the step's own outputs
// (a failed step's outputs are thrown away, and each output BuildKit
// prepares and commits costs the container time), or when it is "" an
// output of its own, step.MountReport.
func (c *converter) sandbox(name string, args []string, report string) []llb.RunOption {
	opts := []llb.RunOption{
		llb.Network(llb.NetModeNone),
		llb.ReadonlyRootFS(),
		llb.Platform(c.in.ToolsPlatform),
		llb.WithCustomName(name),
	}
	if report == "" {
		report = step.MountReport
		opts = append(opts, llb.AddMount(report, llb.Scratch()))
	}
	return append(opts, llb.Args(step.WithReport(args, report)))
}

// install runs one install step over a batch of layers and returns its
// output and each layer (the extracted files, in its directory of the
// output). The layers' records and the batch's links record for the
// batches above are directories of the same output (step.OutRecords,
// step.OutLinks), which no layer copies: each output is a snapshot
// BuildKit prepares and commits, two more per step when they were outputs
// of their own. bi is the batch's index; lower is the previous batch's
// links record, nil for the first.
func (c *converter) install(bi int, batch []int, lower *dirState) (out llb.State, layers []layerOut) {
	b := c.installBatch(batch)
	if lower != nil {
		b.spec.Lower = step.MountLower
		b.mounts = append(b.mounts, lower.mount(step.MountLower))
	}
	opts := append(c.sandbox(c.stepName("install "+b.names, false), b.spec.Args(), step.MountOut),
		llb.AddMount(step.MountKeys, c.keys, llb.Readonly))
	run := c.in.Tools.Run(append(opts, b.mounts...)...)
	out = run.AddMount(step.MountOut, llb.Scratch())
	return out, b.layers(out, bi)
}

// batchStep is an install batch's part of a step: its spec, the mounts of
// its packages, what it installs (for the step's name) and each layer's
// directory in the step's output.
type batchStep struct {
	spec   step.InstallAPK
	mounts []llb.RunOption
	names  string
	dirs   []string
}

// installBatch plans the install of batch into the step's output
// (step.MountOut): each layer in a directory named by layerID, its record
// in step.OutRecords/<index in the batch>.
func (c *converter) installBatch(batch []int) batchStep {
	recordsDir := path.Join(step.MountOut, step.OutRecords)
	b := batchStep{spec: step.InstallAPK{Keyring: step.MountKeys, SourceDateEpoch: c.p.SourceDateEpoch, Links: path.Join(step.MountOut, step.OutLinks)}}
	var names []int
	for j, li := range batch {
		dir := "/" + c.layerID(li)
		b.dirs = append(b.dirs, dir)
		l := step.InstallLayer{Out: path.Join(step.MountOut, dir), Meta: path.Join(recordsDir, strconv.Itoa(j))}
		for _, pi := range c.p.Layers[li].Packages {
			pk := c.p.Packages[pi]
			// Names are unique in one arch's install set.
			file := path.Join(step.MountPkgs, pk.Filename())
			l.Packages = append(l.Packages, step.APKFile{Path: file, Checksum: pk.Checksum})
			b.mounts = append(b.mounts, c.packageMount(pk, file))
			names = append(names, pi)
		}
		b.spec.Layers = append(b.spec.Layers, l)
	}
	b.names = c.p.NameVersions(names, 8)
	return b
}

// layers are the batch's layers in out, the output of its step, batch bi.
func (b batchStep) layers(out llb.State, bi int) []layerOut {
	var layers []layerOut
	for j, dir := range b.dirs {
		layers = append(layers, layerOut{state: out, dir: dir, batch: bi, index: j})
	}
	return layers
}

// dirState is a directory of a state: a record one step leaves in its
// output for others to mount.
type dirState struct {
	state llb.State
	dir   string
}

// mount mounts the directory read-only at at. BuildKit keys the reader's
// cache by the directory's content, so a record that came out the same
// costs no step after it its cache.
func (d dirState) mount(at string) llb.RunOption {
	return llb.AddMount(at, d.state, llb.SourcePath(d.dir), llb.Readonly)
}

// layerOut is a layer's files: dir of an install step's output ("/" for
// a base image's tree of links), and which install batch made it (-1 for
// the base's tree).
type layerOut struct {
	state llb.State
	dir   string
	batch int
	index int // in its batch: its record is step.OutRecords/<index>
}

// imageLayer is what the image holds of layer li: a copy of its directory
// in the install step's output, cached by the content it copies. An
// install step re-runs whole when one package of its batch changes, and
// every output of a re-run step is new to BuildKit; for an unchanged layer
// the copy finds its earlier result, whose blob the exporter has, where
// the layer as an output of its own would be committed and compressed
// again though its bytes did not change. All the batch's layers are then
// one output, so the step's container prepares and commits one snapshot
// for them instead of one each.
//
// Layers below 1 MiB once skipped the copy, as costing more than
// compressing them again; what a re-made layer costs is mostly not the
// compression but its snapshot and blob bookkeeping. Interleaved on one
// fresh builder, 6 pairs in each order, with every layer copied and the
// batches' small-layer cut points gone (plan's batch.go), the small bench
// image (34 layers of a few KiB) bumped in 1.13/1.17 s where it took
// 1.28/1.22 s (faster in 11 of 12 pairs) and built cold in 2.85/2.81 s
// where it took 2.87/2.83 s. The large image, whose 7 layers below 1 MiB
// are copies now too: its bump no different (1.79/1.82 s, 1.91/1.80 s
// before), its cold build 0.2 s slower (6.12/5.97 s, 5.99/5.93 s before;
// 1 of 10 pairs faster).
//
// BuildKit's content checksum leaves out modification times and which
// files are hardlinks of each other, so content alone could match a layer
// of other packages or another SOURCE_DATE_EPOCH: a layer is installed
// into a directory named after exactly that (layerID), and the copy's
// source path, part of its cache key, names it.
func (c *converter) imageLayer(li int, out layerOut) llb.State {
	return llb.Scratch().File(llb.Copy(out.state, out.dir, "/", &llb.CopyInfo{CopyDirContentsOnly: true}),
		llb.WithCustomNamef("[%s] layer of %s, by content", c.p.Arch, c.p.NameVersions(c.p.Layers[li].Packages, 3)))
}

// layerID names what decides a layer's bytes besides their content: its
// packages (each checksum covers the package's files and their links) and
// the epoch of every mtime.
func (c *converter) layerID(li int) string {
	h := sha256.New()
	fmt.Fprintf(h, "epoch %d\n", c.p.SourceDateEpoch)
	for _, pi := range c.p.Layers[li].Packages {
		fmt.Fprintf(h, "%s %s\n", c.p.Packages[pi].Name, c.p.Packages[pi].Checksum)
	}
	return "layer-" + hex.EncodeToString(h.Sum(nil))[:32]
}

// record is where a layer's record is, its install step's output
// mounted at at.
func (l layerOut) record(at string) string {
	return path.Join(at, step.OutRecords, strconv.Itoa(l.index))
}

// baseLayers applies a base image's layers, each in a step of its own on
// a read-write mount of the layers below, and returns each layer as the
// diff of its step (so the image keeps the base's layers, deletions
// included, and a changed layer re-runs only the steps above it), and
// from the top layer's step the links record for the first install step
// and the tree of links for the metadata step.
func (c *converter) baseLayers(b *plan.BaseImage) (diffs []llb.State, links, tree llb.State) {
	below := llb.Scratch()
	for i, l := range b.Layers {
		s := step.ApplyLayer{Blob: step.MountBlob, MediaType: l.MediaType, Digest: l.Digest.String(),
			DiffID: l.DiffID.String(), Rootfs: step.MountRootfs}
		top := i == len(b.Layers)-1
		if top {
			s.Links, s.Tree = step.MountLinks, step.MountTree
		}
		name := fmt.Sprintf("[%s] apply base image layer %d/%d %s", c.p.Arch, i+1, len(b.Layers), shortDigest(l.Digest.String()))
		blob, at := c.in.contextFor(l.ContextPath)
		// A base image's layer may hold anything at its root: this step
		// reports into an output of its own.
		run := c.in.Tools.Run(append(c.sandbox(name, s.Args(), ""),
			llb.AddMount(step.MountBlob, blob, llb.SourcePath("/"+at), llb.Readonly))...)
		applied := run.AddMount(step.MountRootfs, below)
		diffs = append(diffs, llb.Diff(below, applied, llb.WithCustomNamef("[%s] base image layer %d", c.p.Arch, i+1)))
		if top {
			links = run.AddMount(step.MountLinks, llb.Scratch())
			tree = run.AddMount(step.MountTree, llb.Scratch())
		}
		below = applied
	}
	return diffs, links, tree
}

func shortDigest(d string) string {
	if _, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return hex[:12]
	}
	return d
}

// metadata runs the metadata step, which reads the layers below it
// (bottom first) and the install records and writes only generated files.
// Given install batches that ran side by side, it checks them first, and
// its output is also the check's (Image.Check).
func (c *converter) metadata(below []layerOut, check bool) (llb.State, *llb.State, error) {
	s, specMount, err := c.metaSpec(step.MountOut)
	if err != nil {
		return llb.State{}, nil, err
	}
	// An install batch's output is mounted once and its layers, their
	// records and the batch's links record read from their directories in
	// it: a mount for each layer's directory cost BuildKit one mount each
	// (36 on the small bench image, of 4 batches), and a mount of a
	// directory (not an output's root) costs it two more mounts.
	var mounts []llb.RunOption
	for i, l := range below {
		if l.batch < 0 { // the base's tree, a state of its own
			at := path.Join(step.MountLayers, strconv.Itoa(i))
			s.Layers = append(s.Layers, at)
			mounts = append(mounts, layersMount(at, l.state, l.dir))
			continue
		}
		at := path.Join(step.MountLayers, "b"+strconv.Itoa(l.batch))
		if l.index == 0 { // the batch's first layer: mount its output
			mounts = append(mounts, layersMount(at, l.state, "/"))
			if check {
				s.Batches = append(s.Batches, step.InstallBatch{Links: path.Join(at, step.OutLinks)})
			}
		}
		s.Layers = append(s.Layers, path.Join(at, l.dir))
		s.Metas = append(s.Metas, l.record(at))
		if check {
			s.Batches[len(s.Batches)-1].Layers++
		}
	}
	if b := c.p.Base; b != nil {
		s.BaseDB, s.BaseDBSHA256 = path.Join(step.MountBase, "APKINDEX"), b.APKIndexSHA256
		db, at := c.in.contextFor(b.APKIndex)
		mounts = append(mounts, llb.AddMount(s.BaseDB, db, llb.SourcePath("/"+at), llb.Readonly))
	}
	opts := append(c.sandbox(c.stepName(metaStepName, true), s.Args(), step.MountOut),
		specMount, llb.AddMount(step.MountKeys, c.keys, llb.Readonly))
	out := c.in.Tools.Run(append(opts, mounts...)...).AddMount(step.MountOut, llb.Scratch())
	if check {
		return out, &out, nil
	}
	return out, nil, nil
}

// metaStepName is what the metadata step's progress line says it does.
const metaStepName = "generate installed database, accounts and links"

// metaSpec is the metadata step's spec writing into out, without the
// layers it reads, and the mount of the image spec it names.
func (c *converter) metaSpec(out string) (step.ImageMeta, llb.RunOption, error) {
	spec, err := json.Marshal(c.p.Meta)
	if err != nil {
		return step.ImageMeta{}, nil, err
	}
	// The spec carries the resolution's outcome into the build, so its
	// vertex says what was resolved.
	specSt := llb.Scratch().File(llb.Mkfile("/"+step.ImageSpecFile, 0o644, spec),
		llb.WithCustomNamef("[%s] resolved %d packages", c.p.Arch, len(c.p.Packages)))
	s := step.ImageMeta{Spec: path.Join(step.MountSpec, step.ImageSpecFile),
		Keyring: step.MountKeys, Out: out, SourceDateEpoch: c.p.SourceDateEpoch}
	return s, llb.AddMount(step.MountSpec, specSt, llb.Readonly), nil
}

// installImage runs an image's only install batch and its metadata step
// in one step (step.InstallImage): its layers, in step.MountOut as any
// install step's, and the metadata layer, a second output
// (step.MountImage). Planning makes one batch of a small image, whose
// installs cost less than a container of their own (plan.Batches).
func (c *converter) installImage(batch []int) ([]layerOut, llb.State, error) {
	b := c.installBatch(batch)
	meta, specMount, err := c.metaSpec(step.MountImage)
	if err != nil {
		return nil, llb.State{}, err
	}
	for _, l := range b.spec.Layers {
		meta.Layers = append(meta.Layers, l.Out)
		meta.Metas = append(meta.Metas, l.Meta)
	}
	s := step.InstallImage{Install: b.spec, Meta: meta}
	opts := append(c.sandbox(c.stepName("install "+b.names+"; "+metaStepName, true), s.Args(), step.MountOut),
		specMount, llb.AddMount(step.MountKeys, c.keys, llb.Readonly))
	run := c.in.Tools.Run(append(opts, b.mounts...)...)
	out := run.AddMount(step.MountOut, llb.Scratch())
	return b.layers(out, 0), run.AddMount(step.MountImage, llb.Scratch()), nil
}

// layersMount mounts layers for a step to read. No content checksum for
// the cache key: BuildKit would hash every file of the packages (a second
// per 100 MB) to find what the install records, in the same output,
// already say; the step is keyed by the install steps' own cache keys.
func layersMount(at string, st llb.State, dir string) llb.RunOption {
	return llb.AddMount(at, st, llb.SourcePath(dir), llb.Readonly, llb.ContentCache(llb.MountContentCacheOff))
}

// sbom runs the SBOM step over the install records of layers (the
// install steps' layers), which hold each .apk's SHA-256 and the SPDX
// documents packages ship.
func (c *converter) sbom(layers []layerOut) (llb.State, error) {
	spec, err := json.Marshal(c.p.SBOM)
	if err != nil {
		return llb.State{}, err
	}
	specSt := llb.Scratch().File(llb.Mkfile("/"+step.SBOMSpecFile, 0o644, spec),
		llb.WithCustomNamef("[%s] SBOM of %d packages", c.p.Arch, len(c.p.Packages)))
	s := step.ImageSBOM{Spec: path.Join(step.MountSpec, step.SBOMSpecFile), Out: step.MountOut}
	var mounts []llb.RunOption
	for _, l := range layers {
		at := path.Join(step.MountMeta, strconv.Itoa(l.batch))
		if l.index == 0 { // the batch's first layer: mount its output
			mounts = append(mounts, layersMount(at, l.state, "/"))
		}
		s.Metas = append(s.Metas, l.record(at))
	}
	opts := append(c.sandbox(fmt.Sprintf("[%s] write SPDX SBOM", c.p.Arch), s.Args(), step.MountOut),
		llb.AddMount(step.MountSpec, specSt, llb.Readonly))
	return c.in.Tools.Run(append(opts, mounts...)...).AddMount(step.MountOut, llb.Scratch()), nil
}
