package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/apk/arch"
	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/plan/lockfile"
)

// hostFlags are the flags every host command that plans a config takes.
type hostFlags struct {
	context  string
	contexts contextFlag
	lockfile string
	relock   bool // kiln lock: resolve from the indexes whatever lock exists
}

func (h *hostFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&h.context, "context", ".", "`DIR` standing for the build context: includes, local repositories and keys are read relative to it (apko reads them relative to its working directory)")
	fs.Var(&h.contexts, "build-context", "`NAME=DIR` (repeatable): paths starting with NAME/ are read from DIR, as with docker buildx build --build-context")
	fs.StringVar(&h.lockfile, "lockfile", "", "apko lockfile to follow, as a build does (KILN_LOCKFILE); default the one next to the config if there is one; none: resolve from the indexes")
}

// lock is the lockfile a build of file follows: --lockfile's, else the
// one next to the config; nil for none.
func (h *hostFlags) lock(file string) (*plan.Lock, error) {
	name := h.lockfile
	switch name {
	case "none":
		return nil, nil
	case "":
		name = lockfile.NameFor(file)
		if _, err := os.Stat(name); err != nil {
			return nil, nil
		}
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	l, err := lockfile.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &plan.Lock{Name: filepath.Base(name), Lock: l}, nil
}

// source is the plan.Source the flags describe.
func (h *hostFlags) source() *plan.HostSource {
	return &plan.HostSource{Root: h.context, Contexts: h.contexts}
}

// contextFlag is a repeatable NAME=DIR flag.
type contextFlag map[string]string

func (c *contextFlag) String() string { return fmt.Sprint(map[string]string(*c)) }

func (c *contextFlag) Set(v string) error {
	name, dir, ok := strings.Cut(v, "=")
	if !ok || name == "" || dir == "" || strings.Contains(name, "/") {
		return fmt.Errorf("want NAME=DIR, got %q", v)
	}
	if *c == nil {
		*c = contextFlag{}
	}
	(*c)[name] = dir
	return nil
}

// planOnHost plans file as a build of it with the given context would:
// the same parsing, refusals and resolution. archs narrow the targets as
// --platform does; none means the config's archs, else the host's.
func planOnHost(ctx context.Context, h hostFlags, file string, archs []string, opts plan.Options) (*plan.Plan, *plan.HostSource, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	src := h.source()
	req, err := plan.Load(ctx, file, data, src)
	if err != nil {
		return nil, nil, err
	}
	host, err := plan.TargetOf(arch.Host())
	if err != nil {
		return nil, nil, err
	}
	var requested []ocispecs.Platform
	for _, a := range archs {
		name, err := arch.Normalize(a)
		if err != nil {
			return nil, nil, usageError{err}
		}
		t, err := plan.TargetOf(name)
		if err != nil {
			return nil, nil, usageError{err}
		}
		requested = append(requested, t.Platform)
	}
	targets, err := plan.Targets(req, requested, host.Platform)
	if err != nil {
		return nil, nil, usageError{err}
	}
	if opts.Lock == nil && !h.relock {
		if opts.Lock, err = h.lock(file); err != nil {
			return nil, nil, err
		}
	}
	pl, err := plan.Resolve(ctx, req, targets, src, opts)
	return pl, src, err
}
