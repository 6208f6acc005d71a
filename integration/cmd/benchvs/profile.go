package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/step"
)

// Where the profiles of a cold build go: buildkitd's, read from its debug
// address while a --no-cache build runs, and the step binary's, from a
// replay on the host of the same install steps the build runs (the same
// binary, arguments and packages; only the mount points differ), since a
// profile written inside a step's sandbox would vanish with it.

// daemonProfile fetches a CPU profile of buildkitd (served on its
// --debugaddr) while build runs, into file.
func daemonProfile(debugAddr, file string, seconds int, build func() error) error {
	type result struct {
		body []byte
		err  error
	}
	got := make(chan result, 1)
	go func() {
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, seconds)
		resp, err := http.Get(url)
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		got <- result{body, err}
	}()
	// Let the profile start before the build does.
	time.Sleep(200 * time.Millisecond)
	berr := build()
	r := <-got
	if berr != nil {
		return berr
	}
	if r.err != nil {
		return fmt.Errorf("buildkitd profile (is buildkitd started with --debugaddr %s?): %w", debugAddr, r.err)
	}
	return os.WriteFile(file, r.body, 0o644)
}

// replayTimes is what the steps replayed on the host took: wall time and
// CPU-seconds (user and system) of the install steps and of the metadata
// step.
type replayTimes struct {
	install, meta       time.Duration
	installCPU, metaCPU float64
}

// stepProfile plans the benchmark's config as the frontend would, runs
// each of its install steps on the host with kiln-step, one CPU profile
// per step, and merges them into file; then the metadata step over their
// outputs, profiled into metaFile.
func stepProfile(ctxDir, file, metaFile string) (replayTimes, error) {
	r, err := replayInstall(ctxDir, file)
	if r != nil {
		defer os.RemoveAll(r.work)
	}
	if err != nil {
		return replayTimes{}, err
	}
	work, p := r.work, r.p
	spec, err := json.Marshal(p.Meta)
	if err != nil {
		return replayTimes{}, err
	}
	specFile := filepath.Join(work, "spec.json")
	out := filepath.Join(work, "meta-out")
	if err := os.WriteFile(specFile, spec, 0o644); err != nil {
		return replayTimes{}, err
	}
	if err := os.Mkdir(out, 0o755); err != nil {
		return replayTimes{}, err
	}
	s := step.ImageMeta{Spec: specFile, Keyring: filepath.Join(work, "keys"), Out: out,
		SourceDateEpoch: p.SourceDateEpoch, Layers: r.layers, Metas: r.metas}
	if r.sideBySide {
		s.Batches = r.batches
	}
	args := s.Args()
	cmd := exec.Command(filepath.Join(work, "kiln-step"), args[1:]...)
	cmd.Env = append(os.Environ(), "KILN_STEP_CPUPROFILE="+metaFile)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return replayTimes{}, fmt.Errorf("metadata step: %v\n%s", err, out)
	}
	return replayTimes{install: r.install, installCPU: r.installCPU, meta: time.Since(start), metaCPU: processCPU(cmd.ProcessState)}, nil
}

// processCPU is the CPU-seconds an exited process used.
func processCPU(ps *os.ProcessState) float64 {
	return (ps.UserTime() + ps.SystemTime()).Seconds()
}

// replayed is what replayInstall did.
type replayed struct {
	work          string // the work directory, which the caller removes
	p             *plan.Platform
	layers, metas []string // every layer's output and record, in layer order
	batches       []step.InstallBatch
	sideBySide    bool // the batches ran as the conversion runs large ones
	install       time.Duration
	installCPU    float64
}

// replayInstall runs the install steps of stepProfile.
func replayInstall(ctxDir, file string) (*replayed, error) {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "kiln-step-profile-")
	if err != nil {
		return nil, err
	}
	r := &replayed{work: work}
	bin := filepath.Join(work, "kiln-step")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/kiln-step")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return r, fmt.Errorf("go build ./cmd/kiln-step: %v\n%s", err, out)
	}

	cfg := filepath.Join(ctxDir, "apko.yaml")
	data, err := os.ReadFile(cfg)
	if err != nil {
		return r, err
	}
	src := &plan.HostSource{Root: ctxDir}
	req, err := plan.Load(ctx, cfg, data, src)
	if err != nil {
		return r, err
	}
	target, err := plan.TargetOf("x86_64")
	if err != nil {
		return r, err
	}
	pl, err := plan.Resolve(ctx, req, []plan.Target{target}, src, plan.Options{})
	if err != nil {
		return r, err
	}
	p := pl.Platforms[0]
	r.p = p

	keys := filepath.Join(work, "keys")
	if err := os.Mkdir(keys, 0o755); err != nil {
		return r, err
	}
	for name, k := range pl.Keys {
		if err := os.WriteFile(filepath.Join(keys, name), k, 0o644); err != nil {
			return r, err
		}
	}

	var profiles []string
	lower := ""
	batches := p.Batches()
	r.sideBySide = p.SideBySide(batches)
	for i, batch := range batches {
		dir := filepath.Join(work, "batch-"+strconv.Itoa(i))
		s := step.InstallAPK{Keyring: keys, Lower: lower, Links: filepath.Join(dir, "links")}
		for j, li := range batch {
			l := step.InstallLayer{Out: filepath.Join(dir, "out", strconv.Itoa(j)), Meta: filepath.Join(dir, "meta", strconv.Itoa(j))}
			for _, pi := range p.Layers[li].Packages {
				pk := p.Packages[pi]
				l.Packages = append(l.Packages, step.APKFile{Path: filepath.Join(ctxDir, pk.ContextPath(p.Arch)), Checksum: pk.Checksum})
			}
			for _, d := range []string{l.Out, l.Meta} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					return r, err
				}
			}
			s.Layers = append(s.Layers, l)
			r.layers, r.metas = append(r.layers, l.Out), append(r.metas, l.Meta)
		}
		if err := os.MkdirAll(s.Links, 0o755); err != nil {
			return r, err
		}
		prof := filepath.Join(work, fmt.Sprintf("install-%d.pprof", i))
		args := s.Args()
		cmd := exec.Command(bin, args[1:]...)
		cmd.Env = append(os.Environ(), "KILN_STEP_CPUPROFILE="+prof)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return r, fmt.Errorf("install step %d: %v\n%s", i, err, out)
		}
		r.install += time.Since(start)
		r.installCPU += processCPU(cmd.ProcessState)
		profiles = append(profiles, prof)
		r.batches = append(r.batches, step.InstallBatch{Links: s.Links, Layers: len(batch)})
		// As the conversion runs them: side by side, every batch after
		// the first goes through the first's links record.
		if i == 0 || !r.sideBySide {
			lower = s.Links
		}
	}
	merge := exec.Command("go", append([]string{"tool", "pprof", "-proto"}, profiles...)...)
	out, err := merge.Output()
	if err != nil {
		return r, fmt.Errorf("merging step profiles: %w", err)
	}
	return r, os.WriteFile(file, out, 0o644)
}

// topOf prints the heaviest functions of a profile, by cumulative time.
func topOf(file string, n int) string {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount="+strconv.Itoa(n), file).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(go tool pprof: %v)", err)
	}
	return string(out)
}

// profileCold writes both profiles of a cold build into dir, prints their
// heaviest functions and accounts for the CPU of kiln's cold build.
func (b *apkoBench) profileCold(dir string, coldSeconds float64, cpu cpuRuns) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	addr := os.Getenv("KILN_BUILDKITD_DEBUGADDR")
	if addr == "" {
		addr = "127.0.0.1:6061"
	}
	daemon := filepath.Join(dir, b.image+"-buildkitd.pprof")
	secs := int(math.Ceil(coldSeconds)) + 1
	if err := daemonProfile(addr, daemon, secs, func() error { _, _, err := b.kiln("--no-cache"); return err }); err != nil {
		return err
	}
	steps := filepath.Join(dir, b.image+"-kiln-step.pprof")
	metaSteps := filepath.Join(dir, b.image+"-kiln-step-meta.pprof")
	replay, err := stepProfile(b.ctx, steps, metaSteps)
	if err != nil {
		return err
	}
	fmt.Printf("\nprofiles of a cold build (go tool pprof -top FILE):\n  %s (%d s window)\n  %s (install steps replayed on the host: %.2f s)\n  %s (the metadata step replayed on the host: %.2f s)\n",
		daemon, secs, steps, replay.install.Seconds(), metaSteps, replay.meta.Seconds())
	gzip, err := compressionCPU(daemon)
	if err != nil {
		return err
	}
	printCPUAccount(cpuAccount(cpu, gzip, replay))
	fmt.Printf("\nbuildkitd, heaviest by cumulative time:\n%s", indent(topOf(daemon, 25)))
	fmt.Printf("\nkiln-step install-apk, heaviest by cumulative time:\n%s", indent(topOf(steps, 25)))
	fmt.Printf("\nkiln-step image-meta, heaviest by cumulative time:\n%s", indent(topOf(metaSteps, 25)))
	return nil
}

func indent(s string) string {
	var sb strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		sb.WriteString("  " + l + "\n")
	}
	return sb.String()
}

func medianWall(ss []sample) float64 { return summarize(walls(ss)).med }

// walls are samples' wall-clock seconds.
func walls(ss []sample) []float64 {
	var w []float64
	for _, s := range ss {
		w = append(w, s.wall)
	}
	return w
}

// medianCPU is the median CPU-seconds of samples.
func medianCPU(ss []sample) float64 {
	var c []float64
	for _, s := range ss {
		c = append(c, s.cpu)
	}
	return summarize(c).med
}
