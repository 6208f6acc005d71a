package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/kiln-build/kiln/apk/repo"
)

// HostSource reads what planning needs on the host, the way the frontend
// reads it through BuildKit: Root stands for the build context (kiln's
// host commands take it from --context; apko reads paths relative to its
// working directory), and URLs are fetched directly.
type HostSource struct {
	Root string
	// Contexts are named build contexts (--build-context NAME=DIR): a
	// context path whose first element is NAME is read from DIR, as the
	// frontend reads it from the build context named NAME.
	Contexts map[string]string
	Fetcher  *repo.Fetcher // nil: a default one
}

// open opens a context path in the context that holds it.
func (s *HostSource) open(p string) (*os.File, error) {
	root, rel := s.Root, p
	if first, rest, _ := strings.Cut(p, "/"); s.Contexts[first] != "" {
		root, rel = s.Contexts[first], rest
		if rel == "" {
			rel = "."
		}
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("context: %w", err)
	}
	defer r.Close()
	return r.Open(rel)
}

func (s *HostSource) fetcher() *repo.Fetcher {
	if s.Fetcher == nil {
		return &repo.Fetcher{}
	}
	return s.Fetcher
}

func (s *HostSource) ReadContext(ctx context.Context, paths []string, max int64) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, p := range paths {
		f, err := s.open(p)
		if err != nil {
			return nil, &PathError{Path: p, Err: notFound(err)}
		}
		data, err := readMax(f, max)
		f.Close()
		if err != nil {
			return nil, &PathError{Path: p, Err: err}
		}
		out[p] = data
	}
	return out, nil
}

func (s *HostSource) Fetch(ctx context.Context, url, name string, max int64) ([]byte, error) {
	rc, err := s.fetcher().Open(ctx, url)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return readMax(rc, max)
}

func (s *HostSource) Head(ctx context.Context, loc, name string, n int64) ([]byte, error) {
	var rc io.ReadCloser
	if IsRemote(loc) {
		r, err := s.fetcher().Open(ctx, loc)
		if err != nil {
			return nil, err
		}
		rc = r
	} else {
		p, err := ContextPath(loc)
		if err != nil {
			return nil, err
		}
		f, err := s.open(p)
		if err != nil {
			return nil, &PathError{Path: p, Err: notFound(err)}
		}
		rc = f
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, n))
}

// Open opens a planned package's .apk.
func (s *HostSource) Open(ctx context.Context, pk Package, apkArch string) (io.ReadCloser, string, error) {
	if u := pk.URL(apkArch); u != "" {
		rc, err := s.fetcher().Open(ctx, u)
		return rc, u, err
	}
	p := pk.ContextPath(apkArch)
	f, err := s.open(p)
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
