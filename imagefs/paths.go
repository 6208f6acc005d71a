package imagefs

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/kiln-build/kiln/step"

	"github.com/kiln-build/kiln/apk/install"
)

// applyPaths carries out the config's `paths` entries in order, as apko
// does: each creates its path, then sets permissions (and owner, when uid
// or gid is given). Anything a package shipped that an entry changes is
// copied up into the metadata layer first, since lower layers are
// read-only and the change must be in the image's top layer.
func applyPaths(l *layerFS, in Input) error {
	for _, p := range in.Spec.Paths {
		if err := applyPath(l, p); err != nil {
			return fmt.Errorf("paths: %s %s: %w", p.Type, p.Path, err)
		}
	}
	return nil
}

func applyPath(l *layerFS, p step.Path) error {
	rp, err := l.resolveParent(p.Path)
	if err != nil {
		return err
	}
	rel := strings.TrimPrefix(rp, "/")
	if rel == "" {
		return fmt.Errorf("cannot mutate the image root")
	}
	_, _, existsErr := l.lstat(rp)
	exists := existsErr == nil
	switch p.Type {
	case "directory":
		if exists {
			if err := l.copyUp(rel); err != nil {
				return err
			}
		} else if err := l.mkdirAll(rp); err != nil {
			return err
		}
		fi, err := l.out.Lstat(rel)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("exists and is not a directory")
		}
	case "empty-file":
		if err := l.writeFile(rp, nil, 0o644, 0, 0); err != nil {
			return err
		}
	case "symlink":
		if exists {
			return fmt.Errorf("%w: the path already exists", fs.ErrExist)
		}
		if err := l.symlink(p.Source, rp); err != nil {
			return err
		}
		return l.chownIfSet(rel, p) // chmod would follow the link
	case "hardlink":
		src, err := l.resolveParent(p.Source)
		if err != nil {
			return err
		}
		srcRel := strings.TrimPrefix(src, "/")
		if fi, _, err := l.lstat(src); err != nil || !fi.Mode().IsRegular() {
			return fmt.Errorf("hardlink source %s is not a regular file in the image", p.Source)
		}
		// A hardlink must share the layer with its source.
		if err := l.copyUp(srcRel); err != nil {
			return err
		}
		if exists {
			if err := l.copyUp(rel); err != nil {
				return err
			}
			if err := l.out.Remove(rel); err != nil {
				return err
			}
			// The path is gone from out but still in lower; the hardlink
			// below replaces it in the merged image.
		}
		if err := l.mkdirAll(path.Dir(rp)); err != nil {
			return err
		}
		if err := l.out.Link(srcRel, rel); err != nil {
			return fmt.Errorf("link %s -> %s: %w", p.Path, p.Source, err)
		}
		l.written = append(l.written, rel)
	case "permissions":
		if !exists {
			return fmt.Errorf("%w: nothing at that path to change", fs.ErrNotExist)
		}
		if !p.Recursive {
			if err := l.copyUp(rel); err != nil {
				return err
			}
			return l.setPerms(rel, p)
		}
		return l.walk(rel, func(r string) error {
			if err := l.copyUp(r); err != nil {
				return err
			}
			return l.setPerms(r, p)
		})
	default:
		return fmt.Errorf("unknown path type %q", p.Type)
	}
	return l.setPerms(rel, p)
}

// setPerms applies a path entry's permissions and, when uid or gid is set,
// its owner (the unset one defaulting to root, as apko does).
func (l *layerFS) setPerms(rel string, p step.Path) error {
	fi, err := l.out.Lstat(rel)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return l.chownIfSet(rel, p)
	}
	if err := l.chownIfSet(rel, p); err != nil {
		return err
	}
	return l.out.Chmod(rel, install.FileMode(p.Permissions))
}

func (l *layerFS) chownIfSet(rel string, p step.Path) error {
	if p.UID == nil && p.GID == nil {
		return nil
	}
	var uid, gid uint32
	if p.UID != nil {
		uid = *p.UID
	}
	if p.GID != nil {
		gid = *p.GID
	}
	return l.out.Lchown(rel, int(uid), int(gid))
}

// copyUp copies an entry from lower into out with its metadata, unless out
// already has it. Directories are copied without their contents.
func (l *layerFS) copyUp(rel string) error {
	if _, err := l.out.Lstat(rel); err == nil {
		return nil
	}
	fi, err := l.lower.Lstat(rel)
	if err != nil {
		return err
	}
	if err := l.mkdirAll(path.Dir(rel)); err != nil {
		return err
	}
	mode := fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	uid, gid := owner(fi)
	switch {
	case fi.IsDir():
		if err := l.out.Mkdir(rel, 0o700); err != nil {
			return err
		}
		return l.setMeta(rel, mode, uid, gid)
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := l.lower.Readlink(rel)
		if err != nil {
			return err
		}
		if err := l.out.Symlink(target, rel); err != nil {
			return err
		}
		l.written = append(l.written, rel)
		return l.out.Lchown(rel, uid, gid)
	case fi.Mode().IsRegular():
		data, err := l.lower.ReadFile(rel)
		if err != nil {
			return err
		}
		if err := l.out.WriteFile(rel, data, 0o600); err != nil {
			return err
		}
		return l.setMeta(rel, mode, uid, gid)
	}
	return fmt.Errorf("cannot copy /%s: unsupported file type %v", rel, fi.Mode().Type())
}

// walk visits rel and everything under it in the image (out over lower),
// parents before children, in name order.
func (l *layerFS) walk(rel string, fn func(string) error) error {
	if err := fn(rel); err != nil {
		return err
	}
	fi, _, err := l.lstat(rel)
	if err != nil || !fi.IsDir() {
		return err
	}
	names := map[string]bool{}
	for _, t := range []tree{rootTree{l.out}, l.lower} {
		ents, err := t.ReadDir(rel)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range ents {
			names[e.Name()] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		if err := l.walk(path.Join(rel, n), fn); err != nil {
			return err
		}
	}
	return nil
}
