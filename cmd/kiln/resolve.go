package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/kiln-build/kiln/apk/arch"
	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/repo"
	"github.com/kiln-build/kiln/apk/resolve"
	"github.com/kiln-build/kiln/apk/sign"
)

// resolvedJSON is one line of `kiln resolve --json`.
type resolvedJSON struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	Arch       string `json:"arch"`
	TargetArch string `json:"target_arch"`
	Repository string `json:"repository"`
	Checksum   string `json:"checksum"`
	Size       uint64 `json:"size"`
}

func runResolve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiln resolve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var repos, keyrings, archs stringList
	fs.Var(&repos, "repository", "repository `[@tag] DIR|URL` holding ARCH/APKINDEX.tar.gz (repeatable)")
	fs.Var(&keyrings, "keyring", "trusted public key `FILE` or directory of *.pub (repeatable)")
	fs.Var(&archs, "arch", "apk architecture to resolve for (repeatable; several resolve together, like apko); default the host's")
	allowUntrusted := fs.Bool("allow-untrusted", false, "accept unsigned indexes and unknown keys (a trusted key's bad signature still fails)")
	asJSON := fs.Bool("json", false, "print JSON instead of name-version lines")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kiln resolve --repository DIR|URL... [--keyring FILE...] [--arch ARCH] [--allow-untrusted] [--json] CONSTRAINT...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	world := fs.Args()
	if len(world) == 0 {
		return usageError{fmt.Errorf("no constraints given")}
	}
	if len(repos) == 0 {
		return usageError{fmt.Errorf("no --repository given")}
	}
	if len(keyrings) == 0 && !*allowUntrusted {
		return usageError{fmt.Errorf("no --keyring given: pass the repositories' public keys, or --allow-untrusted")}
	}
	keyring, err := sign.LoadKeyring(keyrings...)
	if err != nil {
		return err
	}
	if len(archs) == 0 {
		archs = stringList{arch.Host()}
	}
	for i, a := range archs {
		if archs[i], err = arch.Normalize(a); err != nil {
			return usageError{err}
		}
	}
	var parsed []repo.Repository
	for _, line := range repos {
		r, err := repo.ParseLine(line)
		if err != nil {
			return usageError{err}
		}
		parsed = append(parsed, r)
	}

	f := &repo.Fetcher{}
	byArch := map[string][]resolve.Repository{}
	for _, a := range archs {
		for _, r := range parsed {
			idx, err := f.LoadIndex(ctx, r, a, index.ReadOptions{Keyring: keyring, AllowUntrusted: *allowUntrusted})
			if err != nil {
				return err
			}
			byArch[a] = append(byArch[a], resolve.Repository{Name: r.Base, Tag: r.Tag, Arch: a, Packages: idx.Packages})
		}
	}
	solutions, err := resolve.ResolveArchs(byArch, world)
	if err != nil {
		return err
	}

	var out []resolvedJSON
	for _, a := range archs {
		sol := solutions[a]
		if !*asJSON && len(archs) > 1 {
			fmt.Fprintf(stdout, "# %s\n", a)
		}
		for _, rp := range sol.Packages {
			p := rp.Package
			if !*asJSON {
				fmt.Fprintf(stdout, "%s-%s\n", p.Name, p.Version)
				continue
			}
			out = append(out, resolvedJSON{Name: p.Name, Version: p.Version, Arch: p.Arch, TargetArch: a,
				Repository: rp.Repository.Name, Checksum: p.Checksum, Size: p.Size})
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return nil
}
