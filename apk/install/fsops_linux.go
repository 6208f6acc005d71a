//go:build linux

package install

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// dirHandle is an open directory inside the root. Every operation names
// a single component relative to it, never following a final symlink.
type dirHandle struct {
	in   *Installer
	f    *os.File
	fd   int
	phys string // path of the directory relative to the root
}

// openDir opens the directory at physical path phys (as resolveDir
// returns it). os.Root refuses anything that would leave the root, so a
// directory swapped for a symlink after resolution cannot redirect us.
func (in *Installer) openDir(phys string) (*dirHandle, error) {
	name := phys
	if name == "" {
		name = "."
	}
	f, err := in.root.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open directory %q: %w", phys, err)
	}
	return &dirHandle{in: in, f: f, fd: int(f.Fd()), phys: phys}, nil
}

// close releases the directory. A handle used after it fails (EBADF)
// instead of acting on whatever the descriptor's number opens next.
func (d *dirHandle) close() {
	d.f.Close()
	d.fd = -1
}

// openDirFrom is openDir through the parent's handle when it is open: a
// directory just made is opened next, and os.Root would walk its whole
// path again. The parent stays pinned by its descriptor and the last
// component is opened without following a symlink.
func (in *Installer) openDirFrom(phys string) (*dirHandle, error) {
	if phys == "" {
		return in.openDir(phys)
	}
	parent, base := splitName(phys)
	for _, p := range in.open {
		if p.phys != parent {
			continue
		}
		fd, err := unix.Openat(p.fd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open directory %q: %w", phys, err)
		}
		return &dirHandle{in: in, f: os.NewFile(uintptr(fd), phys), fd: fd, phys: phys}, nil
	}
	return in.openDir(phys)
}

// maxOpenDirs bounds the directories dirAt keeps open.
const maxOpenDirs = 16

// dirAt is openDir through the Installer's recently opened directories.
// The handle stays the Installer's: callers do not close it, and it
// lasts at least until the next dirAt call (it is then the most recent).
// Resolving a directory (walkDir) calls dirAt for each component it
// looks up, so a handle held across a resolution must be taken again.
func (in *Installer) dirAt(phys string) (*dirHandle, error) {
	for i, d := range in.open {
		if d.phys == phys {
			copy(in.open[1:i+1], in.open[:i])
			in.open[0] = d
			return d, nil
		}
	}
	d, err := in.openDirFrom(phys)
	if err != nil {
		return nil, err
	}
	if len(in.open) == maxOpenDirs {
		in.open[maxOpenDirs-1].close()
		in.open = in.open[:maxOpenDirs-1]
	}
	in.open = append([]*dirHandle{d}, in.open...)
	return d, nil
}

func (d *dirHandle) path(name string) string { return joinRel(d.phys, name) }

// stat is lstat of one entry; ok is false when it does not exist.
func (d *dirHandle) stat(name string) (st unix.Stat_t, ok bool, err error) {
	err = unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("lstat %q: %w", d.path(name), err)
	}
	return st, true, nil
}

func (d *dirHandle) readlink(name string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(d.fd, name, buf)
		if err != nil {
			return "", fmt.Errorf("readlink %q: %w", d.path(name), err)
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, 2*len(buf))
	}
}

// readFile reads the regular file name, an entry of d: a symlink, or
// anything but a regular file, is refused rather than followed.
func (d *dirHandle) readFile(name string) ([]byte, error) {
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, &fs.PathError{Op: "open", Path: d.path(name), Err: fs.ErrNotExist}
	}
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("%q is not a regular file", d.path(name))
	}
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", d.path(name), err)
	}
	f := os.NewFile(uintptr(fd), d.path(name))
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%q is not a regular file", d.path(name))
	}
	return io.ReadAll(f)
}

// tmpName returns a fresh name for an entry created before being renamed
// into place; creation fails with EEXIST if it is taken and is retried.
func (d *dirHandle) tmpName() string {
	d.in.tmpSeq++
	return ".kiln-tmp-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatUint(d.in.tmpSeq, 10)
}

// create makes a new temporary entry with mk, retrying on name clashes.
func (d *dirHandle) create(mk func(tmp string) error) (string, error) {
	for range 100 {
		tmp := d.tmpName()
		err := mk(tmp)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return "", err
		}
		return tmp, nil
	}
	return "", fmt.Errorf("no free temporary name in %q", d.phys)
}

// writeFile copies size bytes of r into a new temporary file, handing
// the open file to finish (owner, mode, xattrs) before it is closed.
func (d *dirHandle) writeFile(r io.Reader, size int64, w io.Writer, finish func(fd int) error) (string, error) {
	var f *os.File
	tmp, err := d.create(func(tmp string) error {
		fd, err := unix.Openat(d.fd, tmp, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		f = os.NewFile(uintptr(fd), d.path(tmp))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("create file in %q: %w", d.phys, err)
	}
	fail := func(err error) (string, error) {
		f.Close()
		d.remove(tmp)
		return "", err
	}
	var dst io.Writer = f
	if w != nil {
		dst = io.MultiWriter(f, w)
	}
	n, err := io.CopyN(dst, r, size)
	if err != nil {
		return fail(fmt.Errorf("read contents (%d of %d bytes): %w", n, size, err))
	}
	if err := finish(int(f.Fd())); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		d.remove(tmp)
		return "", fmt.Errorf("write %q: %w", d.path(tmp), err)
	}
	return tmp, nil
}

func (d *dirHandle) symlink(target string) (string, error) {
	return d.create(func(tmp string) error { return unix.Symlinkat(target, d.fd, tmp) })
}

func (d *dirHandle) link(src *dirHandle, srcName string) (string, error) {
	return d.create(func(tmp string) error { return unix.Linkat(src.fd, srcName, d.fd, tmp, 0) })
}

func (d *dirHandle) mkdir(name string) error {
	if err := unix.Mkdirat(d.fd, name, 0o700); err != nil {
		return fmt.Errorf("mkdir %q: %w", d.path(name), err)
	}
	return nil
}

// rename moves a temporary entry over name. rename(2) succeeds without
// doing anything when both are links to one inode, which only a hard
// link can be (sameInodeMaybe): its temporary name is then removed if it
// is still there.
func (d *dirHandle) rename(tmp, name string, sameInodeMaybe bool) error {
	if err := unix.Renameat(d.fd, tmp, d.fd, name); err != nil {
		d.remove(tmp)
		return fmt.Errorf("rename into %q: %w", d.path(name), err)
	}
	if sameInodeMaybe {
		d.remove(tmp)
	}
	return nil
}

func (d *dirHandle) remove(name string) {
	_ = unix.Unlinkat(d.fd, name, 0)
}

func (d *dirHandle) lchown(name string, uid, gid int) error {
	if err := unix.Fchownat(d.fd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %q to %d:%d: %w", d.path(name), uid, gid, err)
	}
	return nil
}

// chmod sets the mode of a non-symlink entry (Linux cannot chmod links).
func (d *dirHandle) chmod(name string, mode uint32) error {
	if err := unix.Fchmodat(d.fd, name, mode, 0); err != nil {
		return fmt.Errorf("chmod %q to %o: %w", d.path(name), mode, err)
	}
	return nil
}

func (d *dirHandle) setTimes(name string, sec int64) error {
	ts := []unix.Timespec{unix.NsecToTimespec(sec * 1e9), unix.NsecToTimespec(sec * 1e9)}
	if err := unix.UtimesNanoAt(d.fd, name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %q: %w", d.path(name), err)
	}
	return nil
}

// setXattrs sets extended attributes on an entry that is not a symlink,
// through a descriptor opened without following links.
func (d *dirHandle) setXattrs(name string, xs []xattr, isDir bool) error {
	if len(xs) == 0 {
		return nil
	}
	flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	if isDir {
		flags |= unix.O_DIRECTORY
	}
	fd, err := unix.Openat(d.fd, name, flags, 0)
	if err != nil {
		return fmt.Errorf("open %q for xattrs: %w", d.path(name), err)
	}
	defer unix.Close(fd)
	return fdSetXattrs(fd, d.path(name), xs)
}

func fdSetXattrs(fd int, what string, xs []xattr) error {
	for _, x := range xs {
		if err := unix.Fsetxattr(fd, x.name, []byte(x.value), 0); err != nil {
			return fmt.Errorf("set xattr %q on %q: %w", x.name, what, err)
		}
	}
	return nil
}

func fdChown(fd int, what string, uid, gid int) error {
	if err := unix.Fchown(fd, uid, gid); err != nil {
		return fmt.Errorf("chown %q to %d:%d: %w", what, uid, gid, err)
	}
	return nil
}

func fdChmod(fd int, what string, mode uint32) error {
	if err := unix.Fchmod(fd, mode); err != nil {
		return fmt.Errorf("chmod %q to %o: %w", what, mode, err)
	}
	return nil
}

// File type bits of a stat mode.
const (
	typeMask    = unix.S_IFMT
	typeDir     = unix.S_IFDIR
	typeSymlink = unix.S_IFLNK
	typeReg     = unix.S_IFREG
)
