package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/kiln-build/kiln/plan"
)

// runShowPackages prints what an apko.yaml would install, like
// `apko show-packages`: for each arch, name-version in install order.
func runShowPackages(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiln show-packages", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var archs stringList
	fs.Var(&archs, "arch", "apk architecture (repeatable); default the config's archs, else the host's")
	var h hostFlags
	h.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kiln show-packages [--context DIR] [--arch ARCH...] apko.yaml")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{fmt.Errorf("want one apko.yaml")}
	}
	pl, _, err := planOnHost(ctx, h, fs.Arg(0), archs, plan.Options{})
	if err != nil {
		return err
	}
	for _, p := range pl.Platforms {
		if len(pl.Platforms) > 1 {
			fmt.Fprintf(stdout, "# %s\n", p.Arch)
		}
		for _, pk := range p.Packages {
			fmt.Fprintf(stdout, "%s %s\n", pk.Name, pk.Version)
		}
	}
	return nil
}
