package install

import (
	"archive/tar"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"
)

// DataReader is the data section of a package: satisfied by *tar.Reader
// and by *pkg.Reader (which verifies checksums while it is read).
type DataReader interface {
	Next() (*tar.Header, error)
	Read(p []byte) (int, error)
}

// contentSummer is a DataReader that hashes each regular file's contents
// to check them against the header's SHA-1 (pkg.Reader): the installer
// records that sum instead of computing it again.
type contentSummer interface {
	ContentSHA1() (sum []byte, ok bool, err error)
}

// ChownMode says whether extracted entries get the owners their headers
// name.
type ChownMode uint8

const (
	ChownAuto   ChownMode = iota // chown only when running as root
	ChownAlways                  // chown, failing when not permitted
	ChownNever                   // keep the extracting user as owner
)

// DefaultDBPath is where apko (usr-merged) keeps the installed database.
const DefaultDBPath = "usr/lib/apk/db/installed"

// Options configures an Installer.
type Options struct {
	SourceDateEpoch int64     // every mtime written, in Unix seconds
	Chown           ChownMode // owners from the headers (default ChownAuto)
	DBPath          string    // relative to root; default DefaultDBPath
	// Lower describes the layers below the root; nil: none. Paths are
	// resolved through its symlinks, and directories it has are made in
	// the root (with its metadata) when an entry needs them.
	Lower Lower
	// MaxTotalSize bounds the bytes of file contents all Installs of this
	// Installer write together (one image layer); 0 means
	// DefaultMaxTotalSize, a negative value no bound.
	MaxTotalSize int64
	// DatabaseOnly says the root holds an installed database and none of
	// its packages' files (an install record): paths are taken as
	// written, never looked up in the root — each lookup there would
	// fail, one per file — and nothing can be installed into it.
	DatabaseOnly bool
}

// DefaultMaxTotalSize is the default Options.MaxTotalSize: well above the
// largest real layers (a CUDA toolkit is a few GiB), well below what
// fills a build machine's disk.
const DefaultMaxTotalSize = 64 << 30

// Control is what a package's control section adds to the database.
type Control struct {
	Scripts  map[string][]byte // ".post-install" or "post-install" → body
	Triggers []string          // the .PKGINFO triggers (directory globs)
}

// Installer extracts packages into one root directory. It is not safe for
// concurrent use.
type Installer struct {
	root  *os.Root
	opts  Options
	chown bool
	epoch time.Time

	pkgs   []*installed          // in install order, loaded ones first
	byName map[string]*installed // package name → entry in pkgs
	owners map[string]*owner     // physical path → owning package
	// dirOwners names the first package to ship each directory (by
	// physical path), so a file a later package puts there can say whose
	// directory is in the way.
	dirOwners map[string]*installed

	pendingModes map[string]uint32   // directories created, mode to apply at the end
	touched      map[string]struct{} // directories whose mtime must be reset
	// resolved memoizes walkDir: directory as named → its resolution.
	// Directories are only ever added while installing, so a resolution
	// holds until a symlink is put in place (dropResolved).
	resolved map[string]resolution
	// open holds the directories opened last, most recent first: a
	// package's entries come grouped by directory, and opening one walks
	// its whole path again. An open directory cannot be redirected.
	open     []*dirHandle
	tmpSeq   uint64
	written  uint64 // bytes of file contents written by every Install
	maxTotal uint64
}

// New opens root (which must be an existing directory) for installing.
func New(root string, opts Options) (*Installer, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("install root %q: %w", root, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("install root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("install root %q is not a directory", root)
	}
	if opts.DBPath == "" {
		opts.DBPath = DefaultDBPath
	}
	db, err := cleanName(opts.DBPath)
	if err != nil || db == "" {
		return nil, fmt.Errorf("database path %q: must be a relative path inside the root", opts.DBPath)
	}
	opts.DBPath = db
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("install root: %w", err)
	}
	in := &Installer{
		root:         r,
		opts:         opts,
		epoch:        time.Unix(opts.SourceDateEpoch, 0),
		byName:       map[string]*installed{},
		owners:       map[string]*owner{},
		dirOwners:    map[string]*installed{},
		pendingModes: map[string]uint32{},
		touched:      map[string]struct{}{},
		resolved:     map[string]resolution{},
	}
	switch {
	case opts.MaxTotalSize == 0:
		in.maxTotal = DefaultMaxTotalSize
	case opts.MaxTotalSize < 0:
		in.maxTotal = math.MaxUint64
	default:
		in.maxTotal = uint64(opts.MaxTotalSize)
	}
	switch opts.Chown {
	case ChownAlways:
		in.chown = true
	case ChownNever:
		in.chown = false
	default:
		in.chown = os.Geteuid() == 0
	}
	return in, nil
}

// Close releases the root directory handle and the directories kept open.
func (in *Installer) Close() error {
	for _, d := range in.open {
		d.close()
	}
	in.open = nil
	return in.root.Close()
}

// Packages returns copies of every package the Installer knows, loaded
// and installed, in install order.
func (in *Installer) Packages() []InstalledPackage {
	out := make([]InstalledPackage, 0, len(in.pkgs))
	for _, p := range in.pkgs {
		out = append(out, p.snapshot())
	}
	return out
}

// Files lists the files (not directories) package name owns, with full
// paths; nil when the package is unknown.
func (in *Installer) Files(name string) []FileRecord {
	p := in.byName[name]
	if p == nil {
		return nil
	}
	return p.rec.Files()
}

// Owner returns the name of the package owning the file at path (as the
// archive names it), or "" when no package owns it.
func (in *Installer) Owner(name string) string {
	clean, err := cleanName(name)
	if err != nil || clean == "" {
		return ""
	}
	if o := in.owners[in.physKey(clean)]; o != nil {
		return o.pkg.rec.Name
	}
	return ""
}

// physKey is the ownership key of an archive path: its parent resolved
// through the root's symlinks when that works, else the path as written
// (a lower layer's file whose directory is not in this root).
func (in *Installer) physKey(name string) string {
	if in.opts.DatabaseOnly {
		return name
	}
	dir, base := splitName(name)
	phys, err := in.resolveDir(dir)
	if err != nil {
		return name
	}
	return joinRel(phys, base)
}

func joinRel(dir, base string) string {
	if dir == "" {
		return base
	}
	return dir + "/" + base
}
