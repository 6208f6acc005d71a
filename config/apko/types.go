package apko

import (
	"github.com/kiln-build/kiln/apk/version"
	"github.com/kiln-build/kiln/config/yamlnode"
)

// Pos is where a value was written (file, line, column).
type Pos = yamlnode.Pos

// Str is a string value as written, with its position. Pos is zero when
// the field was absent.
type Str = yamlnode.Scalar

// KV is one entry of a string mapping (environment, annotations,
// services), in document order.
type KV = yamlnode.KV

// Uint32 is an integer value (uid, gid, permissions) with its position.
type Uint32 struct {
	Value uint32
	Pos   Pos
}

// Int is an integer value with its position.
type Int struct {
	Value int
	Pos   Pos
}

// Bool is a boolean value with its position.
type Bool struct {
	Value bool
	Pos   Pos
}

// Config is an apko ImageConfiguration.
type Config struct {
	// File is the file parsed (for Load, the top-level one; values merged
	// in from included files carry their own file in their Pos).
	File string
	// Includes lists the files Load merged in, nearest first.
	Includes []string

	Contents     Contents
	Entrypoint   Entrypoint
	Cmd          Str
	StopSignal   Str
	WorkDir      Str
	Accounts     Accounts
	Archs        []Arch // deduplicated; empty means the config names none
	Environment  []KV
	Paths        []PathMutation
	VCSURL       Str
	Annotations  []KV
	Include      Str
	Volumes      []Str
	Layering     *Layering // nil when absent or null
	Format       Str       // "", "tar" or "erofs"
	Certificates *Certificates
}

// Contents is the `contents` section.
type Contents struct {
	Pos Pos
	// Repositories are used to build and are written into the image.
	Repositories []Repository
	// BuildRepositories are used to build only.
	BuildRepositories []Repository
	// RuntimeRepositories are written into the image only.
	RuntimeRepositories []Repository
	Keyring             []Str // URLs or paths of public keys
	// RuntimeKeyring keys are written to /etc/apk/keys, never used to build.
	RuntimeKeyring []NamedPEM
	Packages       []Package
	// BaseImage is apko's experimental base image: the packages are
	// installed on top of a local OCI layout's image.
	BaseImage *BaseImage
}

// Repository is a `repositories` entry: "URL" or "@tag URL".
type Repository struct {
	Value string // as written
	Pos   Pos
	Tag   string // without the '@'; "" for an untagged repository
	URL   string // with trailing slashes removed, as apko does
}

// Package is a `packages` entry: `[!]name[@tag][op version]`.
type Package struct {
	Value string // as written
	Pos   Pos
	Dep   version.Dependency
}

// NamedPEM is an inline PEM document with the file name it is installed
// as (runtime_keyring entries, certificates.additional entries).
type NamedPEM struct {
	Pos     Pos
	Name    Str
	Content Str
}

// BaseImage is contents.baseimage.
type BaseImage struct {
	Pos Pos
	// Image is the directory of an OCI image layout (index.json, blobs/).
	Image Str
	// APKIndex is a directory holding <apk arch>/APKINDEX: the base
	// image's installed database (lib/apk/db/installed), as apko takes it.
	APKIndex Str
}

// Entrypoint is the `entrypoint` section.
type Entrypoint struct {
	Pos           Pos
	Type          Str // "" or "service-bundle"
	Command       Str // split like a shell would
	ShellFragment Str // run with /bin/sh -c
	Services      []KV
}

// IsZero reports whether no entrypoint field is set; apko inherits an
// included entrypoint only as a whole and only then.
func (e Entrypoint) IsZero() bool {
	return e.Type.Value == "" && e.Command.Value == "" && e.ShellFragment.Value == "" && len(e.Services) == 0
}

// Accounts is the `accounts` section.
type Accounts struct {
	Pos    Pos
	RunAs  Str
	Users  []User
	Groups []Group
}

// User is an accounts.users entry.
type User struct {
	Pos      Pos
	UserName Str
	UID      *Uint32 // required (and not 0)
	GID      *Uint32 // nil: same as UID, as apko does
	Shell    Str     // "": /bin/sh
	HomeDir  Str     // "": /home/<username>
}

// Group is an accounts.groups entry.
type Group struct {
	Pos       Pos
	GroupName Str
	GID       Uint32 // 0 when absent, as in apko
	Members   []Str
}

// Arch is an `archs` entry.
type Arch struct {
	Name  string // apk name: x86_64, aarch64, armv7, ...
	Value string // as written: amd64, arm/v7, ...
	Pos   Pos
}

// Path types apko knows.
const (
	PathDirectory   = "directory"
	PathEmptyFile   = "empty-file"
	PathHardlink    = "hardlink"
	PathSymlink     = "symlink"
	PathPermissions = "permissions"
)

// PathMutation is a `paths` entry.
type PathMutation struct {
	Pos  Pos
	Path Str
	Type Str
	// UID and GID: both nil leaves ownership alone; one nil means 0.
	UID *Uint32
	GID *Uint32
	// Permissions are Unix mode bits (0o7777 at most). apko applies them
	// even when absent, as 0, so Pos tells whether they were written.
	Permissions Uint32
	Source      Str // link target for hardlink and symlink
	Recursive   Bool
}

// Layering is the `layering` section.
type Layering struct {
	Pos      Pos
	Strategy Str // "origin" is the only strategy apko has
	Budget   Int // at least 1 when written
}

// Certificates is the `certificates` section.
type Certificates struct {
	Pos        Pos
	Additional []NamedPEM
	Providers  []Str
}

// Map returns kvs as a map.
func Map(kvs []KV) map[string]string {
	if kvs == nil {
		return nil
	}
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.Key.Value] = kv.Value.Value
	}
	return m
}
