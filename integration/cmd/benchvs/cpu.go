package main

import (
	"bufio"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// cpuRuns are the rows a cold build's CPU account reads: the cold builds'
// CPU, the warm no-ops' (the gateway and client alone) and apko's cold
// builds', each a median.
type cpuRuns struct{ cold, warm row }

// cpuAccounting splits the median cold build's CPU-seconds into what any
// frontend that builds these layers through buildx pays (a warm no-op's
// CPU: client, buildkitd and the frontend with no step to run; BuildKit
// compressing the layers for the export, from its profile) and what kiln
// adds (its steps' own work, replayed on the host, and the rest: the
// steps' containers, snapshots, copies and BuildKit's bookkeeping).
type cpuAccounting struct {
	cold, apko float64
	floor      []phase // CPU-seconds, as phases are seconds
	kiln       []phase
}

func cpuAccount(r cpuRuns, compression float64, replay replayTimes) cpuAccounting {
	cold, warm, apko := medianCPU(r.cold.kiln), medianCPU(r.warm.kiln), medianCPU(r.cold.peer)
	a := cpuAccounting{cold: cold, apko: apko, floor: []phase{
		{"gateway and client (a warm no-op)", warm},
		{"BuildKit compressing the layers (gzip, its profile)", compression},
	}}
	steps := replay.installCPU + replay.metaCPU
	rest := cold - warm - compression - steps
	a.kiln = []phase{
		{"kiln's steps' own work (replayed on the host)", steps},
		{"the rest: containers, snapshots, copies, BuildKit's bookkeeping", rest},
	}
	return a
}

func printCPUAccount(a cpuAccounting) {
	floor := sumSecs(a.floor)
	fmt.Printf("\nCPU of kiln's cold build, %.2f CPU-s (%.2f× apko's %.2f; goal ≤ 2.5×):\n", a.cold, a.cold/a.apko, a.apko)
	fmt.Printf("  floor %.2f CPU-s (%.2f× apko), which no frontend building these layers through buildx avoids:\n", floor, floor/a.apko)
	for _, p := range a.floor {
		fmt.Printf("    %5.2f  %s\n", p.secs, p.name)
	}
	fmt.Printf("  kiln's share %.2f CPU-s (%.2f× apko):\n", sumSecs(a.kiln), sumSecs(a.kiln)/a.apko)
	for _, p := range a.kiln {
		fmt.Printf("    %5.2f  %s\n", p.secs, p.name)
	}
}

// compressionCPU is the CPU-seconds a buildkitd profile spent in gzip
// compression (writing and closing each layer's stream): none when the
// profile caught no sample of it (a few tiny layers).
func compressionCPU(profile string) (float64, error) {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=1000", "-unit=s", profile).Output()
	if err != nil {
		return 0, fmt.Errorf("go tool pprof %s: %w", profile, err)
	}
	return cumSeconds(string(out), "compress/gzip.(*Writer).Write", "compress/gzip.(*Writer).Close")
}

// cumSeconds adds up the cumulative seconds of the named functions in the
// text of `pprof -top -cum -unit=s` (0 for a function it does not list).
func cumSeconds(top string, funcs ...string) (float64, error) {
	var total float64
	sc := bufio.NewScanner(strings.NewReader(top))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// flat flat% sum% cum cum% name
		if len(f) != 6 || !strings.HasSuffix(f[3], "s") {
			continue
		}
		for _, fn := range funcs {
			if f[5] != fn {
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSuffix(f[3], "s"), 64)
			if err != nil {
				return 0, fmt.Errorf("pprof line %q: %w", sc.Text(), err)
			}
			total += v
		}
	}
	return total, nil
}
