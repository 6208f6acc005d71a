package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/plan/lockfile"
)

// runLock writes apko's lockfile for a config, as `apko lock` does: the
// packages a build installs per arch, in install order, with where each
// .apk is and its sections' checksums, and the keys and repositories.
// A build of the config (frontend or host) then follows it.
func runLock(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiln lock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var archs stringList
	fs.Var(&archs, "arch", "apk architecture (repeatable); default the config's archs, else the host's")
	output := fs.String("o", "", "`FILE` to write; default the config's name with .lock.json (apko.yaml -> apko.lock.json)")
	var h hostFlags
	h.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kiln lock [--context DIR] [--arch ARCH...] [-o FILE] apko.yaml")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{fmt.Errorf("want one apko.yaml")}
	}
	file := fs.Arg(0)
	h.relock = true
	pl, src, err := planOnHost(ctx, h, file, archs, plan.Options{})
	if err != nil {
		return err
	}
	l, err := pl.Lock(ctx, file, src.Open)
	if err != nil {
		return err
	}
	data, err := l.Marshal()
	if err != nil {
		return err
	}
	out := *output
	if out == "" {
		out = lockfile.NameFor(file)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d packages for %d archs\n", out, len(l.Contents.Packages), len(pl.Platforms))
	return nil
}
