package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3") for
// releases; otherwise it comes from the build's own record (the module
// version for `go install ...@v1.2.3`, else the commit it was built from).
var version = ""

// kilnVersion is this binary's version.
func kilnVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return "devel"
	}
	return "devel-" + rev + dirty
}

// runVersion prints the version, the Go release and the platform; with
// --short, the version alone (the frontend image's version label).
func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiln version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	short := fs.Bool("short", false, "print the version only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Errorf("version takes no arguments")}
	}
	if *short {
		fmt.Fprintln(stdout, kilnVersion())
		return nil
	}
	fmt.Fprintf(stdout, "kiln %s (%s %s/%s)\n", kilnVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
