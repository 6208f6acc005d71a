package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/apk/arch"
	"github.com/kiln-build/kiln/apk/repo"
	"github.com/kiln-build/kiln/plan"
)

// hostSource reads what planning needs on the host, the way the frontend
// reads it through BuildKit: the --context directory stands for the build
// context (as apko reads paths relative to its working directory), and
// URLs are fetched directly.
type hostSource struct {
	root    string
	fetcher *repo.Fetcher
}

func (s *hostSource) ReadContext(ctx context.Context, paths []string, max int64) (map[string][]byte, error) {
	root, err := os.OpenRoot(s.root)
	if err != nil {
		return nil, fmt.Errorf("context: %w", err)
	}
	defer root.Close()
	out := map[string][]byte{}
	for _, p := range paths {
		f, err := root.Open(p)
		if err != nil {
			return nil, &plan.PathError{Path: p, Err: notFound(err)}
		}
		data, err := readMax(f, max)
		f.Close()
		if err != nil {
			return nil, &plan.PathError{Path: p, Err: err}
		}
		out[p] = data
	}
	return out, nil
}

func (s *hostSource) Fetch(ctx context.Context, url, name string, max int64) ([]byte, error) {
	rc, err := s.fetcher.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return readMax(rc, max)
}

// open opens a planned package's .apk.
func (s *hostSource) open(ctx context.Context, pk plan.Package, apkArch string) (io.ReadCloser, string, error) {
	if u := pk.URL(apkArch); u != "" {
		rc, err := s.fetcher.Open(ctx, u)
		return rc, u, err
	}
	root, err := os.OpenRoot(s.root)
	if err != nil {
		return nil, "", fmt.Errorf("context: %w", err)
	}
	defer root.Close()
	p := pk.ContextPath(apkArch)
	f, err := root.Open(p)
	return f, p, err
}

// notFound words a missing context file the way the build says it.
func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errors.New("not found in the build context")
	}
	return err
}

func readMax(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("more than the %d-byte limit", max)
	}
	return data, nil
}

// hostFlags are the flags every host command that plans a config takes.
type hostFlags struct {
	context string
}

func (h *hostFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&h.context, "context", ".", "`DIR` standing for the build context: includes, local repositories and keys are read relative to it (apko reads them relative to its working directory)")
}

// planOnHost plans file as a build of it with the given context would:
// the same parsing, refusals and resolution. archs narrow the targets as
// --platform does; none means the config's archs, else the host's.
func planOnHost(ctx context.Context, h hostFlags, file string, archs []string, opts plan.Options) (*plan.Plan, *hostSource, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	src := &hostSource{root: h.context, fetcher: &repo.Fetcher{}}
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
	pl, err := plan.Resolve(ctx, req, targets, src, opts)
	return pl, src, err
}
