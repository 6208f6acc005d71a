package step

import (
	"strconv"
	"strings"
)

// Commands of a melange build.
const (
	CmdMelangeKey     = "melange-key"
	CmdMelangePackage = "melange-package"
	CmdMelangeExtract = "melange-extract"
)

// Mount points of a melange build's steps.
const (
	MountWorkspace = "/home/build"              // melange's workspace
	MountSecret    = "/run/secrets/melange.rsa" // the signing key, a BuildKit secret
	MountKey       = "/key"                     // melange-key's output
	MountSource    = "/source"                  // a fetched file
)

// SecretID is the BuildKit secret melange builds sign with
// (`--secret id=melange.rsa,src=melange.rsa`).
const SecretID = "melange.rsa"

// PublicKeyName is the file the packages' public key is written to, next
// to the architectures' directories, and the name their signatures give:
// melange's key name with .pub, whether the key is the secret or one made
// for the build.
const PublicKeyName = "melange.rsa.pub"

// PublicKeyFile is what melange-key writes in Out: the secret's public key
// in PEM, or nothing when the build has no secret (the package step then
// signs with a key of its own, made and thrown away in that step).
const PublicKeyFile = "public-key.pem"

// MelangeKey reads the public half of the build's secret signing key. The
// conversion makes it run on every build, since no cache key covers a
// secret's content: when the secret changes, this step's output changes
// and the package step, which reads it, runs again.
type MelangeKey struct {
	Secret, Out string
}

// Args is the command line the conversion runs.
func (s MelangeKey) Args() []string {
	return []string{ToolBinary, CmdMelangeKey, "--secret", s.Secret, "--out", s.Out}
}

// ParseMelangeKey reads the arguments after the command name.
func ParseMelangeKey(args []string) (MelangeKey, error) {
	var s MelangeKey
	fs := newFlags(CmdMelangeKey, nil)
	fs.StringVar(&s.Secret, "secret", "", "the signing key secret's file (may be absent)")
	fs.StringVar(&s.Out, "out", "", "directory to write "+PublicKeyFile+" into")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if s.Secret == "" || s.Out == "" || fs.NArg() > 0 {
		return s, usagef("need --secret and --out, and no other arguments")
	}
	return s, nil
}

// MelangePackage turns the output directories of every architecture a
// build makes (each Arch's OutDir/<name> for every package) into signed
// .apk files and a signed APKINDEX.tar.gz in Out/<arch>/, as each Arch's
// Spec (a PackageSpec) says, and writes the public key as
// Out/PublicKeyName. One step signs every architecture, so they share the
// key: the secret, which must be the key melange-key reported (in Key),
// or, without one, a key this step makes and forgets.
type MelangePackage struct {
	Secret, Key, Out string
	Archs            []PackageArch
}

// PackageArch is one architecture of a package step.
type PackageArch struct {
	Spec, OutDir string
}

// Args is the command line the conversion runs.
func (s MelangePackage) Args() []string {
	args := []string{ToolBinary, CmdMelangePackage, "--secret", s.Secret, "--key", s.Key, "--out", s.Out}
	for _, a := range s.Archs {
		args = append(args, "--arch", a.Spec+"="+a.OutDir)
	}
	return args
}

// ParseMelangePackage reads the arguments after the command name.
func ParseMelangePackage(args []string) (MelangePackage, error) {
	var s MelangePackage
	fs := newFlags(CmdMelangePackage, nil)
	fs.StringVar(&s.Secret, "secret", "", "the signing key secret's file (may be absent)")
	fs.StringVar(&s.Key, "key", "", "melange-key's output directory")
	fs.StringVar(&s.Out, "out", "", "directory to write <arch>/ into")
	var archs stringList
	fs.Var(&archs, "arch", "`SPEC=OUTDIR`: an architecture's PackageSpec and melange-out (repeatable)")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	for _, a := range archs {
		spec, out, ok := strings.Cut(a, "=")
		if !ok || spec == "" || out == "" {
			return s, usagef("--arch %q: want SPEC=OUTDIR", a)
		}
		s.Archs = append(s.Archs, PackageArch{Spec: spec, OutDir: out})
	}
	if s.Secret == "" || s.Key == "" || s.Out == "" || len(s.Archs) == 0 || fs.NArg() > 0 {
		return s, usagef("need --secret, --key, --out and at least one --arch, and no other arguments")
	}
	return s, nil
}

// PackageSpecFile is the PackageSpec's file in MountSpec.
const PackageSpecFile = "packages.json"

// PackageSpec is what the package step builds.
type PackageSpec struct {
	Arch            string `json:"arch"`
	SourceDateEpoch int64  `json:"source_date_epoch"`
	// Namespace is melange's --namespace: maintainer and purl namespace.
	Namespace string `json:"namespace,omitempty"`
	// BuildUID and BuildGID are the build account's ids, owned by root in
	// the packages, as melange maps them.
	BuildUID int `json:"build_uid"`
	BuildGID int `json:"build_gid"`
	// Packages: the main package first, then the subpackages in order.
	Packages []PackageInfo `json:"packages"`
	// Config is the melange.yaml, kept in each package as .melange.yaml.
	Config string `json:"config,omitempty"`
}

// PackageInfo is one package's metadata.
type PackageInfo struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"` // full: <version>-r<epoch>
	Origin      string   `json:"origin,omitempty"`
	Description string   `json:"description,omitempty"`
	URL         string   `json:"url,omitempty"`
	Commit      string   `json:"commit,omitempty"`
	Licenses    []string `json:"licenses,omitempty"`
	Copyright   string   `json:"copyright,omitempty"`

	Runtime          []string `json:"runtime,omitempty"`
	Provides         []string `json:"provides,omitempty"`
	Replaces         []string `json:"replaces,omitempty"`
	ProviderPriority string   `json:"provider_priority,omitempty"`
	ReplacesPriority string   `json:"replaces_priority,omitempty"`

	NoProvides bool `json:"no_provides,omitempty"`
	NoDepends  bool `json:"no_depends,omitempty"`
	NoCommands bool `json:"no_commands,omitempty"`

	Scriptlets map[string]string `json:"scriptlets,omitempty"` // pre-install, post-install, ..., trigger
	Triggers   []string          `json:"triggers,omitempty"`   // the trigger's paths

	Sources []Source `json:"sources,omitempty"`
}

// Source is an upstream source a package was built from, for its SBOM.
type Source struct {
	Name, Version, URL, Digest string
}

// MelangeExtract puts a fetched file into the workspace, as melange's
// fetch does: Archive is checked against SHA256 or SHA512 (hex) first;
// with a Dir it is unpacked there as tar would (StripComponents leading
// path elements dropped, entries owned by root, nothing outside Dir).
type MelangeExtract struct {
	Archive, Dir    string
	SHA256, SHA512  string
	StripComponents int
	// Keep copies the archive itself into Keep (a path in the workspace)
	// as well, when the configuration did not ask to delete it.
	Keep string
}

// Args is the command line the conversion runs.
func (s MelangeExtract) Args() []string {
	args := []string{ToolBinary, CmdMelangeExtract, "--archive", s.Archive, "--dir", s.Dir,
		"--strip-components", strconv.Itoa(s.StripComponents)}
	if s.SHA256 != "" {
		args = append(args, "--sha256", s.SHA256)
	}
	if s.SHA512 != "" {
		args = append(args, "--sha512", s.SHA512)
	}
	if s.Keep != "" {
		args = append(args, "--keep", s.Keep)
	}
	return args
}

// ParseMelangeExtract reads the arguments after the command name.
func ParseMelangeExtract(args []string) (MelangeExtract, error) {
	var s MelangeExtract
	fs := newFlags(CmdMelangeExtract, nil)
	fs.StringVar(&s.Archive, "archive", "", "the fetched file")
	fs.StringVar(&s.Dir, "dir", "", "directory to unpack into")
	fs.StringVar(&s.SHA256, "sha256", "", "expected SHA-256, hex")
	fs.StringVar(&s.SHA512, "sha512", "", "expected SHA-512, hex")
	fs.IntVar(&s.StripComponents, "strip-components", 0, "leading path elements to drop")
	fs.StringVar(&s.Keep, "keep", "", "also copy the archive here")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if s.Archive == "" || s.Dir == "" && s.Keep == "" || s.StripComponents < 0 || fs.NArg() > 0 {
		return s, usagef("need --archive and --dir or --keep, and no other arguments")
	}
	return s, nil
}
