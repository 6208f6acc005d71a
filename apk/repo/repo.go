// Package repo locates and reads apk repositories: a directory or an
// http(s) URL holding <arch>/APKINDEX.tar.gz and <arch>/<name>-<version>.apk,
// optionally pinned with an "@tag" as in /etc/apk/repositories.
package repo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/kiln-build/kiln/apk/index"
)

// Repository is one line of /etc/apk/repositories.
type Repository struct {
	Tag  string // pin tag without '@'; "" for an untagged repository
	Base string // directory path or http(s)/file URL
}

// ParseLine parses "[@tag] base". Blank lines and comments are the
// caller's business; here they are errors.
func ParseLine(line string) (Repository, error) {
	fields := strings.Fields(line)
	var r Repository
	switch {
	case len(fields) == 1 && !strings.HasPrefix(fields[0], "@"):
		r.Base = fields[0]
	case len(fields) == 2 && strings.HasPrefix(fields[0], "@") && len(fields[0]) > 1:
		r.Tag, r.Base = fields[0][1:], fields[1]
	default:
		return Repository{}, fmt.Errorf("repository %q: want \"[@tag] URL-or-directory\"", line)
	}
	if u, err := url.Parse(r.Base); err == nil && u.Scheme != "" {
		switch u.Scheme {
		case "http", "https", "file":
		default:
			return Repository{}, fmt.Errorf("repository %q: unsupported scheme %q", line, u.Scheme)
		}
	}
	r.Base = strings.TrimRight(r.Base, "/")
	if r.Base == "" {
		return Repository{}, fmt.Errorf("repository %q: empty location", line)
	}
	return r, nil
}

// String renders the repository as a repositories-file line.
func (r Repository) String() string {
	if r.Tag != "" {
		return "@" + r.Tag + " " + r.Base
	}
	return r.Base
}

// IndexLocation is where the repository keeps its index for arch.
func (r Repository) IndexLocation(arch string) string {
	return r.Base + "/" + arch + "/APKINDEX.tar.gz"
}

// PackageLocation is where the repository keeps p's .apk for arch.
func (r Repository) PackageLocation(arch string, p *index.Package) string {
	return r.Base + "/" + arch + "/" + p.Filename()
}

// Fetcher opens repository files from disk or over http(s).
type Fetcher struct {
	Client *http.Client // nil: http.DefaultClient
}

// Open opens a repository location: a path, a file:// URL or an http(s) URL.
func (f *Fetcher) Open(ctx context.Context, location string) (io.ReadCloser, error) {
	if strings.HasPrefix(location, "http://") || strings.HasPrefix(location, "https://") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, location, nil)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", location, err)
		}
		c := f.Client
		if c == nil {
			c = http.DefaultClient
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", location, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("fetch %s: %s", location, resp.Status)
		}
		return resp.Body, nil
	}
	path := location
	if strings.HasPrefix(location, "file://") {
		u, err := url.Parse(location)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", location, err)
		}
		path = filepath.FromSlash(u.Path)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError says "open PATH: ..." already
	}
	return fh, nil
}

// LoadIndex reads and verifies r's index for arch. opts.Name defaults to
// the index location so errors say which repository failed.
func (f *Fetcher) LoadIndex(ctx context.Context, r Repository, arch string, opts index.ReadOptions) (*index.Index, error) {
	loc := r.IndexLocation(arch)
	if opts.Name == "" {
		opts.Name = loc
	}
	rc, err := f.Open(ctx, loc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	idx, err := index.Read(rc, opts)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", r, err)
	}
	return idx, nil
}
