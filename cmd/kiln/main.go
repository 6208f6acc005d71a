// Command kiln is a BuildKit frontend for apko and melange YAML, and a set
// of host-side tools over the same code (resolve, show-packages, sbom).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
)

// command is one kiln subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"resolve":       {"print the packages a world resolves to, in install order", runResolve},
	"frontend":      {"serve a build as a BuildKit frontend (the image's entrypoint)", runFrontend},
	"show-packages": {"print the packages an apko.yaml installs, per arch", runShowPackages},
	"sbom":          {"write the SPDX 2.3 SBOM a build of an apko.yaml attaches", runSBOM},
	// Steps run inside builds; listed so they are discoverable, but users
	// have no reason to call them.
	"install-apk": {"(build step) verify and extract .apk files into a layer", runInstallAPK},
	"image-meta":  {"(build step) write an image's apk database and generated files", runImageMeta},
	"image-sbom":  {"(build step) write an image's SPDX document", runImageSBOM},
	"step-report": {"(frontend) print why a build step failed", runStepReport},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "kiln: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if err := cmd.run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "kiln %s: %v\n", args[0], err)
			return 2
		}
		fmt.Fprintf(stderr, "kiln %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: kiln COMMAND [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nrun 'kiln COMMAND -h' for a command's flags")
}

// usageError marks a mistake in the command line (exit status 2).
type usageError struct{ error }

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
