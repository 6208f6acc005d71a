package frontend

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/moby/buildkit/client/llb"
	"golang.org/x/sync/errgroup"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/repo"
	"github.com/kiln-build/kiln/apk/sign"
)

// Limits on what kiln reads into the frontend's memory.
const (
	maxIndexBytes = 256 << 20
	maxKeyBytes   = 64 << 10
)

// isRemote reports whether a repository or key lives on the network;
// anything else is a path in the build context.
func isRemote(loc string) bool {
	return strings.HasPrefix(loc, "https://") || strings.HasPrefix(loc, "http://")
}

// contextPath maps a local repository or key location to its path in the
// build context. Absolute paths are taken relative to the context root:
// BuildKit can read nothing else of the client's disk.
func contextPath(loc string) (string, error) {
	if strings.HasPrefix(loc, "file://") {
		u, err := url.Parse(loc)
		if err != nil {
			return "", err
		}
		loc = u.Path
	}
	p := path.Clean("/" + loc)
	if p == "/" {
		return "", fmt.Errorf("%q is the whole build context, not a repository or key", loc)
	}
	return strings.TrimPrefix(p, "/"), nil
}

// contextFiles reads files from the build context with one local transfer.
func (b *builder) contextFiles(ctx context.Context, paths []string, max int64) (map[string][]byte, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	st, err := b.bc.MainContext(ctx, llb.FollowPaths(paths))
	if err != nil {
		return nil, err
	}
	ref, err := solveState(ctx, b.c, *st, b.cacheOpts()...)
	if err != nil {
		return nil, fmt.Errorf("read build context: %w", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		dt, err := readAll(ctx, ref, p, max)
		if err != nil {
			return nil, fmt.Errorf("read %s from the build context: %w", p, err)
		}
		out[p] = dt
	}
	return out, nil
}

// httpFile fetches one URL through LLB and returns its bytes.
func (b *builder) httpFile(ctx context.Context, u, name string, max int64) ([]byte, error) {
	st := llb.HTTP(u, llb.Filename("f"), llb.WithCustomName(name))
	ref, err := solveState(ctx, b.c, st, b.cacheOpts()...)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	return readAll(ctx, ref, "f", max)
}

// loadKeys reads the keyring entries (URLs through LLB, paths from the
// build context) and returns the keyring and the key files by name.
func (b *builder) loadKeys(ctx context.Context, entries []located) (*sign.Keyring, map[string][]byte, error) {
	keys := map[string][]byte{}
	var mu sync.Mutex
	var local []string
	localEntry := map[string]located{}
	eg, ectx := errgroup.WithContext(ctx)
	for _, e := range entries {
		if !isRemote(e.Value) {
			p, err := contextPath(e.Value)
			if err != nil {
				return nil, nil, fmt.Errorf("%skeyring: %w", e.where(), err)
			}
			local = append(local, p)
			localEntry[p] = e
			continue
		}
		eg.Go(func() error {
			dt, err := b.httpFile(ectx, e.Value, "fetch key "+e.Value, maxKeyBytes)
			if err != nil {
				return fmt.Errorf("%skeyring: %w", e.where(), err)
			}
			mu.Lock()
			defer mu.Unlock()
			keys[path.Base(e.Value)] = dt
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, nil, err
	}
	files, err := b.contextFiles(ctx, local, maxKeyBytes)
	if err != nil {
		return nil, nil, err
	}
	for p, dt := range files {
		keys[path.Base(p)] = dt
	}
	kr := sign.NewKeyring()
	for _, n := range slices.Sorted(maps.Keys(keys)) {
		if err := kr.Add(n, keys[n]); err != nil {
			e := localEntry[n]
			return nil, nil, fmt.Errorf("%skeyring: %w", e.where(), err)
		}
	}
	return kr, keys, nil
}

// repoSource is one repository as the frontend reaches it.
type repoSource struct {
	entry located
	repo  repo.Repository
	// contextDir is the repository's directory in the build context, ""
	// for a remote repository.
	contextDir string
}

func parseRepos(entries []located) ([]repoSource, error) {
	var out []repoSource
	for _, e := range entries {
		r, err := repo.ParseLine(e.Value)
		if err != nil {
			return nil, fmt.Errorf("%s%w", e.where(), err)
		}
		rs := repoSource{entry: e, repo: r}
		if !isRemote(r.Base) {
			if rs.contextDir, err = contextPath(r.Base); err != nil {
				return nil, fmt.Errorf("%srepository: %w", e.where(), err)
			}
		}
		out = append(out, rs)
	}
	return out, nil
}

// loadIndexes fetches and verifies every repository's index for every
// arch. There is no fallback to untrusted: an index that does not verify
// against the config's keyring fails the build.
func (b *builder) loadIndexes(ctx context.Context, repos []repoSource, archs []string, kr *sign.Keyring) (map[string]map[int]*index.Index, error) {
	out := map[string]map[int]*index.Index{}
	for _, a := range archs {
		out[a] = map[int]*index.Index{}
	}
	var mu sync.Mutex
	store := func(a string, i int, idx *index.Index) {
		mu.Lock()
		defer mu.Unlock()
		out[a][i] = idx
	}
	read := func(r repoSource, a string, data []byte) (*index.Index, error) {
		loc := r.repo.IndexLocation(a)
		idx, err := index.Read(strings.NewReader(string(data)), index.ReadOptions{Keyring: kr, Name: loc})
		if err != nil {
			return nil, fmt.Errorf("%srepository %s: %w", r.entry.where(), r.repo, err)
		}
		return idx, nil
	}

	var local []string
	eg, ectx := errgroup.WithContext(ctx)
	for i, r := range repos {
		for _, a := range archs {
			if r.contextDir != "" {
				local = append(local, path.Join(r.contextDir, a, "APKINDEX.tar.gz"))
				continue
			}
			eg.Go(func() error {
				loc := r.repo.IndexLocation(a)
				dt, err := b.httpFile(ectx, loc, fmt.Sprintf("[%s] fetch index %s", a, loc), maxIndexBytes)
				if err != nil {
					return fmt.Errorf("%srepository %s: %w", r.entry.where(), r.repo, err)
				}
				idx, err := read(r, a, dt)
				if err != nil {
					return err
				}
				store(a, i, idx)
				return nil
			})
		}
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	files, err := b.contextFiles(ctx, local, maxIndexBytes)
	if err != nil {
		return nil, err
	}
	for i, r := range repos {
		if r.contextDir == "" {
			continue
		}
		for _, a := range archs {
			idx, err := read(r, a, files[path.Join(r.contextDir, a, "APKINDEX.tar.gz")])
			if err != nil {
				return nil, err
			}
			store(a, i, idx)
		}
	}
	return out, nil
}

// packageSource is the LLB state that holds one package's .apk, at
// "/<file>": an HTTP fetch for remote repositories, a copy out of the
// build context for local ones (content-addressed, so an unchanged
// package keeps its cache when its neighbours change).
func packageSource(r repoSource, a string, p *index.Package, localCtx llb.State) (llb.State, string) {
	file := p.Filename()
	if r.contextDir == "" {
		return llb.HTTP(r.repo.PackageLocation(a, p), llb.Filename(file), llb.WithCustomNamef("fetch %s", file)), "/" + file
	}
	st := llb.Scratch().File(llb.Copy(localCtx, path.Join("/", r.contextDir, a, file), "/"+file),
		llb.WithCustomNamef("fetch %s", file))
	return st, "/" + file
}
