package plan

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/resolve"
	"github.com/kiln-build/kiln/apk/sign"
)

// Plan is a request after its keys and indexes were read and its packages
// resolved for every target platform together.
type Plan struct {
	Request *Request
	// Keys are the keyring's public keys by file name, as the install
	// steps trust them and the image's /etc/apk/keys holds them.
	Keys      map[string][]byte
	Platforms []*Platform // in target order
}

// Options are the build's settings that planning needs.
type Options struct {
	SourceDateEpoch int64 // every mtime, the image's created time, the SBOM's
}

// Resolve reads the request's keys and every repository's index for each
// target through src, verifies every index against the keyring (there is
// no fallback to untrusted), resolves all targets together, so every node
// of a multi-node builder installs the same name-versions, and plans each
// platform.
func Resolve(ctx context.Context, req *Request, targets []Target, src Source, opts Options) (*Plan, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("%s: no platform to build", req.File)
	}
	keys, kr, err := loadKeys(ctx, req, src)
	if err != nil {
		return nil, err
	}
	archs := make([]string, len(targets))
	for i, t := range targets {
		archs[i] = t.Arch
	}
	indexes, err := loadIndexes(ctx, req, archs, kr, src)
	if err != nil {
		return nil, err
	}
	world := make([]string, len(req.Packages))
	for i, p := range req.Packages {
		world[i] = p.Value
	}
	byArch := map[string][]resolve.Repository{}
	for _, a := range archs {
		for i, r := range req.Repositories {
			byArch[a] = append(byArch[a], resolve.Repository{Name: r.Repo.Base, Tag: r.Repo.Tag, Arch: a, Packages: indexes[a][i].Packages})
		}
	}
	solutions, err := resolve.ResolveArchs(byArch, world)
	if err != nil {
		return nil, fmt.Errorf("%s: contents.packages: %w", req.File, err)
	}
	p := &Plan{Request: req, Keys: keys}
	for _, t := range targets {
		pl, err := newPlatform(req, t, solutions[t.Arch], opts)
		if err != nil {
			return nil, err
		}
		p.Platforms = append(p.Platforms, pl)
	}
	return p, nil
}

// loadKeys reads the keyring entries (URLs fetched, paths from the build
// context) and returns the keys by file name and the keyring of them.
func loadKeys(ctx context.Context, req *Request, src Source) (map[string][]byte, *sign.Keyring, error) {
	keys := map[string][]byte{}
	entryOf := map[string]int{}
	var mu sync.Mutex
	var local []string
	eg, ectx := errgroup.WithContext(ctx)
	for i, e := range req.Keyring {
		if !IsRemote(e.Value) {
			p, err := ContextPath(e.Value)
			if err != nil {
				return nil, nil, e.Pos.Errorf("keyring: %v", err)
			}
			local = append(local, p)
			entryOf[path.Base(p)] = i
			continue
		}
		entryOf[path.Base(e.Value)] = i
		eg.Go(func() error {
			err := fetchVerified(ectx, src, e.Value, "fetch key "+e.Value, MaxKeyBytes, func(dt []byte) error {
				if err := sign.NewKeyring().Add(path.Base(e.Value), dt); err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				keys[path.Base(e.Value)] = dt
				return nil
			})
			if err != nil {
				return e.Pos.Errorf("keyring: %v", err)
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, nil, err
	}
	files, err := src.ReadContext(ctx, local, MaxKeyBytes)
	if err != nil {
		if p, ok := failedPath(err); ok {
			if i, ok := entryOf[path.Base(p)]; ok {
				return nil, nil, req.Keyring[i].Pos.Errorf("keyring: %v", err)
			}
		}
		return nil, nil, err
	}
	for p, dt := range files {
		keys[path.Base(p)] = dt
	}
	kr := sign.NewKeyring()
	for _, n := range slices.Sorted(maps.Keys(keys)) {
		if err := kr.Add(n, keys[n]); err != nil {
			return nil, nil, req.Keyring[entryOf[n]].Pos.Errorf("keyring: %v", err)
		}
	}
	return keys, kr, nil
}

// loadIndexes reads and verifies every repository's index for every arch:
// out[arch][i] is the index of req.Repositories[i].
func loadIndexes(ctx context.Context, req *Request, archs []string, kr *sign.Keyring, src Source) (map[string][]*index.Index, error) {
	out := map[string][]*index.Index{}
	for _, a := range archs {
		out[a] = make([]*index.Index, len(req.Repositories))
	}
	var mu sync.Mutex
	read := func(i int, a string, data []byte) error {
		r := req.Repositories[i]
		idx, err := index.Read(bytes.NewReader(data), index.ReadOptions{Keyring: kr, Name: r.Repo.IndexLocation(a)})
		if err != nil {
			return r.Entry.Pos.Errorf("repository %s: %v", r.Repo, err)
		}
		mu.Lock()
		defer mu.Unlock()
		out[a][i] = idx
		return nil
	}

	var local []string
	eg, ectx := errgroup.WithContext(ctx)
	for i, r := range req.Repositories {
		for _, a := range archs {
			if r.ContextDir != "" {
				local = append(local, path.Join(r.ContextDir, a, "APKINDEX.tar.gz"))
				continue
			}
			eg.Go(func() error {
				loc := r.Repo.IndexLocation(a)
				var readErr error
				err := fetchVerified(ectx, src, loc, fmt.Sprintf("[%s] fetch index %s", a, loc), MaxIndexBytes, func(dt []byte) error {
					readErr = read(i, a, dt)
					return readErr
				})
				if err != nil && err != readErr {
					return r.Entry.Pos.Errorf("repository %s: %v", r.Repo, err)
				}
				return err
			})
		}
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	files, err := src.ReadContext(ctx, local, MaxIndexBytes)
	if err != nil {
		if p, ok := failedPath(err); ok {
			for _, r := range req.Repositories {
				if r.ContextDir != "" && strings.HasPrefix(p, r.ContextDir+"/") {
					return nil, r.Entry.Pos.Errorf("repository %s: %v", r.Repo, err)
				}
			}
		}
		return nil, err
	}
	for i, r := range req.Repositories {
		if r.ContextDir == "" {
			continue
		}
		for _, a := range archs {
			if err := read(i, a, files[path.Join(r.ContextDir, a, "APKINDEX.tar.gz")]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
