package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kiln-build/kiln/apk/arch"
	"github.com/kiln-build/kiln/config/kind"
	melangecfg "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/config/yamlnode"
	"github.com/kiln-build/kiln/pipelines"
	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/plan/lint"
	"github.com/kiln-build/kiln/plan/melange"
)

// errFindings fails `kiln lint` after it printed what it found.
var errFindings = errors.New("lint found errors")

// melangeLintFlags are what a melange build takes as build args.
type melangeLintFlags struct {
	pipelineDir  string
	archs        listFlag
	buildOptions listFlag
	network      bool
}

// listFlag is a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// runLint prints the findings `docker buildx build --call check` reports,
// one "file:line:col: level: Rule: message" line each, for every file
// given, apko configs and melange builds alike; a config that does not
// load (or, for melange, compile for one of the archs) is an error at
// its line. The exit status is 1 when anything is at error level.
func runLint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiln lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var h hostFlags
	h.register(fs)
	var m melangeLintFlags
	fs.StringVar(&m.pipelineDir, "pipeline-dir", "", "melange: `DIR` of pipeline definitions searched before kiln's built-ins (melange's --pipeline-dir, the build's KILN_PIPELINE_DIR); default pipelines/ in --context when there is one")
	fs.Var(&m.archs, "arch", "melange: `ARCH`s to compile for (repeatable or comma-separated); default "+strings.Join(lint.DefaultArchs, ","))
	fs.Var(&m.buildOptions, "build-option", "melange: build `OPTION`s to enable (KILN_BUILD_OPTIONS)")
	fs.BoolVar(&m.network, "network", false, "melange: the build gives steps the network (KILN_NETWORK=1), so no step is reported for needing it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kiln lint [--context DIR] [--pipeline-dir DIR] apko.yaml|melange.yaml...")
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
		return usageError{fmt.Errorf("want one or more apko.yaml or melange.yaml files")}
	}
	var mopts *lint.MelangeOptions // made for the first melange file
	failed := false
	for _, file := range fs.Args() {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		var findings []lint.Finding
		switch kind.Of(data) {
		case kind.Melange:
			if mopts == nil {
				o, err := m.options(h.context)
				if err != nil {
					return err
				}
				mopts = o
			}
			findings, err = lintMelange(file, data, *mopts)
		default:
			findings, err = lintApko(ctx, h, file, data)
		}
		for _, f := range findings {
			fmt.Fprintln(stdout, f)
		}
		failed = failed || lint.HasErrors(findings)
		if err != nil {
			var ye *yamlnode.Error
			if errors.As(err, &ye) && ye.Line > 0 {
				fmt.Fprintf(stdout, "%s: error: %s\n", ye.Pos(), ye.Msg)
			} else {
				fmt.Fprintf(stdout, "%s: error: %v\n", file, err)
			}
			failed = true
		}
	}
	if failed {
		return errFindings
	}
	return nil
}

// lintApko loads an apko config as a build does and checks it.
func lintApko(ctx context.Context, h hostFlags, file string, data []byte) ([]lint.Finding, error) {
	req, err := plan.Load(ctx, file, data, h.source())
	if err != nil {
		return nil, err
	}
	lock, err := h.lock(file)
	if err != nil {
		return nil, err
	}
	return lint.Check(req.Config, lint.Options{Locked: lock != nil}), nil
}

// lintMelange parses a melange build and checks it for every arch.
func lintMelange(file string, data []byte, opts lint.MelangeOptions) ([]lint.Finding, error) {
	cfg, err := melangecfg.Parse(file, data)
	if err != nil {
		return nil, err
	}
	return lint.CheckMelange(cfg, opts)
}

// options are the melange checks' options: the pipeline directory (the
// flag's, else the context's pipelines/ when there is one) before the
// built-ins, and the archs in apk's names.
func (m melangeLintFlags) options(contextDir string) (*lint.MelangeOptions, error) {
	o := &lint.MelangeOptions{BuildOptions: m.buildOptions, Network: m.network}
	for _, a := range m.archs {
		name, err := arch.Normalize(a)
		if err != nil {
			return nil, usageError{err}
		}
		o.Archs = append(o.Archs, name)
	}
	dir := m.pipelineDir
	if dir == "" {
		def := filepath.Join(contextDir, "pipelines")
		if st, err := os.Stat(def); err == nil && st.IsDir() {
			dir = def
		}
	} else if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, usageError{fmt.Errorf("--pipeline-dir %s: not a directory", dir)}
	}
	if dir != "" {
		o.PipelineDirs = append(o.PipelineDirs, melange.PipelineDir{Name: filepath.ToSlash(filepath.Clean(dir)), FS: os.DirFS(dir)})
	}
	o.PipelineDirs = append(o.PipelineDirs, pipelines.Dir())
	return o, nil
}
