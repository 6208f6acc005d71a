// Command benchvs times kiln against the reference tool on the same
// inputs, interleaved (kiln, then the other, run by run), and prints a
// table of medians with min and max, CPU seconds (kiln's include
// buildkitd's, read from /proc), their ratios, and where kiln's cold build
// spends its time per vertex. It asserts nothing.
//
//	benchvs apko    --apko PATH [--runs N] [--image small|large|both]
//	benchvs melange --melange PATH [--runs N]
//	benchvs context --image small|large [--bump VERSION] DIR   (writes that image's context, to probe by hand;
//	                 --bump rewrites it with the bumped package at VERSION)
//	benchvs ab [--image small|large] [--case cold|warm|bump] [--rounds N] FRONTEND_A FRONTEND_B
//	                 (two kiln frontend images against each other, interleaved)
//
// It needs the stack (integration/stack/up.sh) and its env file sourced;
// the reference tools are built by ../shared/peers (not by this program).
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchvs apko|melange|context|ab [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "apko":
		err = runApko(os.Args[2:])
	case "melange":
		err = runMelange(os.Args[2:])
	case "context":
		err = writeContext(os.Args[2:])
	case "ab":
		err = runAB(os.Args[2:])
	default:
		err = fmt.Errorf("unknown benchmark %q (apko, melange, context, ab)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchvs:", err)
		os.Exit(1)
	}
}
