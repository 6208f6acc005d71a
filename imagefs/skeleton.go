package imagefs

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// skeleton is the tree apko lays down in every image before any package:
// created here only where no package already made it, since the package
// layers are below and their metadata must stand.
var skeleton = []struct {
	path string
	mode fs.FileMode
}{
	{"tmp", 0o777 | fs.ModeSticky},
	{"dev", 0o755},
	{"etc", 0o755},
	{"opt", 0o755},
	{"proc", 0o555},
	{"var", 0o755},
	{"usr", 0o755},
	{"etc/apk", 0o755},
	{"etc/apk/keys", 0o755},
	{"usr/lib", 0o755},
	{"usr/lib/apk", 0o755},
	{"usr/lib/apk/db", 0o755},
	{"usr/lib/apk/exec", 0o755},
	{"var/cache", 0o755},
	{"var/cache/apk", 0o755},
	{"var/cache/misc", 0o755},
}

// devices are the character devices apko's skeleton holds in /dev.
var devices = []struct {
	name         string
	major, minor uint32
	mode         uint32
}{
	{"console", 5, 1, 0o620},
	{"null", 1, 3, 0o666},
	{"random", 1, 8, 0o666},
	{"urandom", 1, 9, 0o666},
	{"zero", 1, 5, 0o666},
}

// writeSkeleton creates apko's skeleton directories and /dev nodes.
func writeSkeleton(l *layerFS, in Input) error {
	for _, d := range skeleton {
		if err := l.mkdir(d.path, d.mode); err != nil {
			return err
		}
	}
	for _, d := range devices {
		if err := l.mknod(path.Join("dev", d.name), d.major, d.minor, d.mode); err != nil {
			return err
		}
	}
	return nil
}

// mkdir creates directory p with mode unless the image already has it
// (through symlinks), creating missing parents as mkdirAll does.
func (l *layerFS) mkdir(p string, mode fs.FileMode) error {
	rp, err := l.resolveParent(p)
	if err != nil {
		return err
	}
	if fi, _, err := l.lstat(rp); err == nil {
		if fi.Mode()&fs.ModeSymlink != 0 {
			// Follow it: a usr-merged /lib -> usr/lib is the directory.
			target, err := l.resolve(rp, 0)
			if err != nil {
				return err
			}
			if fi, _, err := l.lstat(target); err == nil && fi.IsDir() {
				return nil
			}
			return fmt.Errorf("%s is a symlink to something that is not a directory", p)
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s exists and is not a directory", p)
		}
		return nil
	}
	if err := l.mkdirAll(path.Dir(rp)); err != nil {
		return err
	}
	rel := strings.TrimPrefix(rp, "/")
	if err := l.out.Mkdir(rel, 0o700); err != nil {
		return fmt.Errorf("mkdir %s: %w", p, err)
	}
	return l.setMeta(rel, mode, 0, 0)
}

// mknod creates a character device at p, owned by root, unless the image
// has something there.
func (l *layerFS) mknod(p string, major, minor, mode uint32) error {
	rp, err := l.resolveParent(p)
	if err != nil {
		return err
	}
	if _, _, err := l.lstat(rp); err == nil {
		return nil
	}
	if err := l.mkdirAll(path.Dir(rp)); err != nil {
		return err
	}
	rel := strings.TrimPrefix(rp, "/")
	// os.Root has no mknod: check that the parent in the output layer is
	// a real directory (mkdirAll made it one), so the absolute path below
	// cannot be redirected by a symlink.
	if fi, err := l.out.Lstat(path.Dir(rel)); err != nil || !fi.IsDir() {
		return fmt.Errorf("mknod %s: parent is not a directory", p)
	}
	full := filepath.Join(l.outPath, filepath.FromSlash(rel))
	if err := unix.Mknod(full, unix.S_IFCHR|mode, int(unix.Mkdev(major, minor))); err != nil {
		return fmt.Errorf("mknod %s: %w", p, err)
	}
	return l.setMeta(rel, fs.FileMode(mode)|fs.ModeDevice|fs.ModeCharDevice, 0, 0)
}

// linkAPKDB makes /lib/apk point at the database under /usr/lib/apk, as
// apko does for tools that look in the pre-usr-merge place: nothing when
// /lib already leads to /usr/lib, `lib -> usr/lib` when a package provides
// merged-lib and no /lib exists, else a /lib directory holding the link.
func linkAPKDB(l *layerFS, in Input) error {
	if target, err := l.resolve("/lib", 0); err == nil && target == "/usr/lib" {
		return nil
	}
	if fi, _, err := l.lstat("/lib"); errors.Is(err, fs.ErrNotExist) {
		for _, p := range in.Packages {
			for _, pr := range p.Provides {
				if pr == "merged-lib" || strings.HasPrefix(pr, "merged-lib=") {
					return l.symlink("usr/lib", "/lib")
				}
			}
		}
		if err := l.mkdir("lib", 0o755); err != nil {
			return err
		}
	} else if err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("/lib exists and is not a directory")
	}
	if fi, root, err := l.lstat("/lib/apk"); err == nil {
		if fi.Mode()&fs.ModeSymlink != 0 {
			t, _ := root.Readlink("lib/apk")
			if path.Clean(path.Join("/lib", t)) == "/usr/lib/apk" {
				return nil
			}
			return fmt.Errorf("/lib/apk is a package's symlink to %s; the apk database lives in /usr/lib/apk", t)
		}
		// apk-tools packages ship an empty /lib/apk tree: the link hides it.
		if fi.IsDir() {
			if f, ok := firstNonDir(root, "lib/apk"); ok {
				return fmt.Errorf("/lib/apk holds %s from a package; the apk database lives in /usr/lib/apk", f)
			}
		}
		if !fi.IsDir() {
			return fmt.Errorf("/lib/apk exists in a package and is not a directory")
		}
	}
	return l.symlink("../usr/lib/apk", "/lib/apk")
}

// firstNonDir finds an entry under dir that is not a directory.
func firstNonDir(t tree, dir string) (string, bool) {
	ents, err := t.ReadDir(dir)
	if err != nil {
		return "", false
	}
	for _, e := range ents {
		p := path.Join(dir, e.Name())
		if !e.IsDir() {
			return p, true
		}
		if f, ok := firstNonDir(t, p); ok {
			return f, true
		}
	}
	return "", false
}
