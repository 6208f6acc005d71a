package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// runShowPackages prints what an apko.yaml would install, like
// `apko show-packages`: for each arch, name-version in install order.
func runShowPackages(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiln show-packages", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var archs stringList
	fs.Var(&archs, "arch", "apk architecture (repeatable); default the config's archs, else the host's")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kiln show-packages [--arch ARCH...] apko.yaml")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{fmt.Errorf("want one apko.yaml")}
	}
	h, err := loadHostConfig(ctx, fs.Arg(0), archs)
	if err != nil {
		return err
	}
	for _, a := range h.archs {
		if len(h.archs) > 1 {
			fmt.Fprintf(stdout, "# %s\n", a)
		}
		for _, rp := range h.solutions[a].Packages {
			fmt.Fprintf(stdout, "%s %s\n", rp.Package.Name, rp.Package.Version)
		}
	}
	return nil
}
