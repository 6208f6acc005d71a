package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/integration/ocitest"
	"github.com/kiln-build/kiln/integration/testrepo"
)

// runApko compares image builds: a small image (35 small packages) and a
// large one (30 packages of real binaries, about 110 MB), each cold, as a
// no-op rebuild and after a one-package bump.
func runApko(args []string) error {
	fs := flag.NewFlagSet("benchvs apko", flag.ContinueOnError)
	apko := fs.String("apko", os.Getenv("KILN_APKO"), "the reference apko binary (../shared/peers builds it)")
	runs := fs.Int("runs", 5, "runs per case and tool")
	images := fs.String("image", "small,large", "which images: small, large")
	profiles := fs.String("profile", "", "`DIR` for CPU profiles of buildkitd and of the step binary during a cold build (none if empty)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *apko == "" {
		return fmt.Errorf("--apko or KILN_APKO: the reference apko (../shared/peers/build-peers.sh builds it)")
	}
	signer, goroot, err := repoInputs()
	if err != nil {
		return err
	}
	for _, img := range strings.Split(*images, ",") {
		b := &apkoBench{apko: *apko, runs: *runs, signer: signer, image: img, goroot: goroot, profiles: *profiles}
		if err := b.run(); err != nil {
			return fmt.Errorf("%s image: %w", img, err)
		}
	}
	return nil
}

// benchKeyName is the name of the key the images' repositories are
// signed with.
const benchKeyName = "kiln-test.rsa.pub"

// repoInputs are what the images' repositories are made from: a fresh
// signing key and the host Go toolchain's GOROOT (the large image's bulk).
func repoInputs() (*sign.Signer, string, error) {
	signer, err := sign.GenerateSigner(benchKeyName, 2048)
	if err != nil {
		return nil, "", err
	}
	goroot, err := hostGOROOT()
	return signer, goroot, err
}

func hostGOROOT() (string, error) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	return strings.TrimSpace(string(out)), err
}

// writeContext writes the apko benchmark's context for one image (its
// apko.yaml and signed repository) into a directory, for probes by hand.
func writeContext(args []string) error {
	fs := flag.NewFlagSet("benchvs context", flag.ContinueOnError)
	image := fs.String("image", "small", "which image: small, large")
	bump := fs.String("bump", "", "the bumped package's version (e.g. 1.1-r0), to rewrite DIR as the bench's bump does")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: benchvs context --image small|large [--bump VERSION] DIR")
	}
	goroot, err := hostGOROOT()
	if err != nil {
		return err
	}
	b := &apkoBench{image: *image, goroot: goroot, ctx: fs.Arg(0)}
	if err := os.MkdirAll(b.ctx, 0o755); err != nil {
		return err
	}
	// The signing key stays beside the context, so a bump re-signs only
	// the bumped package and the index, as the bench's bump does.
	keyFile := filepath.Join(b.ctx, ".signing", strings.TrimSuffix(benchKeyName, ".pub"))
	var versions map[string]string
	if *bump != "" {
		versions = map[string]string{bumpedPackage[*image]: *bump}
		if b.signer, err = sign.LoadSigner(keyFile); err != nil {
			return fmt.Errorf("--bump rewrites a context this command wrote: %w", err)
		}
	} else {
		if b.signer, err = sign.GenerateSigner(benchKeyName, 2048); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(keyFile, b.signer.PrivateKeyPEM(), 0o600); err != nil {
			return err
		}
	}
	pkgs, err := b.writeRepo(versions)
	if err != nil {
		return err
	}
	if err := b.writeConfig(pkgs); err != nil {
		return err
	}
	fmt.Printf("%s: apko.yaml and packages/ (%d packages; bump %s)\n", b.ctx, len(pkgs), b.bumpPkg)
	return nil
}

// bumpedPackage is the package each image's bump changes.
var bumpedPackage = map[string]string{"small": "filler-07", "large": "bulk-17"}

type apkoBench struct {
	apko, image, goroot string
	profiles            string // where profileCold writes; "" for none
	runs                int
	signer              *sign.Signer
	ctx                 string
	bumpPkg             string
	lastWritten         int // files the last writeRepo changed
}

func (b *apkoBench) run() error {
	var err error
	if b.ctx, err = os.MkdirTemp("", "kiln-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.ctx)
	pkgs, err := b.writeRepo(nil)
	if err != nil {
		return err
	}
	if err := b.writeConfig(pkgs); err != nil {
		return err
	}
	fmt.Printf("\n## %s image: %d packages\n\n%s\n\n", b.image, len(pkgs), builderState())
	header("apko")

	cacheDir := filepath.Join(b.ctx, ".apko-cache")
	cold := row{name: "cold (--no-cache / empty cache)"}
	probeDir, err := os.MkdirTemp("", "kiln-bench-layers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(probeDir)
	probe := sameLayersProbe{dir: probeDir}
	var sameLayers, sameLayersBump []sample
	var coldProgress string
	for i := 0; i < b.runs; i++ {
		k, out, err := b.kiln("--no-cache")
		if err != nil {
			return err
		}
		coldProgress = out
		from := "" // the first cold image's layers serve every cold run
		if i == 0 {
			from = filepath.Join(b.ctx, "kiln.tar")
		}
		s, err := probe.build(from, true)
		if err != nil {
			return err
		}
		sameLayers = append(sameLayers, s)
		os.RemoveAll(cacheDir)
		p, _, err := b.apkoBuild(cacheDir)
		if err != nil {
			return err
		}
		cold.kiln, cold.peer = append(cold.kiln, k), append(cold.peer, p)
	}
	cold.print("apko")
	coldT, err := b.printTimeline("cold", false, "--no-cache")
	if err != nil {
		return err
	}

	warm := row{name: "warm no-op (apko: full rebuild)"}
	for i := 0; i < b.runs; i++ {
		k, _, err := b.kiln()
		if err != nil {
			return err
		}
		p, _, err := b.apkoBuild(cacheDir)
		if err != nil {
			return err
		}
		warm.kiln, warm.peer = append(warm.kiln, k), append(warm.peer, p)
	}
	warm.print("apko")
	warmT, err := b.printTimeline("warm", false)
	if err != nil {
		return err
	}

	bump := row{name: "one-package bump (" + b.bumpPkg + ")"}
	before := filepath.Join(b.ctx, "before.tar")
	if _, _, err := b.kilnTo(before); err != nil {
		return err
	}
	var changedBytes, totalBytes int64
	var changedLayers, layers int
	var bumpProgress string
	var written int
	for i := 0; i < b.runs; i++ {
		// Alternate two versions, so each run is a bump against the last.
		if _, err := b.writeRepo(map[string]string{b.bumpPkg: fmt.Sprintf("1.%d-r0", i+1)}); err != nil {
			return err
		}
		written = b.lastWritten
		after := filepath.Join(b.ctx, "after.tar")
		k, out, err := b.kilnTo(after)
		if err != nil {
			return err
		}
		bumpProgress = out
		// The same bump without kiln: the probe's context takes the
		// bumped image's layers and BuildKit's own frontend builds them
		// over its last build of the layers before.
		s, err := probe.build(after, false)
		if err != nil {
			return err
		}
		sameLayersBump = append(sameLayersBump, s)
		p, _, err := b.apkoBuild(cacheDir)
		if err != nil {
			return err
		}
		bump.kiln, bump.peer = append(bump.kiln, k), append(bump.peer, p)
		if i == 0 {
			changedLayers, layers, changedBytes, totalBytes, err = layerChange(before, after)
			if err != nil {
				return err
			}
		}
	}
	bump.print("apko")
	bumpT, err := b.printTimeline("bump", true)
	if err != nil {
		return err
	}
	fmt.Printf("\nbytes a bump changes: kiln %d of %d layers, %d of %d bytes (%.1f%%); apko: its one layer (100%%)\n",
		changedLayers, layers, changedBytes, totalBytes, 100*float64(changedBytes)/float64(totalBytes))
	fmt.Printf("files a bump writes into the repository (the rest keep their mtimes): %d\n", written)
	probeT, err := b.containerProbe()
	if err != nil {
		return err
	}
	printFloor(goals[b.image], floorRuns{cold: cold, warm: warm, bump: bump, sameLayers: sameLayers, sameLayersBump: sameLayersBump}, floorTimelines{cold: coldT, warm: warmT, bump: bumpT, container: probeT})
	fmt.Printf("\nwhere kiln's last cold build spent its time (vertices of 0.05 s or more):\n")
	for _, l := range vertexTimes(coldProgress) {
		fmt.Println("  " + l)
	}
	fmt.Printf("\nwhere kiln's last bump spent its time:\n")
	for _, l := range vertexTimes(bumpProgress) {
		fmt.Println("  " + l)
	}
	if b.profiles != "" {
		// The bumps left the repository as it was at the last run.
		return b.profileCold(b.profiles, medianWall(cold.kiln), cpuRuns{cold: cold, warm: warm})
	}
	return nil
}

// timelineBuilds is how many more builds each case's timeline is the
// median of: one build's phases move by a tenth of a second from run to
// run here.
const timelineBuilds = 3

// printTimeline runs timelineBuilds more kiln builds of a case with args
// (each after a bump of b.bumpPkg, if bump), with rawjson progress, and
// prints and returns their median timeline.
func (b *apkoBench) printTimeline(name string, bump bool, args ...string) (buildTimeline, error) {
	var ts []buildTimeline
	var builds []sample
	for i := 0; i < timelineBuilds; i++ {
		if bump {
			if _, err := b.writeRepo(map[string]string{b.bumpPkg: fmt.Sprintf("1.%d-r0", b.runs+1+i)}); err != nil {
				return buildTimeline{}, err
			}
		}
		k, out, err := b.kiln(append([]string{"--progress", "rawjson"}, args...)...)
		if err != nil {
			return buildTimeline{}, err
		}
		t, err := timeline(out, k.wall)
		if err != nil {
			return t, err
		}
		ts, builds = append(ts, t), append(builds, k)
	}
	t := medianTimeline(ts)
	printTimeline(fmt.Sprintf("%s timeline, medians of %d more builds (%.2f s)", name, len(ts), medianWall(builds)), t)
	return t, nil
}

// writeRepo writes the image's repository into the context: the test
// repository (with filler packages for the small image, or bulk packages
// of the host's Go toolchain's files for the large one).
func (b *apkoBench) writeRepo(versions map[string]string) ([]string, error) {
	dir := filepath.Join(b.ctx, "packages")
	staging := dir + ".new"
	os.RemoveAll(staging)
	defer os.RemoveAll(staging)
	o := testrepo.Options{Dir: staging, Signer: b.signer, Busybox: map[string]string{"x86_64": testrepo.HostBusybox()},
		ListWith: testrepo.HostBusybox(), Versions: versions}
	names := []string{"kiln-baselayout", "busybox", "hello", "suid-tool"}
	switch b.image {
	case "small":
		o.Filler = 30
		for i := 0; i < 30; i++ {
			names = append(names, fmt.Sprintf("filler-%02d", i))
		}
		b.bumpPkg = bumpedPackage["small"]
	case "large":
		o.Bulk, o.BulkFrom = 30, b.goroot
		names = []string{"kiln-baselayout", "busybox"}
		for i := 0; i < 30; i++ {
			names = append(names, fmt.Sprintf("bulk-%02d", i))
		}
		b.bumpPkg = bumpedPackage["large"]
	default:
		return nil, fmt.Errorf("unknown image %q (small, large)", b.image)
	}
	if _, err := testrepo.Write(o); err != nil {
		return nil, err
	}
	moved, err := replaceChanged(staging, dir)
	if err != nil {
		return nil, err
	}
	b.lastWritten = moved
	return names, nil
}

func (b *apkoBench) writeConfig(pkgs []string) error {
	return os.WriteFile(filepath.Join(b.ctx, "apko.yaml"), configFor(pkgs), 0o644)
}

// configFor is the benchmark's apko.yaml for these packages of its
// repository.
func configFor(pkgs []string) []byte {
	var sb strings.Builder
	sb.WriteString("contents:\n  repositories:\n    - ./packages\n  keyring:\n    - ./packages/kiln-test.rsa.pub\n  packages:\n")
	for _, p := range pkgs {
		sb.WriteString("    - " + p + "\n")
	}
	sb.WriteString("entrypoint:\n  command: /bin/sh\narchs:\n  - x86_64\n")
	return []byte(sb.String())
}

// probePackage is the package of the container probe: a few bytes in
// both images' repositories.
const probePackage = "kiln-baselayout"

// containerProbe builds an image of probePackage alone, cold, a few times
// and returns the median timeline: its install step is what starting one
// of kiln's sandboxes costs, with next to no work in it.
func (b *apkoBench) containerProbe() (buildTimeline, error) {
	if err := os.WriteFile(filepath.Join(b.ctx, "probe.yaml"), configFor([]string{probePackage}), 0o644); err != nil {
		return buildTimeline{}, err
	}
	var ts []buildTimeline
	for i := 0; i < timelineBuilds; i++ {
		k, out, err := kilnBuild(b.ctx, "probe.yaml", "type=oci,dest="+filepath.Join(b.ctx, "probe.tar"), "--no-cache", "--progress", "rawjson")
		if err != nil {
			return buildTimeline{}, fmt.Errorf("container probe: %w", err)
		}
		t, err := timeline(out, k.wall)
		if err != nil {
			return t, fmt.Errorf("container probe: %w", err)
		}
		ts = append(ts, t)
	}
	return medianTimeline(ts), nil
}

func (b *apkoBench) kiln(args ...string) (sample, string, error) {
	return b.kilnTo(filepath.Join(b.ctx, "kiln.tar"), args...)
}

func (b *apkoBench) kilnTo(out string, args ...string) (sample, string, error) {
	return kilnBuild(b.ctx, "apko.yaml", "type=oci,dest="+out, args...)
}

func (b *apkoBench) apkoBuild(cacheDir string) (sample, string, error) {
	out := filepath.Join(b.ctx, "apko-out")
	os.RemoveAll(out)
	os.MkdirAll(out, 0o755)
	return run(b.ctx, []string{"SOURCE_DATE_EPOCH=0"}, false, b.apko, "build", "--vcs=false", "--sbom=false",
		"--cache-dir", cacheDir, "--arch", "x86_64", "apko.yaml", "kiln-bench:1", out)
}

// kilnBuild builds ctxDir's file with kiln for linux/amd64 through buildx,
// timing it with buildkitd's CPU.
func kilnBuild(ctxDir, file, output string, extra ...string) (sample, string, error) {
	return kilnBuildWith(frontendImage(), ctxDir, file, output, extra...)
}

// kilnBuildWith is kilnBuild with the kiln frontend image frontend.
func kilnBuildWith(frontend, ctxDir, file, output string, extra ...string) (sample, string, error) {
	argv := append([]string{"docker", "buildx", "build", "--builder", "kiln", "--progress", "plain",
		"-f", filepath.Join(ctxDir, file), "--build-arg", "BUILDKIT_SYNTAX=" + frontend,
		"--platform", "linux/amd64", "--output", output}, extra...)
	return run(ctxDir, nil, true, append(argv, ctxDir)...)
}

func frontendImage() string {
	if v := os.Getenv("KILN_FRONTEND_IMAGE"); v != "" {
		return v
	}
	return "127.0.0.1:5000/kiln:dev"
}

// layerChange compares two single-image layout tars' layers.
func layerChange(a, b string) (changed, total int, changedBytes, totalBytes int64, err error) {
	la, err := layerSet(a)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	lb, err := ocitest.Load(b)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	imgs, err := lb.Images()
	if err != nil || len(imgs) != 1 {
		return 0, 0, 0, 0, fmt.Errorf("%s: %d images, %v", b, len(imgs), err)
	}
	for _, d := range imgs[0].Manifest.Layers {
		total++
		totalBytes += d.Size
		if !la[d.Digest.String()] {
			changed++
			changedBytes += d.Size
		}
	}
	return changed, total, changedBytes, totalBytes, nil
}

func layerSet(p string) (map[string]bool, error) {
	l, err := ocitest.Load(p)
	if err != nil {
		return nil, err
	}
	imgs, err := l.Images()
	if err != nil || len(imgs) != 1 {
		return nil, fmt.Errorf("%s: %d images, %v", p, len(imgs), err)
	}
	out := map[string]bool{}
	for _, d := range imgs[0].Manifest.Layers {
		out[d.Digest.String()] = true
	}
	return out, nil
}
