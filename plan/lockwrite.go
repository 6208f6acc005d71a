package plan

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"path"
	"sort"

	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/config/apko"
	"github.com/kiln-build/kiln/plan/lockfile"
)

// Opener opens a planned package's .apk and says where it is.
type Opener func(ctx context.Context, pk Package, arch string) (io.ReadCloser, string, error)

// Lock makes the lockfile of a plan, as `apko lock` writes it for the
// same config: file names the config; open reads every package, to
// record its sections.
func (pl *Plan) Lock(ctx context.Context, file string, open Opener) (*lockfile.Lock, error) {
	req := pl.Request
	l := &lockfile.Lock{
		Version: lockfile.Version,
		Config:  &lockfile.Config{Name: file, Checksum: req.ConfigChecksum},
		Contents: lockfile.Contents{
			Keyring: []lockfile.Key{}, BuildRepositories: []lockfile.Repository{},
			RuntimeRepositories: []lockfile.Repository{}, Repositories: []lockfile.Repository{},
			Packages: []lockfile.Package{},
		},
	}
	for _, k := range req.Keyring {
		l.Contents.Keyring = append(l.Contents.Keyring, lockfile.Key{Name: lockfile.StripScheme(k.Value), URL: k.Value,
			Content: string(pl.Keys[path.Base(k.Value)])})
	}
	sort.Slice(l.Contents.Keyring, func(i, j int) bool { return l.Contents.Keyring[i].Name < l.Contents.Keyring[j].Name })
	c := req.Config.Contents
	for _, p := range pl.Platforms {
		for _, pk := range p.Packages {
			lp, err := lockPackage(ctx, pk, p.Arch, open)
			if err != nil {
				return nil, err
			}
			l.Contents.Packages = append(l.Contents.Packages, lp)
		}
		add := func(dst *[]lockfile.Repository, repos []apko.Repository) {
			for _, r := range repos {
				base := r.URL + "/" + p.Arch
				*dst = append(*dst, lockfile.Repository{Name: lockfile.StripScheme(base), URL: base + "/APKINDEX.tar.gz", Architecture: p.Arch})
			}
		}
		add(&l.Contents.BuildRepositories, c.BuildRepositories)
		add(&l.Contents.RuntimeRepositories, c.RuntimeRepositories)
		add(&l.Contents.Repositories, c.Repositories)
	}
	return l, nil
}

// lockPackage reads one planned package and records it.
func lockPackage(ctx context.Context, pk Package, arch string, open Opener) (lockfile.Package, error) {
	rc, where, err := open(ctx, pk, arch)
	if err != nil {
		return lockfile.Package{}, fmt.Errorf("%s: %w", pk, err)
	}
	defer rc.Close()
	s, err := pkg.ReadSections(rc)
	if err != nil {
		return lockfile.Package{}, fmt.Errorf("%s: %w", where, err)
	}
	sum := func(prefix string, b []byte) string { return prefix + base64.StdEncoding.EncodeToString(b) }
	if q1 := sum("Q1", s.Control.Sum); q1 != pk.Checksum {
		return lockfile.Package{}, fmt.Errorf("%s: control checksum %s, the index says %s", where, q1, pk.Checksum)
	}
	url := pk.URL(arch)
	if url == "" {
		url = pk.Repository.Repo.PackageLocation(arch, pk.Package)
	}
	lp := lockfile.Package{
		Name: pk.Name, URL: url, Version: pk.Version, Architecture: pk.Arch,
		Control:  lockfile.RangeChecksum{Range: lockfile.NewRange(s.Control.Offset, s.Control.Size), Checksum: sum("sha1-", s.Control.Sum)},
		Data:     lockfile.RangeChecksum{Range: lockfile.NewRange(s.Data.Offset, s.Data.Size), Checksum: sum("sha256-", s.Data.Sum)},
		Checksum: pk.Checksum,
	}
	if s.Signature != nil {
		lp.Signature = lockfile.RangeChecksum{Range: lockfile.NewRange(s.Signature.Offset, s.Signature.Size), Checksum: sum("sha1-", s.Signature.Sum)}
	}
	return lp, nil
}
