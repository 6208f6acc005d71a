// Command kiln-step runs kiln's build steps (package step defines them):
// the small binary in kiln's image that the steps execute, linking nothing
// of BuildKit so each step's process starts quickly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/kiln-build/kiln/stepcmd"
)

// profileEnv names a file for a CPU profile of the step: the benchmark
// (hack/bench-vs-apko) replays a build's steps on the host with it set.
const profileEnv = "KILN_STEP_CPUPROFILE"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kiln-step COMMAND [flags]: the steps of kiln's builds")
		for _, c := range stepcmd.Commands {
			fmt.Fprintf(os.Stderr, "  %-16s %s\n", c.Name, c.Summary)
		}
		os.Exit(2)
	}
	c, ok := stepcmd.Lookup(os.Args[1])
	if !ok {
		fmt.Fprintf(os.Stderr, "kiln-step: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	stop, err := startProfile(os.Getenv(profileEnv))
	if err == nil {
		err = stepcmd.Run(context.Background(), c, os.Args[2:], os.Stderr)
		if perr := stop(); err == nil {
			err = perr
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case stepcmd.IsUsage(err):
		fmt.Fprintf(os.Stderr, "kiln-step %s: %v\n", c.Name, err)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "kiln %s: %v\n", c.Name, err)
		os.Exit(1)
	}
}

// startProfile starts a CPU profile into file, if one is named.
func startProfile(file string) (stop func() error, err error) {
	if file == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", profileEnv, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", profileEnv, err)
	}
	return func() error { pprof.StopCPUProfile(); return f.Close() }, nil
}
