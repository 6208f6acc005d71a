package plan

import (
	"context"
	"errors"
)

// Source reads what planning needs. The frontend reads through BuildKit
// (one local transfer for context files, one HTTP source per URL); the
// host commands read a directory and the network.
type Source interface {
	// ReadContext reads files from the build context by their
	// ContextPath, each at most max bytes.
	ReadContext(ctx context.Context, paths []string, max int64) (map[string][]byte, error)
	// Fetch downloads url, at most max bytes; name says what it is, for
	// progress output.
	Fetch(ctx context.Context, url, name string, max int64) ([]byte, error)
	// Head reads the first n bytes (fewer if the file is shorter) of a
	// file at a URL or a context path: a locked package's signature and
	// control sections. The frontend fetches a URL as the install step
	// does, so the package is downloaded once.
	Head(ctx context.Context, loc, name string, n int64) ([]byte, error)
}

// HeadsReader is a Source that reads the heads of many build-context files
// at once: through BuildKit, one transfer from the client where reading
// them one by one took one each.
type HeadsReader interface {
	// ReadContextHeads reads the first heads[p] bytes (fewer if the file
	// is shorter) of each context path p.
	ReadContextHeads(ctx context.Context, heads map[string]int64) (map[string][]byte, error)
}

// Refetcher is a Source that caches what it fetches (BuildKit keeps
// downloads and revalidates them with their ETag), so a copy that came
// damaged, from a server that sent half a file under the real file's
// ETag, would be served again and again. Planning asks for a fresh copy
// of a fetched key or index that does not verify, once, before it fails.
type Refetcher interface {
	Refetch(ctx context.Context, url, name string, max int64) ([]byte, error)
}

// fetchVerified fetches url and checks it with verify; from a Refetcher,
// a copy that does not verify is fetched again, bypassing its cache, and
// the fresh copy decides. The error is verify's.
func fetchVerified(ctx context.Context, src Source, url, name string, max int64, verify func([]byte) error) error {
	dt, err := src.Fetch(ctx, url, name, max)
	if err != nil {
		return err
	}
	verr := verify(dt)
	rf, ok := src.(Refetcher)
	if verr == nil || !ok {
		return verr
	}
	if dt, err = rf.Refetch(ctx, url, name, max); err != nil {
		return err
	}
	return verify(dt)
}

// Limits on what planning reads into memory.
const (
	MaxConfigBytes = 4 << 20
	MaxIndexBytes  = 256 << 20
	MaxKeyBytes    = 64 << 10
)

// PathError is a Source's failure to read one context file; planning
// turns it into an error at the config entry that named the file.
type PathError struct {
	Path string
	Err  error
}

func (e *PathError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *PathError) Unwrap() error { return e.Err }

// failedPath returns the context path a Source error is about, if any.
func failedPath(err error) (string, bool) {
	var pe *PathError
	if errors.As(err, &pe) {
		return pe.Path, true
	}
	return "", false
}
