package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kiln-build/kiln/apk/arch"
	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/repo"
	"github.com/kiln-build/kiln/apk/resolve"
	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/config/apko"
)

// hostConfig is an apko.yaml resolved on the host, as a build resolves it
// in the frontend. Local repositories and keys are read relative to the
// config's directory, as the build reads them relative to the context.
type hostConfig struct {
	file      string
	cfg       *apko.Config
	archs     []string
	solutions map[string]*resolve.Solution
	keyring   *sign.Keyring
	fetcher   *repo.Fetcher
	// where each resolver repository (named as the config wrote it) is
	// read from on this host
	locations map[string]repo.Repository
}

// loadHostConfig parses and validates file and resolves it for archs
// (default: the config's archs, else the host's), all together.
func loadHostConfig(ctx context.Context, file string, archs []string) (*hostConfig, error) {
	root := filepath.Dir(file)
	cfg, err := apko.Load(filepath.Base(file), func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(root, p)) })
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(archs) == 0 {
		for _, a := range cfg.Archs {
			archs = append(archs, a.Name)
		}
	}
	if len(archs) == 0 {
		archs = []string{arch.Host()}
	}
	for i, a := range archs {
		if archs[i], err = arch.Normalize(a); err != nil {
			return nil, usageError{err}
		}
	}
	local := func(loc string) string {
		if strings.Contains(loc, "://") {
			return loc
		}
		return filepath.Join(root, strings.TrimPrefix(filepath.Clean("/"+loc), "/"))
	}
	h := &hostConfig{file: file, cfg: cfg, archs: archs, fetcher: &repo.Fetcher{},
		keyring: sign.NewKeyring(), locations: map[string]repo.Repository{}}
	for _, k := range cfg.Contents.Keyring {
		rc, err := h.fetcher.Open(ctx, local(k.Value))
		if err != nil {
			return nil, fmt.Errorf("%s: keyring: %w", k.Pos, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, 64<<10))
		rc.Close()
		if err != nil {
			return nil, err
		}
		if err := h.keyring.Add(filepath.Base(k.Value), data); err != nil {
			return nil, fmt.Errorf("%s: keyring: %w", k.Pos, err)
		}
	}
	byArch := map[string][]resolve.Repository{}
	repos := append(append([]apko.Repository(nil), cfg.Contents.Repositories...), cfg.Contents.BuildRepositories...)
	for _, r := range repos {
		name := strings.TrimRight(r.URL, "/")
		h.locations[name] = repo.Repository{Tag: r.Tag, Base: strings.TrimRight(local(r.URL), "/")}
	}
	for _, a := range archs {
		for _, r := range repos {
			name := strings.TrimRight(r.URL, "/")
			idx, err := h.fetcher.LoadIndex(ctx, h.locations[name], a, index.ReadOptions{Keyring: h.keyring})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.Pos, err)
			}
			byArch[a] = append(byArch[a], resolve.Repository{Name: name, Tag: r.Tag, Arch: a, Packages: idx.Packages})
		}
	}
	var world []string
	for _, p := range cfg.Contents.Packages {
		world = append(world, p.Value)
	}
	if h.solutions, err = resolve.ResolveArchs(byArch, world); err != nil {
		return nil, fmt.Errorf("%s: contents.packages: %w", file, err)
	}
	return h, nil
}
