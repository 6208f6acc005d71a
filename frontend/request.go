package frontend

import (
	"github.com/kiln-build/kiln/imagefs"
	kllb "github.com/kiln-build/kiln/llb"
)

// located is a config value with the place it was written, so errors
// found later (a package nothing provides, a key that does not verify)
// still point at the line of the YAML.
type located struct {
	Value string
	Pos   string // "apko.yaml:12:7"
}

func (l located) where() string {
	if l.Pos == "" {
		return ""
	}
	return l.Pos + ": "
}

// imageRequest is what building an image needs from an apko config.
type imageRequest struct {
	File string

	// ResolveRepositories are searched for packages (repositories plus
	// build_repositories); RuntimeRepositories are what the image's
	// /etc/apk/repositories lists (repositories plus runtime_repositories).
	ResolveRepositories []located
	RuntimeRepositories []string
	Keyring             []located
	Packages            []located
	Archs               []string // apk names; empty: the builder's platform

	Layering kllb.Layering
	Accounts imagefs.Accounts
	RunAs    string
	Paths    []imagefs.Path
	Image    kllb.ImageConfigInput // platform, epoch and layers filled per build
}
