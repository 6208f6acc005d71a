package llb

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/kiln-build/kiln/apk/index"
	bk "github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Mount points inside kiln's exec ops.
const (
	ToolBinary   = "/bin/kiln"
	mountOut     = "/out"
	mountMeta    = "/meta"
	mountKeys    = "/keys"
	mountPkgs    = "/pkgs"
	mountRootfs  = "/rootfs"
	mountSpec    = "/spec"
	specFile     = "spec.json"
	sbomSpecFile = "sbom.json"
)

// PackageSource is one resolved package and the state holding its .apk.
type PackageSource struct {
	Package *index.Package
	Source  bk.State // has the .apk at Path
	Path    string
}

// ImageInput is everything needed to assemble one architecture's rootfs.
type ImageInput struct {
	Arch     string          // apk architecture, for vertex names
	Packages []PackageSource // install order
	Layering Layering

	// Tools is kiln's own image (the frontend's), whose ToolBinary runs
	// the install and metadata steps; ToolsPlatform is its platform, since
	// extracting files needs no emulation whatever the target arch.
	Tools         bk.State
	ToolsPlatform ocispecs.Platform

	Keys            bk.State // the trusted public keys as /<name>
	MetaSpec        []byte   // JSON for `kiln image-meta`
	SourceDateEpoch int64
}

// Layer describes one layer of the result, for the image history.
type Layer struct {
	Packages []*index.Package // nil for the metadata layer
	Comment  string
}

// Built is one architecture's image as LLB.
type Built struct {
	Root   bk.State // the merged rootfs
	Layers []Layer  // bottom first

	in    ImageInput
	metas []bk.State // each layer's install record, outside the image
}

// Image returns the merged rootfs and its layers.
func Image(in ImageInput) (*Built, error) {
	if len(in.Packages) == 0 {
		return nil, fmt.Errorf("%s: no packages to install", in.Arch)
	}
	members := make([]Member, len(in.Packages))
	for i, p := range in.Packages {
		members[i] = Member{Name: p.Package.Name, Origin: p.Package.Origin,
			InstalledSize: p.Package.InstalledSize, Replaces: p.Package.Replaces}
	}
	groups, err := Group(members, in.Layering)
	if err != nil {
		return nil, err
	}

	var layerStates, metaStates []bk.State
	var layers []Layer
	for _, g := range groups {
		pkgs := make([]PackageSource, len(g))
		for i, idx := range g {
			pkgs[i] = in.Packages[idx]
		}
		files, meta := installGroup(in, pkgs)
		layerStates = append(layerStates, files)
		metaStates = append(metaStates, meta)
		l := Layer{Comment: "apk add " + nameVersions(pkgs, len(pkgs))}
		for _, p := range pkgs {
			l.Packages = append(l.Packages, p.Package)
		}
		layers = append(layers, l)
	}

	rootfs := bk.Merge(layerStates, bk.WithCustomNamef("[%s] merge %d package layers", in.Arch, len(layerStates)))
	metaLayer := generateMetadata(in, rootfs, metaStates)
	layerStates = append(layerStates, metaLayer)
	layers = append(layers, Layer{Comment: "kiln: installed database, accounts and generated files"})
	root := bk.Merge(layerStates, bk.WithCustomNamef("[%s] assemble image (%d layers)", in.Arch, len(layerStates)))
	return &Built{Root: root, Layers: layers, in: in, metas: metaStates}, nil
}

// SBOMFile is where SBOM's state holds the document.
const SBOMFile = "/sbom.spdx.json"

// SBOM runs `kiln image-sbom` over the install records, which hold each
// .apk's SHA-256 and the SPDX documents packages ship, and returns a state
// holding only the document at SBOMFile. spec is the sbom.Input as JSON.
// The image graph is the same with or without it, so asking for an SBOM
// costs no cache.
func (b *Built) SBOM(spec []byte) bk.State {
	in := b.in
	st := bk.Scratch().File(bk.Mkfile("/"+sbomSpecFile, 0o644, spec),
		bk.WithCustomNamef("[%s] SBOM of %d packages", in.Arch, len(in.Packages)))
	args := []string{ToolBinary, "image-sbom", "--spec", path.Join(mountSpec, sbomSpecFile), "--out", mountOut}
	opts := []bk.RunOption{
		bk.Network(bk.NetModeNone),
		bk.ReadonlyRootFS(),
		bk.Platform(in.ToolsPlatform),
		bk.AddMount(mountSpec, st, bk.Readonly),
		bk.WithCustomNamef("[%s] write SPDX SBOM", in.Arch),
	}
	for i, m := range b.metas {
		dir := path.Join(mountMeta, strconv.Itoa(i))
		args = append(args, "--meta", dir)
		opts = append(opts, bk.AddMount(dir, m, bk.Readonly))
	}
	opts = append(opts, bk.Args(args))
	return in.Tools.Run(opts...).AddMount(mountOut, bk.Scratch())
}

// installGroup runs `kiln install-apk` over one layer's packages and
// returns the layer (the extracted files) and the installed-database
// fragment, which stays out of the image until the metadata step.
func installGroup(in ImageInput, pkgs []PackageSource) (files, meta bk.State) {
	args := []string{ToolBinary, "install-apk",
		"--out", mountOut, "--meta", mountMeta, "--keyring", mountKeys,
		"--source-date-epoch", strconv.FormatInt(in.SourceDateEpoch, 10)}
	var mounts []bk.RunOption
	for i, p := range pkgs {
		dir := path.Join(mountPkgs, strconv.Itoa(i))
		file := path.Join(dir, path.Base(p.Path))
		args = append(args, "--expect", file+"="+p.Package.Checksum)
		mounts = append(mounts, bk.AddMount(dir, p.Source, bk.Readonly, bk.SourcePath(path.Dir(p.Path))))
	}
	for i, p := range pkgs {
		args = append(args, path.Join(mountPkgs, strconv.Itoa(i), path.Base(p.Path)))
	}
	opts := append([]bk.RunOption{
		bk.Args(args),
		bk.Network(bk.NetModeNone),
		bk.ReadonlyRootFS(),
		bk.Platform(in.ToolsPlatform),
		bk.AddMount(mountKeys, in.Keys, bk.Readonly),
		bk.WithCustomNamef("[%s] install %s", in.Arch, nameVersions(pkgs, 4)),
	}, mounts...)
	run := in.Tools.Run(opts...)
	files = run.AddMount(mountOut, bk.Scratch())
	meta = run.AddMount(mountMeta, bk.Scratch())
	return files, meta
}

// generateMetadata runs `kiln image-meta`, which reads the merged package
// files and the database fragments and writes only generated files.
func generateMetadata(in ImageInput, rootfs bk.State, metas []bk.State) bk.State {
	// The spec carries the resolution's outcome into the build, so its
	// vertex says what was resolved.
	spec := bk.Scratch().File(bk.Mkfile("/"+specFile, 0o644, in.MetaSpec),
		bk.WithCustomNamef("[%s] resolved %d packages", in.Arch, len(in.Packages)))
	args := []string{ToolBinary, "image-meta",
		"--spec", path.Join(mountSpec, specFile), "--rootfs", mountRootfs,
		"--keyring", mountKeys, "--out", mountOut,
		"--source-date-epoch", strconv.FormatInt(in.SourceDateEpoch, 10)}
	opts := []bk.RunOption{
		bk.Network(bk.NetModeNone),
		bk.ReadonlyRootFS(),
		bk.Platform(in.ToolsPlatform),
		bk.AddMount(mountRootfs, rootfs, bk.Readonly),
		bk.AddMount(mountSpec, spec, bk.Readonly),
		bk.AddMount(mountKeys, in.Keys, bk.Readonly),
		bk.WithCustomNamef("[%s] generate installed database, accounts and links", in.Arch),
	}
	for i, m := range metas {
		dir := path.Join(mountMeta, strconv.Itoa(i))
		args = append(args, "--meta", dir)
		opts = append(opts, bk.AddMount(dir, m, bk.Readonly))
	}
	opts = append(opts, bk.Args(args))
	return in.Tools.Run(opts...).AddMount(mountOut, bk.Scratch())
}

// nameVersions lists up to max packages as name-version for vertex names.
func nameVersions(pkgs []PackageSource, max int) string {
	var b strings.Builder
	for i, p := range pkgs {
		if i == max {
			fmt.Fprintf(&b, " and %d more", len(pkgs)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Package.Name + "-" + p.Package.Version)
	}
	return b.String()
}
