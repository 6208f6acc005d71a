package install

import (
	"archive/tar"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// ErrUnsafePath marks entries rejected because they would write outside
// the root or through something that is not a directory inside it.
var ErrUnsafePath = errors.New("unsafe path")

// maxSymlinks bounds symlink expansion while resolving one path, as
// Linux's ELOOP limit does.
const maxSymlinks = 40

// cleanName validates an archive path and returns it cleaned and relative
// ("" for the root itself). Absolute paths, ".." components and control
// characters are rejected rather than cleaned away.
func cleanName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty name", ErrUnsafePath)
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("%w: %q is absolute", ErrUnsafePath, name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f {
			return "", fmt.Errorf("%w: %q has a control character", ErrUnsafePath, name)
		}
	}
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return "", fmt.Errorf("%w: %q has a '..' component", ErrUnsafePath, name)
		}
	}
	c := path.Clean(name)
	if c == "." {
		return "", nil
	}
	return c, nil
}

// hidden reports whether a cleaned archive path is a control-section
// entry (.PKGINFO, .SIGN.*, .pre-install ...): apk installs no entry whose
// first component starts with a dot.
func hidden(clean string) bool { return strings.HasPrefix(clean, ".") }

// resolveDir returns the physical path, relative to the root ("" for the
// root), of the existing directory dir names. Symlinks are expanded here
// with Lstat and Readlink: an absolute target restarts at the root, a
// relative one is taken from the directory holding the link, and climbing
// above the root is an error. Paths missing from the root are looked up in
// the layers below (Options.Lower), whose symlinks are followed the same
// way. Nothing is created.
func (in *Installer) resolveDir(dir string) (string, error) {
	return in.walkDir(dir, false)
}

// makeDir is resolveDir for an entry about to be extracted: a directory
// the layers below have, or one reached through their symlinks, is made in
// the root so the entry has somewhere to go (as it would in apk's single
// tree). It keeps the lower directory's metadata when known, else 0755
// and root.
func (in *Installer) makeDir(dir string) (string, error) {
	return in.walkDir(dir, true)
}

func (in *Installer) walkDir(dir string, create bool) (string, error) {
	if r, ok := in.resolved[dir]; ok {
		return r.phys, nil
	}
	r, err := in.walkDirUncached(dir, create)
	if err != nil {
		return "", err
	}
	// Either way the directory now exists in the root.
	in.resolved[dir] = r
	return r.phys, nil
}

// dropResolved forgets every directory resolution: a symlink just put in
// place may lead a path elsewhere.
func (in *Installer) dropResolved() { clear(in.resolved) }

// resolution is a directory walkDir resolved, with what its walk had met
// on the way, so a walk below it can start there.
type resolution struct {
	phys     string // physical path relative to the root
	links    int    // symlinks followed
	via      string // the last symlink followed, for error messages
	viaLower bool   // a lower layer's symlink was followed
}

func (in *Installer) walkDirUncached(dir string, create bool) (resolution, error) {
	var cur []string
	todo := splitRel(dir)
	links := 0
	via := ""         // the last symlink followed, for error messages
	viaLower := false // a lower layer's symlink was followed
	// Start below the deepest ancestor already resolved: an archive's
	// directories come parent first, and walking each from the root
	// again costs a lookup per component of every ancestor.
	for i := len(todo) - 1; i > 0; i-- {
		if r, ok := in.resolved[strings.Join(todo[:i], "/")]; ok {
			cur, todo = splitRel(r.phys), todo[i:]
			links, via, viaLower = r.links, r.via, r.viaLower
			break
		}
	}
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				if via != "" {
					return resolution{}, fmt.Errorf("%w: %q leads above the root through symlink %q", ErrUnsafePath, dir, via)
				}
				return resolution{}, fmt.Errorf("%w: %q leads above the root", ErrUnsafePath, dir)
			}
			cur = cur[:len(cur)-1]
			continue
		}
		parent := strings.Join(cur, "/")
		p := joinRel(parent, c)
		// One lookup in the parent, held open, instead of a walk of p
		// from the root.
		pd, err := in.dirAt(parent)
		if err != nil {
			return resolution{}, fmt.Errorf("directory %q: %w", dir, err)
		}
		st, exists, err := pd.stat(c)
		if err != nil {
			return resolution{}, fmt.Errorf("directory %q: %w", dir, err)
		}
		target, isLink := "", false
		switch {
		case exists && st.Mode&typeMask == typeSymlink:
			if target, err = pd.readlink(c); err != nil {
				return resolution{}, fmt.Errorf("directory %q: %w", dir, err)
			}
			isLink = true
		case exists && st.Mode&typeMask == typeDir:
			cur = append(cur, c)
			continue
		case exists:
			return resolution{}, fmt.Errorf("%w: %q in %q is not a directory", ErrUnsafePath, p, dir)
		default:
			e, below := in.lower(p)
			switch {
			case below && e.Symlink != "":
				target, isLink, viaLower = e.Symlink, true, true
			case below && e.Dir || viaLower:
				if !create {
					return resolution{}, fmt.Errorf("directory %q: %q is only in the layers below: %w", dir, p, fs.ErrNotExist)
				}
				if !below {
					e = LowerEntry{Dir: true, Mode: defaultDirMode}
				}
				if err := in.borrowDir(p, e); err != nil {
					return resolution{}, err
				}
				cur = append(cur, c)
				continue
			case via != "":
				return resolution{}, fmt.Errorf("directory %q: %q (reached through symlink %q) does not exist in the root: %w", dir, p, via, fs.ErrNotExist)
			default:
				return resolution{}, fmt.Errorf("directory %q: %q does not exist: %w", dir, p, fs.ErrNotExist)
			}
		}
		if isLink {
			links++
			if links > maxSymlinks {
				return resolution{}, fmt.Errorf("%w: %q: too many levels of symbolic links", ErrUnsafePath, dir)
			}
			via = p + " -> " + target
			if strings.HasPrefix(target, "/") {
				cur = cur[:0]
			}
			todo = append(splitRel(target), todo...)
		}
	}
	return resolution{phys: strings.Join(cur, "/"), links: links, via: via, viaLower: viaLower}, nil
}

// borrowDir makes in the root a directory that belongs to the layers
// below, with their metadata, so this layer can hold entries in it
// without changing it: no package records it, and its time is the epoch.
func (in *Installer) borrowDir(p string, e LowerEntry) error {
	d, base, err := in.parentOf(p)
	if err != nil {
		return fmt.Errorf("make directory %q of the layers below: %w", p, err)
	}
	if err := d.mkdir(base); err != nil {
		return fmt.Errorf("make directory %q of the layers below: %w", p, err)
	}
	if in.chown {
		if err := d.lchown(base, e.UID, e.GID); err != nil {
			return err
		}
	}
	in.pendingModes[p] = e.Mode
	in.touched[p] = struct{}{}
	return nil
}

// splitName splits a slash-separated path into its directory, without a
// trailing slash ("" at the top), and its last component.
func splitName(p string) (dir, base string) {
	dir, base = path.Split(p)
	return strings.TrimSuffix(dir, "/"), base
}

func splitRel(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// ErrWhiteout marks entries whose name an OCI layer would read as a
// whiteout: ".wh.<name>" deletes <name> from the layers below and
// ".wh..wh..opq" empties its directory. Every package is extracted into a
// layer of its own kind, so such an entry would delete other packages'
// files from the final image; apk packages never ship one.
var ErrWhiteout = errors.New("OCI whiteout name in a package")

// whiteoutPrefix starts every name the OCI layer format reserves.
const whiteoutPrefix = ".wh."

// notWhiteout rejects a cleaned archive path with any component that an
// OCI layer would treat as a whiteout.
func notWhiteout(clean string) error {
	for _, c := range strings.Split(clean, "/") {
		if strings.HasPrefix(c, whiteoutPrefix) {
			return fmt.Errorf("%q: %w: %q is reserved for whiteouts", clean, ErrWhiteout, c)
		}
	}
	return nil
}

// ErrSpecialFile marks device nodes and FIFOs, which kiln (like apko)
// does not install from packages.
var ErrSpecialFile = errors.New("device nodes and FIFOs are not installed from packages")

var specialKind = map[byte]string{
	tar.TypeChar:  "character device",
	tar.TypeBlock: "block device",
	tar.TypeFifo:  "FIFO",
}
