package plan

import (
	"bytes"
	"context"
	"errors"
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
	// Lock, when set, is followed instead of reading the indexes: the
	// locked packages are the only candidates, and must be exactly what
	// the config installs.
	Lock *Lock
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
	archs := make([]string, len(targets))
	for i, t := range targets {
		archs[i] = t.Arch
	}
	var (
		keys    map[string][]byte
		kr      *sign.Keyring
		indexes map[string][]*index.Index
		where   map[*index.Package]string // locked packages' locations
		err     error
	)
	if l := opts.Lock; l != nil {
		if err := l.checkConfig(req); err != nil {
			return nil, err
		}
		if keys, kr, err = l.lockedKeys(req); err != nil {
			return nil, err
		}
		if indexes, where, err = l.lockedIndexes(ctx, req, archs, kr, src); err != nil {
			return nil, err
		}
	} else {
		pre := readAhead(ctx, src, contextFilesOf(req, archs))
		if keys, kr, err = loadKeys(ctx, req, src, pre); err != nil {
			return nil, err
		}
		if indexes, err = loadIndexes(ctx, req, archs, kr, src, pre); err != nil {
			return nil, err
		}
	}
	world := make([]string, len(req.Packages))
	for i, p := range req.Packages {
		world[i] = p.Value
	}
	var bases map[string]*BaseImage
	if req.Base != nil {
		if bases, err = loadBaseImages(ctx, req, targets, src); err != nil {
			return nil, err
		}
	}
	byArch := map[string][]resolve.Repository{}
	for _, a := range archs {
		for i, r := range req.Repositories {
			byArch[a] = append(byArch[a], resolve.Repository{Name: r.Repo.Base, Tag: r.Repo.Tag, Arch: a, Packages: indexes[a][i].Packages})
		}
		// The base's packages are installed: pinned, and not installed again.
		if b := bases[a]; b != nil {
			byArch[a] = append(byArch[a], resolve.Repository{Name: req.Base.Entry.APKIndex.Value, Arch: a, Packages: b.Packages, Installed: true})
		}
	}
	solutions, err := resolve.ResolveArchs(byArch, world)
	if err != nil {
		if opts.Lock != nil {
			err = fmt.Errorf("%w (resolving against the packages %s locks)", err, opts.Lock.Name)
		}
		return nil, packagesError(req, err)
	}
	p := &Plan{Request: req, Keys: keys}
	for _, t := range targets {
		if opts.Lock != nil {
			if err := opts.Lock.checkSolution(req, t.Arch, solutions[t.Arch]); err != nil {
				return nil, err
			}
		}
		pl, err := newPlatform(req, t, solutions[t.Arch], bases[t.Arch], opts)
		if err != nil {
			return nil, err
		}
		for i := range pl.Packages {
			pl.Packages[i].Location = where[pl.Packages[i].Package]
		}
		p.Platforms = append(p.Platforms, pl)
	}
	return p, nil
}

// loadKeys reads the keyring entries (URLs fetched, paths from the build
// context) and returns the keys by file name and the keyring of them.
func loadKeys(ctx context.Context, req *Request, src Source, pre contextFiles) (map[string][]byte, *sign.Keyring, error) {
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
	files, err := pre.read(ctx, src, local, MaxKeyBytes)
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
func loadIndexes(ctx context.Context, req *Request, archs []string, kr *sign.Keyring, src Source, pre contextFiles) (map[string][]*index.Index, error) {
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
				local = append(local, r.contextIndex(a))
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
	files, err := pre.read(ctx, src, local, MaxIndexBytes)
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
			if err := read(i, a, files[r.contextIndex(a)]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// packagesError places a resolver failure at the packages entry it is
// about, or at the contents section when it is about no one entry.
func packagesError(req *Request, err error) error {
	var we *resolve.WorldError
	if errors.As(err, &we) {
		for _, p := range req.Packages {
			if p.Value == we.Entry && p.Pos.IsValid() {
				return p.Pos.Errorf("contents.packages: %v", err)
			}
		}
	}
	if req.Config != nil && req.Config.Contents.Pos.IsValid() {
		return req.Config.Contents.Pos.Errorf("contents.packages: %v", err)
	}
	return fmt.Errorf("%s: contents.packages: %w", req.File, err)
}
