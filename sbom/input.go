package sbom

import (
	"strings"

	"github.com/kiln-build/kiln/apk/arch"
	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/resolve"
)

// Input is everything one platform's document is made from. The frontend
// fills it from the resolution and hands it to the build step as JSON; the
// step adds what only the package files know (SHA256, Embedded).
type Input struct {
	Arch            string    `json:"arch"`     // apk architecture
	Platform        string    `json:"platform"` // OCI platform, e.g. linux/arm64/v8
	ImageName       string    `json:"image_name"`
	ImageVersion    string    `json:"image_version,omitempty"`
	SourceDateEpoch int64     `json:"source_date_epoch"`
	Packages        []Package `json:"packages"` // install order
	// OS is what /etc/os-release says; the build step fills it from what
	// the packages installed. Nil leaves the operating system out.
	OS *OS `json:"os,omitempty"`
}

// Package is one installed apk.
type Package struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Arch        string `json:"arch"`
	License     string `json:"license,omitempty"`
	Origin      string `json:"origin,omitempty"`
	Maintainer  string `json:"maintainer,omitempty"`
	URL         string `json:"url,omitempty"`
	Description string `json:"description,omitempty"`
	Commit      string `json:"commit,omitempty"`
	Checksum    string `json:"checksum"` // index C: ("Q1" + base64 SHA-1 of the control member)

	// Repository is the repository's location as the config wrote it;
	// it names the purl namespace and, when remote, the download location.
	Repository string   `json:"repository"`
	Depends    []string `json:"depends,omitempty"` // names of direct dependencies in the install set

	SHA256   string     `json:"sha256,omitempty"` // of the .apk file
	Embedded []Embedded `json:"-"`                // SPDX documents the package ships
}

// Embedded is an SPDX document a package carries under EmbeddedDir, as
// melange writes one for every package it builds.
type Embedded struct {
	Path string // inside the package, e.g. var/lib/db/sbom/hello-1.0-r0.spdx.json
	Data []byte
}

// EmbeddedDir is where melange-built packages keep their own SPDX documents.
const EmbeddedDir = "var/lib/db/sbom"

// IsEmbeddedSBOM reports whether a package's file is one of its own SPDX
// documents.
func IsEmbeddedSBOM(name string) bool {
	rest, ok := strings.CutPrefix(strings.TrimLeft(strings.TrimPrefix(name, "./"), "/"), EmbeddedDir+"/")
	return ok && !strings.Contains(rest, "/") && strings.HasSuffix(rest, ".spdx.json") && rest != ".spdx.json"
}

// FromIndex takes a package's facts from its index entry.
func FromIndex(p *index.Package, repository string, depends []string) Package {
	return Package{
		Name: p.Name, Version: p.Version, Arch: p.Arch, License: p.License,
		Origin: p.Origin, Maintainer: p.Maintainer, URL: p.URL,
		Description: p.Description, Commit: p.Commit, Checksum: p.Checksum,
		Repository: strings.TrimRight(repository, "/"), Depends: depends,
	}
}

// Annotations that name the image in its SBOM, as OCI defines them.
const (
	titleAnnotation   = "org.opencontainers.image.title"
	versionAnnotation = "org.opencontainers.image.version"
)

// NewInput describes one architecture's resolution. Each package's
// Repository is the resolver repository's Name, which callers set to the
// location as the config wrote it. The image is named by its title and
// version annotations when the config has them.
func NewInput(sol *resolve.Solution, annotations map[string]string, sourceDateEpoch int64) (Input, error) {
	plat, err := arch.ToPlatform(sol.Arch)
	if err != nil {
		return Input{}, err
	}
	in := Input{
		Arch: sol.Arch, Platform: plat.String(),
		ImageName: annotations[titleAnnotation], ImageVersion: annotations[versionAnnotation],
		SourceDateEpoch: sourceDateEpoch,
	}
	for _, rp := range sol.Packages {
		deps := make([]string, 0, len(rp.Depends))
		for _, d := range rp.Depends {
			deps = append(deps, d.Package.Name)
		}
		in.Packages = append(in.Packages, FromIndex(rp.Package, rp.Repository.Name, deps))
	}
	return in, nil
}
