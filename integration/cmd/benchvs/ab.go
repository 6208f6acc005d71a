package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kiln-build/kiln/apk/sign"
)

// runAB times two kiln frontend images against each other on one image
// and case, interleaved round by round in both orders (the build that
// goes second is often faster whichever it is), and prints each one's
// medians, in how many pairs the second image was faster, the median
// difference per order, the median timeline, and how much of the context
// BuildKit transferred.
//
// Each image builds its own copy of the context, in a directory of its
// own name. BuildKit keeps a copy of a context per transfer a build makes,
// per directory name and client, and mirrors each to the files its
// transfer asks for: two frontends that read the context in different
// transfers, alternating on one directory, narrow each other's copies and
// send the packages again and again. That once made a frontend that read
// it in fewer transfers look slower.
func runAB(args []string) error {
	fs := flag.NewFlagSet("benchvs ab", flag.ContinueOnError)
	image := fs.String("image", "small", "which image: small, large")
	kind := fs.String("case", "warm", "which case: cold, warm, bump")
	rounds := fs.Int("rounds", 8, "rounds (each builds both images once)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("usage: benchvs ab [--image small|large] [--case cold|warm|bump] [--rounds N] FRONTEND_A FRONTEND_B")
	}
	switch *kind {
	case "cold", "warm", "bump":
	default:
		return fmt.Errorf("unknown case %q (cold, warm, bump)", *kind)
	}
	goroot, err := hostGOROOT()
	if err != nil {
		return err
	}
	var sides [2]*abSide
	for i, frontend := range fs.Args() {
		// A signer each: the two repositories differ in their signatures
		// only, so two runs of one revision (an A/A run, for the noise)
		// cannot find each other's installs in the cache.
		signer, err := sign.GenerateSigner(benchKeyName, 2048)
		if err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", fmt.Sprintf("kiln-ab-%c-", 'a'+i))
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		b := &apkoBench{image: *image, goroot: goroot, signer: signer, ctx: dir}
		pkgs, err := b.writeRepo(nil)
		if err != nil {
			return err
		}
		if err := b.writeConfig(pkgs); err != nil {
			return err
		}
		sides[i] = &abSide{frontend: frontend, bench: b}
	}
	fmt.Printf("A: %s\nB: %s\n%s image, %s builds, %d rounds, interleaved (odd rounds A first), each on its own copy of the context\n",
		sides[0].frontend, sides[1].frontend, *image, *kind, *rounds)
	// Two builds each first. The first fills BuildKit's copies of the
	// context; the second may find them in another order than the first
	// made them (BuildKit takes the first free one by its ID) and send the
	// packages again, once (seen in one of two runs); from the third on
	// each transfer finds its own.
	for range 2 {
		for _, s := range sides {
			if _, _, err := s.build(nil); err != nil {
				return err
			}
		}
	}
	for r := 1; r <= *rounds; r++ {
		order := []*abSide{sides[0], sides[1]}
		if r%2 == 0 {
			order = []*abSide{sides[1], sides[0]}
		}
		for _, s := range order {
			var extra []string
			switch *kind {
			case "cold":
				extra = []string{"--no-cache"}
			case "bump":
				if _, err := s.bench.writeRepo(map[string]string{s.bench.bumpPkg: fmt.Sprintf("1.%d-r0", r)}); err != nil {
					return err
				}
			}
			k, out, err := s.build(extra)
			if err != nil {
				return err
			}
			t, err := timeline(out, k.wall)
			if err != nil {
				return err
			}
			s.samples, s.timelines = append(s.samples, k), append(s.timelines, t)
			s.sent = append(s.sent, float64(contextBytes(out)))
		}
	}
	printAB(sides)
	return nil
}

// abSide is one frontend image of an A/B run and what its builds took.
type abSide struct {
	frontend  string
	bench     *apkoBench
	samples   []sample
	timelines []buildTimeline
	sent      []float64 // bytes of build context each build transferred
}

func (s *abSide) build(extra []string) (sample, string, error) {
	return kilnBuildWith(s.frontend, s.bench.ctx, "apko.yaml", "type=oci,dest="+filepath.Join(s.bench.ctx, "kiln.tar"),
		append([]string{"--progress", "rawjson"}, extra...)...)
}

func printAB(sides [2]*abSide) {
	a, b := sides[0], sides[1]
	for i, s := range sides {
		sent := summarize(s.sent)
		fmt.Printf("%c: %s s, %.2f CPU-s; context sent per build %.0f bytes median, %.0f max\n",
			'A'+i, summarize(walls(s.samples)), medianCPU(s.samples), sent.med, sent.max)
	}
	var diffs, aFirst, bFirst []float64
	faster := 0
	for r := range a.samples {
		fmt.Printf("  round %d: A %.3f s (context %.0f bytes), B %.3f s (context %.0f bytes)\n",
			r+1, a.samples[r].wall, a.sent[r], b.samples[r].wall, b.sent[r])
		d := b.samples[r].wall - a.samples[r].wall
		diffs = append(diffs, d)
		if r%2 == 0 {
			aFirst = append(aFirst, d)
		} else {
			bFirst = append(bFirst, d)
		}
		if d < 0 {
			faster++
		}
	}
	fmt.Printf("B - A: median %+.3f s (A built first %+.3f, B first %+.3f); B faster in %d of %d pairs\n",
		summarize(diffs).med, summarize(aFirst).med, summarize(bFirst).med, faster, len(diffs))
	for i, s := range sides {
		t := medianTimeline(s.timelines)
		printTimeline(fmt.Sprintf("%c timeline, medians", 'A'+i), t)
		fmt.Printf("   install steps: shortest %.3f s; metadata step %.3f s\n", t.cheapestInstall, t.metadata)
	}
}

// contextBytes adds up the build context BuildKit's rawjson progress says
// it transferred ("transferring context: N" statuses, the last report of
// each).
func contextBytes(rawjson string) int64 {
	last := map[string]int64{}
	progressLines(rawjson, func(line []byte) {
		var st struct {
			Statuses []struct {
				ID      string `json:"id"`
				Vertex  string `json:"vertex"`
				Current int64  `json:"current"`
			} `json:"statuses"`
		}
		if json.Unmarshal(line, &st) != nil {
			return
		}
		for _, s := range st.Statuses {
			if strings.HasPrefix(s.ID, "transferring context:") {
				last[s.Vertex+" "+s.ID] = s.Current
			}
		}
	})
	var n int64
	for _, v := range last {
		n += v
	}
	return n
}
