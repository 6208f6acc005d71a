package plan

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/resolve"
	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/plan/lockfile"
)

// Lock is a lockfile a build follows: exact versions, no index read,
// every .apk fetched from where the lock says and pinned by its
// checksums.
type Lock struct {
	Name string // for messages, e.g. "apko.lock.json"
	*lockfile.Lock
}

// checkConfig refuses a lock written for another version of the config
// (apko refuses it too); a lock that names no config is taken as is.
func (l *Lock) checkConfig(req *Request) error {
	if l.Config == nil || l.Config.Checksum == "" {
		return nil
	}
	if l.Config.Checksum != req.ConfigChecksum {
		return fmt.Errorf("%s was written for another version of %s (config checksum %s, now %s): run `kiln lock %s` (or `apko lock`) again",
			l.Name, req.File, l.Config.Checksum, req.ConfigChecksum, req.File)
	}
	return nil
}

// lockedKeys returns the keys the lock holds for the config's keyring
// entries, by file name, and the keyring of them. Nothing is fetched.
func (l *Lock) lockedKeys(req *Request) (map[string][]byte, *sign.Keyring, error) {
	byURL := map[string]lockfile.Key{}
	for _, k := range l.Contents.Keyring {
		byURL[k.URL] = k
	}
	keys := map[string][]byte{}
	entryOf := map[string]int{}
	for i, e := range req.Keyring {
		k, ok := byURL[e.Value]
		if !ok || k.Content == "" {
			return nil, nil, e.Pos.Errorf("keyring: %s holds no key for %s: lock the config again", l.Name, e.Value)
		}
		keys[path.Base(e.Value)] = []byte(k.Content)
		entryOf[path.Base(e.Value)] = i
	}
	kr := sign.NewKeyring()
	for _, n := range slices.Sorted(maps.Keys(keys)) {
		if err := kr.Add(n, keys[n]); err != nil {
			return nil, nil, req.Keyring[entryOf[n]].Pos.Errorf("keyring: %s: %v", l.Name, err)
		}
	}
	return keys, kr, nil
}

// lockedIndexes reads the control section of every locked package of the
// given archs and returns, per arch, one index per config repository
// holding the locked packages under it (out[arch][i] for
// req.Repositories[i]), and where each package is.
func (l *Lock) lockedIndexes(ctx context.Context, req *Request, archs []string, kr *sign.Keyring, src Source) (map[string][]*index.Index, map[*index.Package]string, error) {
	out := map[string][]*index.Index{}
	where := map[*index.Package]string{}
	heads := l.readLocalHeads(ctx, archs, src)
	var mu sync.Mutex
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(8)
	for _, a := range archs {
		locked := l.PackagesFor(a)
		if len(locked) == 0 {
			return nil, nil, fmt.Errorf("%s locks no packages for %s: lock the config for it (kiln lock --arch %s %s)", l.Name, a, a, req.File)
		}
		out[a] = make([]*index.Index, len(req.Repositories))
		for i := range req.Repositories {
			out[a][i] = &index.Index{}
		}
		for _, lp := range locked {
			ri, err := l.repositoryOf(req, lp, a)
			if err != nil {
				return nil, nil, err
			}
			eg.Go(func() error {
				p, err := l.readControl(ectx, lp, kr, src, heads[lp.URL])
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				out[a][ri].Packages = append(out[a][ri].Packages, p)
				where[p] = lp.URL
				return nil
			})
		}
	}
	if err := eg.Wait(); err != nil {
		return nil, nil, err
	}
	// Goroutines finish in any order; the resolver's tie-breaks must not.
	for _, idxs := range out {
		for _, idx := range idxs {
			slices.SortFunc(idx.Packages, func(a, b *index.Package) int {
				return strings.Compare(a.Name+" "+a.Version, b.Name+" "+b.Version)
			})
		}
	}
	return out, where, nil
}

// repositoryOf finds the config repository a locked package is under.
func (l *Lock) repositoryOf(req *Request, lp lockfile.Package, arch string) (int, error) {
	best, bestLen := -1, -1
	for i, r := range req.Repositories {
		var under bool
		if r.ContextDir != "" {
			if cp, err := ContextPath(lp.URL); err == nil && !IsRemote(lp.URL) {
				under = strings.HasPrefix(cp, r.ContextDir+"/"+arch+"/")
			}
		} else {
			under = strings.HasPrefix(lp.URL, r.Repo.Base+"/"+arch+"/")
		}
		if under && len(r.Repo.Base) > bestLen {
			best, bestLen = i, len(r.Repo.Base)
		}
	}
	if best < 0 {
		return 0, fmt.Errorf("%s: %s-%s (%s) is at %s, under none of %s's repositories: lock the config again", l.Name, lp.Name, lp.Version, lp.Architecture, lp.URL, req.File)
	}
	return best, nil
}

// readLocalHeads reads, from a HeadsReader in one go, the signature and
// control sections of the locked packages of archs that are in the build
// context, by their lock URL. Nothing is checked here: on any failure it
// returns nil, and readControl reads each package by itself, failing with
// the error that names it.
func (l *Lock) readLocalHeads(ctx context.Context, archs []string, src Source) map[string][]byte {
	hr, ok := src.(HeadsReader)
	if !ok {
		return nil
	}
	want := map[string]int64{}
	urlOf := map[string]string{}
	for _, a := range archs {
		for _, lp := range l.PackagesFor(a) {
			cp, err := ContextPath(lp.URL)
			if IsRemote(lp.URL) || err != nil {
				continue
			}
			if off, size, err := lp.Control.Bounds(); err == nil {
				want[cp], urlOf[cp] = off+size, lp.URL
			}
		}
	}
	if len(want) < 2 {
		return nil
	}
	got, err := hr.ReadContextHeads(ctx, want)
	if err != nil {
		return nil
	}
	out := make(map[string][]byte, len(got))
	for cp, dt := range got {
		out[urlOf[cp]] = dt
	}
	return out
}

// readControl reads a locked package's signature and control sections
// (unless head holds them already), checks them against the lock and
// returns the package's record.
func (l *Lock) readControl(ctx context.Context, lp lockfile.Package, kr *sign.Keyring, src Source, head []byte) (*index.Package, error) {
	what := fmt.Sprintf("%s: %s-%s (%s)", l.Name, lp.Name, lp.Version, lp.Architecture)
	off, size, err := lp.Control.Bounds()
	if err != nil {
		return nil, fmt.Errorf("%s: control: %w", what, err)
	}
	if head == nil {
		if head, err = src.Head(ctx, lp.URL, fmt.Sprintf("[%s] read %s-%s.apk metadata", lp.Architecture, lp.Name, lp.Version), off+size); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	r, err := pkg.ReadControl(bytes.NewReader(head), pkg.ReadOptions{Keyring: kr, ExpectedChecksum: lp.Checksum, Name: lp.URL})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	p := r.Info
	if p.Name != lp.Name || p.Version != lp.Version || (p.Arch != lp.Architecture && p.Arch != "noarch") {
		return nil, fmt.Errorf("%s: the package at %s is %s-%s (%s)", what, lp.URL, p.Name, p.Version, p.Arch)
	}
	if sum, ok := strings.CutPrefix(lp.Data.Checksum, "sha256-"); ok && r.DataHash != "" {
		raw, err := base64.StdEncoding.DecodeString(sum)
		if err != nil || hex.EncodeToString(raw) != r.DataHash {
			return nil, fmt.Errorf("%s: the lock's data checksum %s is not the package's datahash %s", what, lp.Data.Checksum, r.DataHash)
		}
	}
	if off, size, err := lp.Data.Bounds(); err == nil {
		p.Size = uint64(off + size)
	}
	return p, nil
}

// checkSolution makes sure resolving the config against the locked
// packages installs exactly them: a lock that lists more, fewer or other
// packages than the config needs is stale.
func (l *Lock) checkSolution(req *Request, arch string, sol *resolve.Solution) error {
	want := map[string]bool{}
	for _, lp := range l.PackagesFor(arch) {
		want[lp.Name+"-"+lp.Version] = true
	}
	var extra []string
	for _, rp := range sol.Packages {
		nv := rp.Package.Name + "-" + rp.Package.Version
		if !want[nv] {
			extra = append(extra, nv)
		}
		delete(want, nv)
	}
	var why []string
	if len(want) > 0 {
		why = append(why, fmt.Sprintf("it locks %v, which the config does not install", slices.Sorted(maps.Keys(want))))
	}
	if len(extra) > 0 {
		why = append(why, fmt.Sprintf("the config installs %v, which it does not lock", extra))
	}
	if len(why) > 0 {
		return fmt.Errorf("%s does not match %s for %s: %s: lock the config again", l.Name, req.File, arch, strings.Join(why, "; "))
	}
	return nil
}
