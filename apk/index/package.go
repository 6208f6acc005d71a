// Package index reads and writes apk repository indexes: the text records
// of APKINDEX and the signed APKINDEX.tar.gz that carries them.
package index

// Field is an index line kiln does not interpret, kept so a read index can
// be written back unchanged.
type Field struct {
	Key   byte
	Value string
}

// Package is one record of an APKINDEX (or the index view of a .PKGINFO).
// Dependency-like lists are kept as the tokens written in the index; the
// resolver parses them once when it builds its tables.
type Package struct {
	Name             string   // P
	Version          string   // V
	Arch             string   // A
	Size             uint64   // S: size of the .apk file
	InstalledSize    uint64   // I
	Description      string   // T
	URL              string   // U
	License          string   // L
	Origin           string   // o
	Maintainer       string   // m
	BuildTime        int64    // t (unix seconds)
	Commit           string   // c
	Checksum         string   // C: "Q1" + base64(SHA-1 of the control gzip member)
	Dependencies     []string // D
	Provides         []string // p
	InstallIf        []string // i
	Replaces         []string // r
	ProviderPriority int      // k
	HasProviderPrio  bool     // k present
	ReplacesPriority int      // q
	Extra            []Field  // unknown keys, in order
}

// Filename is the file name of the package in a repository.
func (p *Package) Filename() string { return p.Name + "-" + p.Version + ".apk" }

// String is name-version, as apk prints packages.
func (p *Package) String() string { return p.Name + "-" + p.Version }
