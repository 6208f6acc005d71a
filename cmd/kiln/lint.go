package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kiln-build/kiln/config/yamlnode"
	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/plan/lint"
)

// errFindings fails `kiln lint` after it printed what it found.
var errFindings = errors.New("lint found errors")

// runLint prints the findings `docker buildx build --call check` reports,
// one "file:line:col: level: Rule: message" line each, for every file
// given; a config that does not load is an error at its line. The exit
// status is 1 when anything is at error level.
func runLint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiln lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var h hostFlags
	h.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kiln lint [--context DIR] apko.yaml...")
		fmt.Fprintln(stderr, "\nrules:")
		for _, r := range lint.Rules {
			fmt.Fprintf(stderr, "  %-20s %-7s %s\n", r.Name, r.Level, r.Description)
		}
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{fmt.Errorf("want one or more apko.yaml files")}
	}
	failed := false
	for _, file := range fs.Args() {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		req, err := plan.Load(ctx, file, data, h.source())
		if err != nil {
			var ye *yamlnode.Error
			if errors.As(err, &ye) && ye.Line > 0 {
				fmt.Fprintf(stdout, "%s: error: %s\n", ye.Pos(), ye.Msg)
			} else {
				fmt.Fprintf(stdout, "%s: error: %v\n", file, err)
			}
			failed = true
			continue
		}
		lock, err := h.lock(file)
		if err != nil {
			return err
		}
		findings := lint.Check(req.Config, lint.Options{Locked: lock != nil})
		for _, f := range findings {
			fmt.Fprintln(stdout, f)
		}
		failed = failed || lint.HasErrors(findings)
	}
	if failed {
		return errFindings
	}
	return nil
}
