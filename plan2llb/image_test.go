package plan2llb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/repo"
	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/step"
)

// marshalOps marshals st and returns its exec ops and op metadata names.
func marshalOps(t *testing.T, st llb.State) ([]*pb.ExecOp, []string) {
	t.Helper()
	def, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var execs []*pb.ExecOp
	for _, e := range defExecs(t, def) {
		execs = append(execs, e.GetExec())
	}
	var names []string
	for _, m := range def.Metadata {
		if n := m.Description["llb.customname"]; n != "" {
			names = append(names, n)
		}
	}
	return execs, names
}

// defExec is an exec op of a definition, with its digest (what other ops'
// inputs name it by).
type defExec struct {
	*pb.Op
	digest string
}

// defExecs returns a definition's exec ops.
func defExecs(t *testing.T, def *llb.Definition) []defExec {
	t.Helper()
	var execs []defExec
	for _, dt := range def.Def {
		op := &pb.Op{}
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if op.GetExec() != nil {
			execs = append(execs, defExec{op, fmt.Sprintf("sha256:%x", sha256.Sum256(dt))})
		}
	}
	return execs
}

// testPlan is a plan of n packages from a remote repository, one layer
// each, for aarch64.
func testPlan(t *testing.T, n int) (*plan.Plan, Inputs) {
	t.Helper()
	r := &plan.Repository{Repo: repo.Repository{Base: "http://127.0.0.1:1"}}
	tg, err := plan.TargetOf("aarch64")
	if err != nil {
		t.Fatal(err)
	}
	p := &plan.Platform{Target: tg, Image: &dockerspec.DockerOCIImage{}}
	for i := 0; i < n; i++ {
		pk := &index.Package{Name: string(rune('a' + i)), Version: "1.0-r0", Origin: string(rune('a' + i)), Checksum: "Q1" + string(rune('A'+i))}
		p.Packages = append(p.Packages, plan.Package{Package: pk, Repository: r})
		p.Layers = append(p.Layers, plan.Layer{Packages: []int{i}, Comment: "apk add " + pk.String()})
	}
	p.Layers = append(p.Layers, plan.Layer{Comment: "metadata"})
	in := Inputs{
		Tools:         llb.Image("127.0.0.1:5000/kiln:dev"),
		ToolsPlatform: ocispecs.Platform{OS: "linux", Architecture: "amd64"},
		Context:       llb.Scratch(),
	}
	return &plan.Plan{Keys: map[string][]byte{"k.rsa.pub": []byte("key"), "b.rsa.pub": []byte("other")}, Platforms: []*plan.Platform{p}}, in
}

// sized gives each package of pl's platform size installed bytes; at 1
// MiB a dozen packages are more than planning installs in one step.
func sized(pl *plan.Plan, size uint64) *plan.Plan {
	for _, pk := range pl.Platforms[0].Packages {
		pk.InstalledSize = size
	}
	return pl
}

func convert(t *testing.T, pl *plan.Plan, in Inputs) *Image {
	t.Helper()
	img, err := Convert(pl, pl.Platforms[0], in)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestImageExecOpsAreSandboxed(t *testing.T) {
	pl, in := testPlan(t, 12)
	sized(pl, 1<<20)
	batches := pl.Platforms[0].Batches()
	if len(batches) < 2 {
		t.Fatalf("batches %v: the test needs several", batches)
	}
	execs, names := marshalOps(t, convert(t, pl, in).Root)
	if len(execs) != len(batches)+1 {
		t.Fatalf("%d exec ops, want one per install batch (%d) and the metadata step", len(execs), len(batches))
	}
	var installs, layers int
	for _, e := range execs {
		if e.Network != pb.NetMode_NONE {
			t.Errorf("exec %v has network %v", e.Meta.Args, e.Network)
		}
		for _, m := range e.Mounts {
			output := m.Output != -1 // pb.SkipOutput
			isOut := m.Dest == "/out"
			switch {
			case isOut && (!output || m.Readonly):
				t.Errorf("exec %v: %s must be a writable output", e.Meta.Args[1], m.Dest)
			case !isOut && !m.Readonly:
				t.Errorf("exec %v: input mount %s is writable", e.Meta.Args[1], m.Dest)
			}
		}
		// Each reports into one of its own outputs, which costs no mount.
		want := map[string]string{"install-apk": step.MountOut, "image-meta": step.MountOut}[e.Meta.Args[1]]
		if dir := step.ReportDir(e.Meta.Args); dir != want {
			t.Errorf("exec %v reports to %q, want %s", e.Meta.Args[1], dir, want)
		}
		if e.Meta.Args[1] == "install-apk" {
			installs++
			// Each output is a snapshot BuildKit prepares and commits: an
			// install step's records and links are directories of its one.
			outputs := 0
			for _, m := range e.Mounts {
				if m.Output != -1 {
					outputs++
				}
			}
			if outputs != 1 {
				t.Errorf("install step %d has %d outputs, want 1", installs, outputs)
			}
			joined := strings.Join(e.Meta.Args, " ")
			layers += strings.Count(joined, "--layer /out/layer-")
			if !strings.Contains(joined, "--apk Q1") || !strings.Contains(joined, ":/pkgs/") || !strings.Contains(joined, "-1.0-r0.apk") {
				t.Errorf("install args lack expected checksums: %s", joined)
			}
			if lower := strings.Contains(joined, "--lower /lower"); lower != (installs > 1) {
				t.Errorf("batch %d: --lower given %v: %s", installs, lower, joined)
			}
		}
	}
	if layers != 12 {
		t.Errorf("%d layers installed, each in its directory of an install step's output, want one per package", layers)
	}
	want := []string{"[aarch64] install a-1.0-r0", "[aarch64] resolved 12 packages", "[aarch64] generate installed database, accounts and links", "[aarch64] assemble image (13 layers)"}
	for _, w := range want {
		found := false
		for _, n := range names {
			found = found || strings.HasPrefix(n, w)
		}
		if !found {
			t.Errorf("no vertex named %q in %q", w, names)
		}
	}
}

// TestImageOnePackageChange checks the cache property the layering exists
// for: changing one package changes the work of its own install batch
// only (later batches see the same links record, which BuildKit compares
// by content).
func TestImageOnePackageChange(t *testing.T) {
	work := func(pl *plan.Plan, in Inputs) map[string]bool {
		def, err := convert(t, pl, in).Root.Marshal(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, dt := range def.Def {
			var op pb.Op
			op.UnmarshalVT(dt)
			if e := op.GetExec(); e != nil && e.Meta.Args[1] == "install-apk" {
				out[strings.Join(e.Meta.Args, " ")] = true
			}
		}
		return out
	}
	plBefore, inBefore := testPlan(t, 12)
	before := work(sized(plBefore, 1<<20), inBefore)
	pl, in := testPlan(t, 12)
	sized(pl, 1<<20)
	pl.Platforms[0].Packages[5].Package.Version = "1.1-r0"
	pl.Platforms[0].Packages[5].Package.Checksum = "Q1changed"
	after := work(pl, in)
	var changed int
	for k := range after {
		if !before[k] {
			changed++
		}
	}
	if changed != 1 || len(after) != len(before) {
		t.Fatalf("%d of %d install batches changed after a one-package bump, want 1", changed, len(after))
	}
}

// TestLayersByContent checks that each layer is a copy of its directory
// in its install step's output, cached by content, so an unchanged layer
// keeps its blob when its batch re-runs. The copy reads a directory named
// after the layer's packages and epoch, which BuildKit's content checksum
// leaves out.
func TestLayersByContent(t *testing.T) {
	sources := func(edit func(p *plan.Platform)) (srcs []string, names []string) {
		pl, in := testPlan(t, 4)
		p := pl.Platforms[0]
		if edit != nil {
			edit(p)
		}
		img := convert(t, pl, in)
		def, err := img.Root.Marshal(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, dt := range def.Def {
			var op pb.Op
			if err := op.UnmarshalVT(dt); err != nil {
				t.Fatal(err)
			}
			for _, a := range op.GetFile().GetActions() {
				if c := a.GetCopy(); c != nil && c.DirCopyContents && c.Dest == "/" {
					srcs = append(srcs, c.Src)
				}
			}
		}
		slices.Sort(srcs)
		_, all := marshalOps(t, img.Root)
		for _, n := range all {
			if strings.HasSuffix(n, ", by content") {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		return srcs, names
	}
	srcs, names := sources(nil)
	var want []string
	for _, n := range []string{"a", "b", "c", "d"} {
		want = append(want, "[aarch64] layer of "+n+"-1.0-r0, by content")
	}
	if len(srcs) != 4 || !slices.Equal(names, want) {
		t.Fatalf("copied %v, named %q; want every layer", srcs, names)
	}
	for _, s := range srcs {
		if !strings.HasPrefix(s, "/layer-") {
			t.Errorf("copy source %q is not a layer directory", s)
		}
	}
	for _, tt := range []struct {
		what  string
		edit  func(p *plan.Platform)
		moved int
	}{
		{"the epoch", func(p *plan.Platform) { p.SourceDateEpoch = 1700000000 }, 4},
		{"b's package", func(p *plan.Platform) { p.Packages[1].Package.Checksum = "Q1rebuilt" }, 1},
	} {
		again, _ := sources(tt.edit)
		moved := 0
		for _, s := range srcs {
			if !slices.Contains(again, s) {
				moved++
			}
		}
		if moved != tt.moved {
			t.Errorf("after changing %s, the layer directories %v -> %v: want %d moved", tt.what, srcs, again, tt.moved)
		}
	}
}

// TestLayersShareOneOutput checks that an install batch's layers come out
// of one output, each in its own directory.
func TestLayersShareOneOutput(t *testing.T) {
	pl, in := testPlan(t, 4)
	execs, _ := marshalOps(t, convert(t, pl, in).Root)
	var outs []string
	var args string
	for _, e := range execs {
		if e.Meta.Args[1] != step.CmdInstallImage {
			continue
		}
		// The install's arguments, not the metadata step's after them.
		args, _, _ = strings.Cut(strings.Join(e.Meta.Args, " "), " --then ")
		for _, m := range e.Mounts {
			if m.Output >= 0 && strings.HasPrefix(m.Dest, step.MountOut) {
				outs = append(outs, m.Dest)
			}
		}
	}
	if want := []string{step.MountOut}; !slices.Equal(outs, want) {
		t.Fatalf("layer outputs %v, want %v", outs, want)
	}
	if n := strings.Count(args, "--layer /out/layer-"); n != 4 {
		t.Errorf("%d layers installed into the output, want 4: %s", n, args)
	}
}

// TestOneBatchInstallsAndWritesMetadata checks an image whose packages
// install in one batch: one step installs them and writes the metadata
// layer, the layers in its output as any install step's, the metadata
// layer its second output and the image's top layer, its spec naming the
// layers it installed and their records.
func TestOneBatchInstallsAndWritesMetadata(t *testing.T) {
	pl, in := testPlan(t, 5)
	img := convert(t, pl, in)
	def, err := img.Root.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	execs := defExecs(t, def)
	if len(execs) != 1 {
		t.Fatalf("%d exec ops, want the one install-image step", len(execs))
	}
	e := execs[0].GetExec()
	if e.Meta.Args[1] != step.CmdInstallImage || e.Network != pb.NetMode_NONE {
		t.Fatalf("exec %v, network %v", e.Meta.Args, e.Network)
	}
	if dir := step.ReportDir(e.Meta.Args); dir != step.MountOut {
		t.Errorf("reports to %q, want %s", dir, step.MountOut)
	}
	outputs := map[string]int64{}
	for _, m := range e.Mounts {
		switch {
		case m.Output != -1 && m.Readonly:
			t.Errorf("output %s is read-only", m.Dest)
		case m.Output != -1:
			outputs[m.Dest] = m.Output
		case !m.Readonly:
			t.Errorf("input mount %s is writable", m.Dest)
		}
	}
	_, image := outputs[step.MountImage]
	if _, out := outputs[step.MountOut]; len(outputs) != 2 || !image || !out {
		t.Fatalf("outputs %v, want %s and %s", outputs, step.MountOut, step.MountImage)
	}
	_, args := step.CutReport(e.Meta.Args[2:])
	s, err := step.ParseInstallImage(args, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wantLayers, wantMetas []string
	for _, l := range s.Install.Layers {
		wantLayers, wantMetas = append(wantLayers, l.Out), append(wantMetas, l.Meta)
	}
	if len(wantLayers) != 5 || !slices.Equal(s.Meta.Layers, wantLayers) || !slices.Equal(s.Meta.Metas, wantMetas) {
		t.Errorf("metadata reads layers %v and records %v, want what was installed: %v, %v", s.Meta.Layers, s.Meta.Metas, wantLayers, wantMetas)
	}
	if s.Meta.Out != step.MountImage || s.Install.Lower != "" || len(s.Meta.Batches) != 0 {
		t.Errorf("metadata out %q, install lower %q, batches %v", s.Meta.Out, s.Install.Lower, s.Meta.Batches)
	}
	// The image's top layer is the step's second output, as is.
	var merge *pb.MergeOp
	var mergeInputs []*pb.Input
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if m := op.GetMerge(); m != nil {
			merge, mergeInputs = m, op.Inputs
		}
	}
	if merge == nil || len(merge.Inputs) != 6 {
		t.Fatalf("merge %v, want 6 layers", merge)
	}
	top := mergeInputs[merge.Inputs[len(merge.Inputs)-1].Input]
	if top.Digest != execs[0].digest || top.Index != outputs[step.MountImage] {
		t.Errorf("top layer is %s output %d, want the step's %s (output %d)", top.Digest, top.Index, step.MountImage, outputs[step.MountImage])
	}
}

// TestSBOMStep checks the SBOM step: sandboxed like the install steps,
// fed every layer's install record and the spec, and leaving the image's
// own graph alone.
func TestSBOMStep(t *testing.T) {
	pl, in := testPlan(t, 3)
	img := convert(t, pl, in)
	before, err := img.Root.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	execs, names := marshalOps(t, img.SBOM)
	var sbomExec *pb.ExecOp
	for _, e := range execs {
		if e.Meta.Args[1] == "image-sbom" {
			sbomExec = e
		}
	}
	if sbomExec == nil {
		t.Fatalf("no image-sbom exec in %q", names)
	}
	if sbomExec.Network != pb.NetMode_NONE {
		t.Errorf("SBOM step network %v, want none", sbomExec.Network)
	}
	joined := strings.Join(sbomExec.Meta.Args, " ")
	if got := strings.Count(joined, "--meta "); got != 3 {
		t.Errorf("SBOM step reads %d install records, want 3 (one per layer): %s", got, joined)
	}
	for _, m := range sbomExec.Mounts {
		if m.Dest == "/" && !m.Readonly {
			t.Error("SBOM step's root filesystem is writable")
		}
	}
	// Every record it reads is in a read-only mount.
	for i, a := range sbomExec.Meta.Args {
		if a != "--meta" || i+1 == len(sbomExec.Meta.Args) {
			continue
		}
		dir, inMount := sbomExec.Meta.Args[i+1], false
		for _, m := range sbomExec.Mounts {
			inMount = inMount || m.Readonly && strings.HasPrefix(dir, m.Dest+"/")
		}
		if !inMount {
			t.Errorf("SBOM step reads the record %s from no read-only mount", dir)
		}
	}
	found := false
	for _, n := range names {
		found = found || n == "[aarch64] write SPDX SBOM"
	}
	if !found {
		t.Errorf("no SBOM vertex in %q", names)
	}
	after, err := convert(t, pl, in).Root.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(before.Def) != len(after.Def) {
		t.Errorf("asking for an SBOM changed the image graph: %d ops, then %d", len(before.Def), len(after.Def))
	}
	for i := range before.Def {
		if !bytes.Equal(before.Def[i], after.Def[i]) {
			t.Errorf("asking for an SBOM changed the image graph's op %d", i)
		}
	}
}

func TestImageNoPackages(t *testing.T) {
	pl, in := testPlan(t, 0)
	execs, _ := marshalOps(t, convert(t, pl, in).Root)
	if len(execs) != 1 || execs[0].Meta.Args[1] != "image-meta" {
		t.Fatalf("an image of no packages should be one metadata step, got %d execs", len(execs))
	}
	pl.Platforms[0].Layers = nil
	if _, err := Convert(pl, pl.Platforms[0], in); err == nil {
		t.Fatal("Convert of a plan without a metadata layer succeeded")
	}
}

// TestConvertDeterministic checks that one plan always gives one graph:
// BuildKit's cache keys are the ops' digests, so a graph that depended on
// map order would miss the cache at random. Each run rebuilds the plan's
// maps in a shuffled insertion order.
func TestConvertDeterministic(t *testing.T) {
	graph := func(pl *plan.Plan, in Inputs) string {
		img := convert(t, pl, in)
		h := sha256.New()
		for _, st := range []llb.State{img.Root, img.SBOM} {
			def, err := st.Marshal(context.Background(), llb.Platform(ocispecs.Platform{OS: "linux", Architecture: "arm64"}))
			if err != nil {
				t.Fatal(err)
			}
			for _, dt := range def.Def {
				h.Write(dt)
			}
			for _, dg := range slices.Sorted(maps.Keys(def.Metadata)) {
				m := def.Metadata[dg]
				fmt.Fprintf(h, "%s %v %v\n", dg, m.IgnoreCache, m.Description)
			}
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	pl, in := testPlan(t, 12)
	want := graph(pl, in)
	rng := rand.New(rand.NewPCG(1, 2))
	for run := 0; run < 100; run++ {
		pl, in := testPlan(t, 12)
		names := slices.Collect(maps.Keys(pl.Keys))
		rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		keys := map[string][]byte{}
		for _, n := range names {
			keys[n] = pl.Keys[n]
		}
		pl.Keys = keys
		if got := graph(pl, in); got != want {
			t.Fatalf("run %d: graph digest %s, want %s", run, got, want)
		}
	}
}

// sourceIdentifiers lists the identifiers of st's source ops.
func sourceIdentifiers(t *testing.T, st llb.State) []string {
	t.Helper()
	def, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if s := op.GetSource(); s != nil {
			ids = append(ids, s.Identifier)
		}
	}
	slices.Sort(ids)
	return ids
}

// A package the frontend fetched already is mounted from that fetch (a
// refetch included); the others from their own HTTP source.
func TestFetchedPackagesAreUsed(t *testing.T) {
	pl, in := testPlan(t, 2)
	p := pl.Platforms[0]
	u0 := p.Packages[0].URL(p.Arch)
	in.Fetched = map[string]llb.State{u0: HTTPSource(u0, p.Packages[0].Filename(), "2")}
	ids := sourceIdentifiers(t, convert(t, pl, in).Root)
	want := []string{u0 + "#kiln-refetch=2", p.Packages[1].URL(p.Arch)}
	for _, w := range want {
		if !slices.Contains(ids, w) {
			t.Errorf("no source %s in %q", w, ids)
		}
	}
	if slices.Contains(ids, u0) {
		t.Errorf("package 0 is fetched twice: %q", ids)
	}
}

// The keyring is one file operation however many keys there are: every
// step waits for it.
func TestKeyringOneFileOp(t *testing.T) {
	def, err := keysState(map[string][]byte{"b.rsa.pub": []byte("B"), "a.rsa.pub": []byte("A")}).Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	ops := 0
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if f := op.GetFile(); f != nil {
			ops++
			for _, a := range f.Actions {
				if m := a.GetMkfile(); m != nil {
					files = append(files, m.Path+"="+string(m.Data))
				}
			}
		}
	}
	if ops != 1 || !slices.Equal(files, []string{"/a.rsa.pub=A", "/b.rsa.pub=B"}) {
		t.Errorf("%d file ops writing %v; want one writing both keys in name order", ops, files)
	}
}

// TestInstallBatchesSideBySide checks how install batches hand on their
// links: side by side, every batch after the first reads the first's
// record, and the metadata step checks them all; chained, each reads the
// one below it and nothing is checked. Batches that install little, or
// that the frontend asks to chain, are chained.
func TestInstallBatchesSideBySide(t *testing.T) {
	pl, in := testPlan(t, 30)
	tests := []struct {
		name        string
		size        uint64 // each package's installed bytes
		chainAsked  bool
		wantChained bool
	}{
		{"large packages", 1 << 20, false, false},
		{"large packages, chained on request", 1 << 20, true, true},
		{"small packages", 300 << 10, false, true},
	}
	for _, tt := range tests {
		for _, pk := range pl.Platforms[0].Packages {
			pk.InstalledSize = tt.size
		}
		in.ChainInstalls = tt.chainAsked
		in.ChainedBecause = ""
		if tt.chainAsked {
			in.ChainedBecause = "/opt/current: a test's reason"
		}
		chained := tt.wantChained
		batches := pl.Platforms[0].Batches()
		if len(batches) < 3 {
			t.Fatalf("%s: batches %v, the test needs three or more", tt.name, batches)
		}
		img := convert(t, pl, in)
		def, err := img.Root.Marshal(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		lowers := map[string]int{} // the input each install mounts at /lower
		var meta *pb.ExecOp
		var metaOp *pb.Op
		var metaDigest string
		for _, op := range defExecs(t, def) {
			e := op.GetExec()
			switch e.Meta.Args[1] {
			case step.CmdInstallAPK:
				for _, m := range e.Mounts {
					if m.Dest == step.MountLower {
						in := op.Inputs[m.Input]
						lowers[fmt.Sprintf("%s/%d", in.Digest, in.Index)]++
					}
				}
			case step.CmdImageMeta:
				meta, metaOp, metaDigest = e, op.Op, op.digest
			}
		}
		_, rest := step.CutReport(meta.Meta.Args[2:])
		s, err := step.ParseImageMeta(rest, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Batches chained after a check found a difference say so, and
		// the metadata step says why; batches planned chained do not.
		installsAgain, metaAgain := 0, 0
		for dgst, md := range def.Metadata {
			name := md.Description["llb.customname"]
			if !strings.Contains(name, "] install ") && !strings.Contains(name, "] generate installed database") {
				continue
			}
			switch {
			case strings.HasSuffix(name, "(batches one after another)"):
				installsAgain++
			case strings.HasSuffix(name, "(batches one after another: /opt/current: a test's reason)"):
				metaAgain++
			case tt.chainAsked:
				t.Errorf("%s: step %s is named %q, not as chained again", tt.name, dgst, name)
			}
		}
		wantInstalls, wantMeta := 0, 0
		if tt.chainAsked {
			wantInstalls, wantMeta = len(batches), 1
		}
		if installsAgain != wantInstalls || metaAgain != wantMeta {
			t.Errorf("%s: %d install steps and %d metadata steps named as chained again, want %d and %d", tt.name, installsAgain, metaAgain, wantInstalls, wantMeta)
		}
		if chained {
			if len(lowers) != len(batches)-1 || img.Check != nil || len(s.Batches) != 0 {
				t.Errorf("%s: %d distinct records below %d batches, check %v, batches given to the metadata step %v", tt.name, len(lowers), len(batches), img.Check, s.Batches)
			}
			continue
		}
		if len(lowers) != 1 || img.Check == nil || len(s.Batches) != len(batches) {
			t.Errorf("%s: records below %v, check %v, metadata step's batches %v", tt.name, lowers, img.Check, s.Batches)
		}
		for i, b := range s.Batches {
			if b.Layers != len(batches[i]) {
				t.Errorf("batch %d: %d layers given to the metadata step, the plan has %d", i, b.Layers, len(batches[i]))
			}
		}
		// The check is the metadata step's one output, the metadata
		// layer: a verdict is no output of its own.
		var outputs []string
		outIndex := int64(-1)
		for _, m := range meta.Mounts {
			if m.Output != -1 {
				outputs = append(outputs, m.Dest)
				outIndex = m.Output
			}
		}
		checkDef, err := img.Check.Marshal(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		terminal := &pb.Op{}
		if err := terminal.UnmarshalVT(checkDef.Def[len(checkDef.Def)-1]); err != nil {
			t.Fatal(err)
		}
		if len(outputs) != 1 || outputs[0] != step.MountOut || len(metaOp.Inputs) == 0 || len(terminal.Inputs) != 1 ||
			terminal.Inputs[0].Digest != metaDigest || terminal.Inputs[0].Index != outIndex {
			t.Errorf("the metadata step's outputs %v; the check %v, want its output %d (%s)", outputs, terminal.Inputs, outIndex, metaDigest)
		}
	}
}

// TestMetadataStepMountsEachBatchOnce checks that the metadata step
// mounts each install batch's output once, whole, and is given every
// layer as its directory in the mount of the batch that installed it,
// chained or side by side.
func TestMetadataStepMountsEachBatchOnce(t *testing.T) {
	pl, in := testPlan(t, 30)
	for _, size := range []uint64{300 << 10, 1 << 20} { // chained, side by side
		for _, pk := range pl.Platforms[0].Packages {
			pk.InstalledSize = size
		}
		batches := pl.Platforms[0].Batches()
		if len(batches) < 3 {
			t.Fatalf("size %d: batches %v, the test needs three or more", size, batches)
		}
		def, err := convert(t, pl, in).Root.Marshal(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		installed := map[string][]string{} // an install step's layers output → its layer directories
		var meta *pb.Op
		for _, op := range defExecs(t, def) {
			e := op.GetExec()
			switch e.Meta.Args[1] {
			case step.CmdInstallAPK:
				var dirs []string
				for _, a := range e.Meta.Args {
					if strings.HasPrefix(a, step.MountOut+"/layer-") {
						dirs = append(dirs, strings.TrimPrefix(a, step.MountOut+"/"))
					}
				}
				for _, m := range e.Mounts {
					if m.Dest == step.MountOut {
						installed[fmt.Sprintf("%s/%d", op.digest, m.Output)] = dirs
					}
				}
			case step.CmdImageMeta:
				meta = op.Op
			}
		}
		mounted := map[string][]string{} // a mount under MountLayers → the layer directories in it
		for _, m := range meta.GetExec().Mounts {
			if !strings.HasPrefix(m.Dest, step.MountLayers+"/") {
				continue
			}
			in := meta.Inputs[m.Input]
			dirs, ok := installed[fmt.Sprintf("%s/%d", in.Digest, in.Index)]
			if !ok || m.Selector != "/" || !m.Readonly {
				t.Fatalf("size %d: mount %s is not an install step's whole layers output, read-only (selector %q)", size, m.Dest, m.Selector)
			}
			mounted[m.Dest] = dirs
		}
		if len(mounted) != len(batches) {
			t.Fatalf("size %d: %d layer mounts for %d batches", size, len(mounted), len(batches))
		}
		// BuildKit keys a step by one content rule per input, the last
		// mount's: one mount of an install output with a checksum would
		// have it hash every file of the layers.
		for _, m := range meta.GetExec().Mounts {
			if m.Input < 0 {
				continue
			}
			in := meta.Inputs[m.Input]
			if _, ok := installed[fmt.Sprintf("%s/%d", in.Digest, in.Index)]; ok && m.ContentCache != pb.MountContentCache_OFF {
				t.Errorf("size %d: the metadata step's mount %s of an install output (selector %q) is checksummed by content", size, m.Dest, m.Selector)
			}
		}
		_, rest := step.CutReport(meta.GetExec().Meta.Args[2:])
		s, err := step.ParseImageMeta(rest, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, l := range s.Layers {
			dir, layer := path.Split(l)
			if !slices.Contains(mounted[strings.TrimSuffix(dir, "/")], layer) {
				t.Errorf("size %d: layer %s is not one its mount's install step installed", size, l)
			}
			got = append(got, layer)
		}
		for li := range pl.Platforms[0].Layers[:len(pl.Platforms[0].Layers)-1] {
			want = append(want, (&converter{p: pl.Platforms[0]}).layerID(li))
		}
		if !slices.Equal(got, want) {
			t.Errorf("size %d: the metadata step's layers\n%v, want (bottom first)\n%v", size, got, want)
		}
	}
}
