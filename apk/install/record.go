package install

import (
	"maps"
	"slices"

	"github.com/kiln-build/kiln/apk/index"
)

// Default owners and modes: the installed database writes M: and a: lines
// only for entries that differ from these.
const (
	defaultDirMode  = 0o755
	defaultFileMode = 0o644
)

// InstalledPackage is one package of the installed database.
type InstalledPackage struct {
	index.Package
	Dirs     []DirRecord
	Scripts  map[string][]byte // script type ("post-install") → body
	Triggers []string
}

// DirRecord is an F: line: a directory the package ships (or holds files
// in), with the files it owns there.
type DirRecord struct {
	Path        string // relative to the root; "" is the root itself
	UID, GID    int
	Mode        uint32 // permission bits with setuid/setgid/sticky (07777)
	XattrDigest string // "Q1"+base64(SHA-1) of the xattrs, "" when none
	Files       []FileRecord
}

// FileRecord is an R: line: a file, symlink or hard link.
type FileRecord struct {
	Path        string // full path relative to the root, e.g. "usr/bin/hello"
	UID, GID    int
	Mode        uint32 // permission bits with setuid/setgid/sticky (07777)
	XattrDigest string // "Q1"+base64(SHA-1) of the xattrs, "" when none
	Checksum    string // "Q1"+base64(SHA-1) of the contents, or of a symlink's target
}

// Files lists the package's files across its directories.
func (p *InstalledPackage) Files() []FileRecord {
	var out []FileRecord
	for _, d := range p.Dirs {
		out = append(out, d.Files...)
	}
	return out
}

// clone deep-copies p so callers cannot reach the Installer's state.
func (p *InstalledPackage) clone() InstalledPackage {
	c := *p
	c.Package.Dependencies = slices.Clone(p.Dependencies)
	c.Package.Provides = slices.Clone(p.Provides)
	c.Package.InstallIf = slices.Clone(p.InstallIf)
	c.Package.Replaces = slices.Clone(p.Replaces)
	c.Package.Extra = slices.Clone(p.Extra)
	c.Dirs = make([]DirRecord, len(p.Dirs))
	for i, d := range p.Dirs {
		d.Files = slices.Clone(d.Files)
		c.Dirs[i] = d
	}
	c.Scripts = maps.Clone(p.Scripts)
	c.Triggers = slices.Clone(p.Triggers)
	return c
}

// installed is an InstalledPackage with the indexes the Installer keeps.
type installed struct {
	rec  InstalledPackage
	dirs map[string]int // DirRecord.Path → index in rec.Dirs
}

func newInstalled(rec InstalledPackage) *installed {
	p := &installed{rec: rec, dirs: map[string]int{}}
	for i, d := range rec.Dirs {
		p.dirs[d.Path] = i
	}
	return p
}

func (p *installed) snapshot() InstalledPackage { return p.rec.clone() }

// dir returns the package's record for directory name, adding one with the
// default owner and mode when the package has none yet.
func (p *installed) dir(name string) *DirRecord {
	if i, ok := p.dirs[name]; ok {
		return &p.rec.Dirs[i]
	}
	p.rec.Dirs = append(p.rec.Dirs, DirRecord{Path: name, Mode: defaultDirMode})
	p.dirs[name] = len(p.rec.Dirs) - 1
	return &p.rec.Dirs[len(p.rec.Dirs)-1]
}

// addFile records f in its directory, replacing an earlier record of the
// same path.
func (p *installed) addFile(dirName string, f FileRecord) {
	p.removeFile(dirName, f.Path)
	d := p.dir(dirName)
	d.Files = append(d.Files, f)
}

// removeFile drops the record of file name in directory dirName, if any.
func (p *installed) removeFile(dirName, name string) {
	i, ok := p.dirs[dirName]
	if !ok {
		return
	}
	d := &p.rec.Dirs[i]
	d.Files = slices.DeleteFunc(d.Files, func(f FileRecord) bool { return f.Path == name })
}

// owner is the package owning one physical path, and how it named it.
type owner struct {
	pkg      *installed
	dir      string // the DirRecord.Path holding the record
	name     string // FileRecord.Path
	checksum string
}
