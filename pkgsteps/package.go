package pkgsteps

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/pkgbuild"
	"github.com/kiln-build/kiln/pkgbuild/repoindex"
	"github.com/kiln-build/kiln/pkgbuild/signkey"
	"github.com/kiln-build/kiln/sbom"
	"github.com/kiln-build/kiln/step"
)

// Package runs melange-package: every package of every architecture from
// its output directory into Out/<arch>/, signed with one key, then each
// architecture's signed index, and the public key next to the
// architectures' directories for the repository's users.
func Package(ctx context.Context, s step.MelangePackage) error {
	signer, err := packageSigner(s.Secret, s.Key)
	if err != nil {
		return err
	}
	_, pub, err := signkey.PublicKey(signer)
	if err != nil {
		return err
	}
	for _, a := range s.Archs {
		if err := packageArch(ctx, a, signer, s.Out); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(s.Out, step.PublicKeyName), pub, 0o644)
}

// packageArch packages one architecture and writes its index.
func packageArch(ctx context.Context, a step.PackageArch, signer *sign.Signer, out string) error {
	data, err := os.ReadFile(a.Spec)
	if err != nil {
		return err
	}
	var spec step.PackageSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("package spec: %w", err)
	}
	archDir := filepath.Join(out, spec.Arch)
	if err := os.MkdirAll(archDir, 0o755); err != nil {
		return err
	}
	opts := pkgbuild.Options{
		Signer: signer, SourceDateEpoch: spec.SourceDateEpoch,
		UIDMap: map[int]int{spec.BuildUID: 0}, GIDMap: map[int]int{spec.BuildGID: 0},
		TempDir: out,
	}
	for _, p := range spec.Packages {
		opts.Siblings = append(opts.Siblings, pkgbuild.Sibling{Name: p.Name, Dir: filepath.Join(a.OutDir, p.Name)})
	}
	for _, p := range spec.Packages {
		dir := filepath.Join(a.OutDir, p.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil { // a subpackage whose pipeline made nothing is empty
			return err
		}
		if _, _, err := pkgbuild.BuildFile(ctx, archDir, dir, toPkgbuild(spec, p), opts); err != nil {
			return err
		}
	}
	_, _, err = repoindex.WriteFile(archDir, repoindex.Options{Arch: spec.Arch, Signer: signer, SourceDateEpoch: spec.SourceDateEpoch})
	return err
}

// toPkgbuild maps one package of the spec onto what pkgbuild takes.
func toPkgbuild(spec step.PackageSpec, p step.PackageInfo) pkgbuild.Package {
	out := pkgbuild.Package{
		Name: p.Name, Version: p.Version, Arch: spec.Arch, Origin: p.Origin,
		Description: p.Description, URL: p.URL, Commit: p.Commit, Licenses: p.Licenses,
		Namespace: spec.Namespace, Config: []byte(spec.Config),
		Dependencies: pkgbuild.Dependencies{Runtime: p.Runtime, Provides: p.Provides, Replaces: p.Replaces,
			ProviderPriority: p.ProviderPriority, ReplacesPriority: p.ReplacesPriority},
		Options: pkgbuild.PackageOptions{NoProvides: p.NoProvides, NoDepends: p.NoDepends, NoCommands: p.NoCommands},
		Scriptlets: pkgbuild.Scriptlets{
			PreInstall: p.Scriptlets["pre-install"], PostInstall: p.Scriptlets["post-install"],
			PreDeinstall: p.Scriptlets["pre-deinstall"], PostDeinstall: p.Scriptlets["post-deinstall"],
			PreUpgrade: p.Scriptlets["pre-upgrade"], PostUpgrade: p.Scriptlets["post-upgrade"],
			Trigger: pkgbuild.Trigger{Script: p.Scriptlets["trigger"], Paths: p.Triggers},
		},
		SBOM: pkgbuild.SBOMInfo{Copyright: p.Copyright},
	}
	for _, src := range p.Sources {
		sp := sbom.SourcePackage{Name: src.Name, Version: src.Version, DownloadLocation: src.URL}
		if alg, hexsum, ok := strings.Cut(src.Digest, ":"); ok {
			sp.Checksums = map[string]string{strings.ToUpper(alg): hexsum}
		}
		out.SBOM.Sources = append(out.SBOM.Sources, sp)
	}
	return out
}
