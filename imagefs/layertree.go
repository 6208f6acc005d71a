package imagefs

import (
	"errors"
	"fmt"
	"os"
	"path"

	"golang.org/x/sys/unix"

	"github.com/kiln-build/kiln/apk/install"
)

// layerTree is what an installed layer holds, read once after its
// install: the layers above it in the same batch look paths up in it for
// every directory they make, and an lstat through the layer's root walks
// the path again from the top each time.
type layerTree struct {
	entries map[string]treeEntry // path relative to the layer's root
}

type treeKind uint8

const (
	treeDir treeKind = iota
	treeSymlink
	treeFile  // a regular file
	treeOther // anything else that is not a directory or symlink
)

type treeEntry struct {
	kind  treeKind
	entry install.LowerEntry // a directory's metadata or a symlink's target
}

// linkOnTheWay reports whether a directory on the way to p is a symlink
// in this layer: then the tree cannot say what an lstat of p finds.
func (t layerTree) linkOnTheWay(p string) bool {
	for dir := path.Dir(p); dir != "." && dir != "/"; dir = path.Dir(dir) {
		if t.entries[dir].kind == treeSymlink {
			return true
		}
	}
	return false
}

// readLayerTree reads the tree under dir, each directory through a
// descriptor opened from its parent's without following symlinks.
func readLayerTree(dir string) (layerTree, error) {
	t := layerTree{entries: map[string]treeEntry{}}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return t, fmt.Errorf("open %s: %w", dir, err)
	}
	return t, t.read(fd, "")
}

// maxTreeEntries bounds what readLayerTree keeps of one layer.
const maxTreeEntries = 4 << 20

// read adds the entries of the directory open as fd (named rel), and
// closes fd.
func (t *layerTree) read(fd int, rel string) error {
	f := os.NewFile(uintptr(fd), rel)
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return fmt.Errorf("read directory %q: %w", rel, err)
	}
	if len(t.entries)+len(ents) > maxTreeEntries {
		return errors.New("more entries than an install step reads back")
	}
	for _, de := range ents {
		name := de.Name()
		p := name
		if rel != "" {
			p = rel + "/" + name
		}
		switch typ := de.Type(); {
		case typ.IsDir():
			var st unix.Stat_t
			if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return fmt.Errorf("lstat %q: %w", p, err)
			}
			t.entries[p] = treeEntry{kind: treeDir, entry: install.LowerEntry{Dir: true, Mode: st.Mode & 0o7777, UID: int(st.Uid), GID: int(st.Gid)}}
			sub, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("open %q: %w", p, err)
			}
			if err := t.read(sub, p); err != nil {
				return err
			}
		case typ&os.ModeSymlink != 0:
			target, err := readlinkAt(fd, name)
			if err != nil {
				return fmt.Errorf("readlink %q: %w", p, err)
			}
			t.entries[p] = treeEntry{kind: treeSymlink, entry: install.LowerEntry{Symlink: target}}
		case typ.IsRegular():
			t.entries[p] = treeEntry{kind: treeFile}
		default:
			t.entries[p] = treeEntry{kind: treeOther}
		}
	}
	return nil
}

func readlinkAt(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}
