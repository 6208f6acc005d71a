package plan

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/resolve"
	"github.com/kiln-build/kiln/sbom"
	"github.com/kiln-build/kiln/step"
)

// Platform is one target's resolved plan: everything the conversion needs
// to make its image, and nothing it would have to look up.
type Platform struct {
	Target
	SourceDateEpoch int64

	Packages []Package // install order; none of the base image's
	// Layers are the image's layers, bottom first: the package groups,
	// then the metadata layer (no packages) that holds the generated files.
	// A base image's layers go below them.
	Layers []Layer
	// Base is the image the packages go on top of; nil for none.
	Base   *BaseImage
	Image  *dockerspec.DockerOCIImage
	Labels map[string]string // also the manifest's annotations, as apko does
	Meta   step.ImageSpec    // what the metadata step generates
	SBOM   sbom.Input        // what the SBOM step describes
}

// Package is one resolved package and where the build reaches its .apk.
type Package struct {
	*index.Package
	Repository *Repository
	// Location is where a lockfile says the .apk is (a URL or a path);
	// "" derives it from the repository, as apk does.
	Location string
}

// URL is where a remote repository serves the package; "" for a package
// in the build context.
func (p Package) URL(arch string) string {
	if p.Location != "" {
		if IsRemote(p.Location) {
			return p.Location
		}
		return ""
	}
	if p.Repository.ContextDir != "" {
		return ""
	}
	return p.Repository.Repo.PackageLocation(arch, p.Package)
}

// ContextPath is the package's path in the build context; "" for a
// remote package.
func (p Package) ContextPath(arch string) string {
	if p.Location != "" {
		if IsRemote(p.Location) {
			return ""
		}
		cp, err := ContextPath(p.Location)
		if err != nil {
			return ""
		}
		return cp
	}
	if p.Repository.ContextDir == "" {
		return ""
	}
	return path.Join(p.Repository.ContextDir, arch, p.Filename())
}

// Layer is one layer of the image.
type Layer struct {
	Packages []int // indexes into Platform.Packages, install order; none for the metadata layer
	Comment  string
}

// IsMetadata reports whether l is the generated-files layer.
func (l Layer) IsMetadata() bool { return len(l.Packages) == 0 }

// InstalledBytes is what the index says layer i's packages install.
func (p *Platform) InstalledBytes(i int) uint64 {
	var n uint64
	for _, pi := range p.Layers[i].Packages {
		n += p.Packages[pi].InstalledSize
	}
	return n
}

// metadataComment is the metadata layer's history entry.
const metadataComment = "kiln: installed database, accounts and generated files"

func newPlatform(req *Request, t Target, sol *resolve.Solution, base *BaseImage, opts Options) (*Platform, error) {
	if sol == nil {
		return nil, fmt.Errorf("%s: nothing resolved for %s", req.File, t.Arch)
	}
	p := &Platform{Target: t, SourceDateEpoch: opts.SourceDateEpoch, Base: base}
	repoByName := map[string]*Repository{}
	for i := range req.Repositories {
		r := &req.Repositories[i]
		repoByName[r.Repo.Base] = r
	}
	// As apko: a resolved package whose name the base has is not installed
	// again, whatever version the resolver matched it with.
	sol = withoutBase(sol, base)
	members := make([]Member, len(sol.Packages))
	for i, rp := range sol.Packages {
		r := repoByName[rp.Repository.Name]
		if r == nil {
			return nil, fmt.Errorf("%s: %s resolved from unknown repository %q", req.File, rp.Package, rp.Repository.Name)
		}
		p.Packages = append(p.Packages, Package{Package: rp.Package, Repository: r})
		members[i] = Member{Name: rp.Package.Name, Origin: rp.Package.Origin,
			InstalledSize: rp.Package.InstalledSize, Replaces: rp.Package.Replaces}
	}
	layering := req.Layering
	if base != nil && layering.Budget == 0 {
		// The default budget keeps an image under 50 layers; the base's count.
		layering.Budget = max(1, DefaultLayerBudget-len(base.Layers))
	}
	groups, err := Group(members, layering)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.File, err)
	}
	for _, g := range groups {
		p.Layers = append(p.Layers, Layer{Packages: g, Comment: "apk add " + p.NameVersions(g, len(g))})
	}
	p.Layers = append(p.Layers, Layer{Comment: metadataComment})

	ic := req.Image
	ic.Platform = t.Platform
	ic.Epoch = time.Unix(opts.SourceDateEpoch, 0).UTC()
	for _, l := range p.Layers {
		ic.History = append(ic.History, l.Comment)
	}
	if base != nil {
		p.Image, err = baseImageConfig(base.Config, ic, len(base.Layers))
	} else {
		p.Image, err = ImageConfig(ic)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.File, err)
	}
	p.Labels = ic.Labels()

	p.Meta = step.ImageSpec{Arch: t.Arch, World: pinnedWorld(req, p.Packages), Repositories: req.RuntimeRepositories,
		Accounts: req.Accounts, Paths: req.Paths, RuntimeKeys: req.RuntimeKeys, Certificates: req.Certificates,
		Services: req.Services}
	if base != nil {
		// apko's world on a base image: the new packages and every base
		// package, each pinned; the base's accounts stay as they are.
		for _, bp := range base.Packages {
			p.Meta.World = append(p.Meta.World, bp.Name+"="+bp.Version)
		}
		sort.Strings(p.Meta.World)
		p.Meta.World = slices.Compact(p.Meta.World)
		p.Meta.OnBase = true
	}
	if p.SBOM, err = sbom.NewInput(sol, req.Image.Annotations, opts.SourceDateEpoch); err != nil {
		return nil, err
	}
	return p, nil
}

// NameVersions lists up to max of the given packages as name-version, for
// vertex names and history.
func (p *Platform) NameVersions(idx []int, max int) string {
	var b strings.Builder
	for i, n := range idx {
		if i == max {
			fmt.Fprintf(&b, " and %d more", len(idx)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Packages[n].String())
	}
	return b.String()
}

// ContextPaths lists every file the build steps read from the build
// context (packages, and a base image's layers and installed database),
// for one local transfer of exactly those files.
func (pl *Plan) ContextPaths() []string {
	var out []string
	seen := map[string]bool{}
	add := func(cp string) {
		if cp != "" && !seen[cp] {
			seen[cp] = true
			out = append(out, cp)
		}
	}
	for _, p := range pl.Platforms {
		for _, pk := range p.Packages {
			add(pk.ContextPath(p.Arch))
		}
		if p.Base != nil {
			for _, l := range p.Base.Layers {
				add(l.ContextPath)
			}
			add(p.Base.APKIndex)
		}
	}
	return out
}

// withoutBase drops from sol the packages whose names the base image has
// (and the dependency edges to them: the SBOM describes what kiln
// installs, as apko's covers only its own layer).
func withoutBase(sol *resolve.Solution, base *BaseImage) *resolve.Solution {
	if base == nil {
		return sol
	}
	inBase := map[string]bool{}
	for _, bp := range base.Packages {
		inBase[bp.Name] = true
	}
	out := &resolve.Solution{Arch: sol.Arch}
	for _, rp := range sol.Packages {
		if inBase[rp.Package.Name] {
			continue
		}
		kept := *rp
		kept.Depends = nil
		for _, d := range rp.Depends {
			if !inBase[d.Package.Name] {
				kept.Depends = append(kept.Depends, d)
			}
		}
		out.Packages = append(out.Packages, &kept)
	}
	return out
}

// pinnedWorld is the world apko writes after locking: every installed
// package as name=version, keeping the @tag its config entry pins it to,
// sorted.
func pinnedWorld(req *Request, pkgs []Package) []string {
	tags := map[string]string{}
	for _, p := range req.Packages {
		if p.Dep.Tag != "" {
			tags[p.Dep.Name] = "@" + p.Dep.Tag
		}
	}
	world := make([]string, len(pkgs))
	for i, p := range pkgs {
		world[i] = p.Name + "=" + p.Version + tags[p.Name]
	}
	sort.Strings(world)
	return world
}
