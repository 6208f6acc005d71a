package main

import (
	"context"
	"flag"
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

// runShowPackages prints what an apko.yaml would install, like
// `apko show-packages`: for each arch, name-version in install order.
// Local repositories and keys are read relative to the config's
// directory, as the build reads them relative to the build context.
func runShowPackages(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiln show-packages", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var archs stringList
	fs.Var(&archs, "arch", "apk architecture (repeatable); default the config's archs, else the host's")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kiln show-packages [--arch ARCH...] apko.yaml")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{fmt.Errorf("want one apko.yaml")}
	}
	file := fs.Arg(0)
	root := filepath.Dir(file)
	cfg, err := apko.Load(filepath.Base(file), func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(root, p)) })
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if len(archs) == 0 {
		for _, a := range cfg.Archs {
			archs = append(archs, a.Name)
		}
	}
	if len(archs) == 0 {
		archs = stringList{arch.Host()}
	}
	for i, a := range archs {
		if archs[i], err = arch.Normalize(a); err != nil {
			return usageError{err}
		}
	}
	local := func(loc string) string {
		if strings.Contains(loc, "://") {
			return loc
		}
		return filepath.Join(root, strings.TrimPrefix(filepath.Clean("/"+loc), "/"))
	}
	f := &repo.Fetcher{}
	kr := sign.NewKeyring()
	for _, k := range cfg.Contents.Keyring {
		rc, err := f.Open(ctx, local(k.Value))
		if err != nil {
			return fmt.Errorf("%s: keyring: %w", k.Pos, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, 64<<10))
		rc.Close()
		if err != nil {
			return err
		}
		if err := kr.Add(filepath.Base(k.Value), data); err != nil {
			return fmt.Errorf("%s: keyring: %w", k.Pos, err)
		}
	}
	byArch := map[string][]resolve.Repository{}
	repos := append(append([]apko.Repository(nil), cfg.Contents.Repositories...), cfg.Contents.BuildRepositories...)
	for _, a := range archs {
		for _, r := range repos {
			rr := repo.Repository{Tag: r.Tag, Base: local(r.URL)}
			idx, err := f.LoadIndex(ctx, rr, a, index.ReadOptions{Keyring: kr})
			if err != nil {
				return fmt.Errorf("%s: %w", r.Pos, err)
			}
			byArch[a] = append(byArch[a], resolve.Repository{Name: r.URL, Tag: r.Tag, Arch: a, Packages: idx.Packages})
		}
	}
	var world []string
	for _, p := range cfg.Contents.Packages {
		world = append(world, p.Value)
	}
	sols, err := resolve.ResolveArchs(byArch, world)
	if err != nil {
		return fmt.Errorf("%s: contents.packages: %w", file, err)
	}
	for _, a := range archs {
		if len(archs) > 1 {
			fmt.Fprintf(stdout, "# %s\n", a)
		}
		for _, rp := range sols[a].Packages {
			fmt.Fprintf(stdout, "%s %s\n", rp.Package.Name, rp.Package.Version)
		}
	}
	return nil
}
