//go:build linux

package ocilayer

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Whiteout names, as the OCI image spec defines them.
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
	whiteoutMeta   = ".wh..wh."
	paxXattr       = "SCHILY.xattr."
	maxSymlinkHops = 40
)

// Apply applies the layer read from blob onto the directory root and
// checks its diff_id; the blob's own digest is the caller's to check
// first (VerifyBlob). On an error root is left half-applied: the build
// step that called it fails and its output is thrown away.
//
// Entries are written with the owner, mode, times and extended attributes
// their headers give. Directories the layer does not list but whose
// entries it changes keep their times, so the layer's diff names only
// what the layer changed.
func Apply(root string, blob io.Reader, d Descriptor) error {
	ts, err := openTar(blob, d)
	if err != nil {
		return err
	}
	a, err := newApplier(root)
	if err != nil {
		ts.closer()
		return err
	}
	defer a.close()
	tr := tar.NewReader(ts)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			ts.closer()
			return fmt.Errorf("read layer: %w", err)
		}
		if err := a.entry(h, tr); err != nil {
			ts.closer()
			return fmt.Errorf("%s: %w", h.Name, err)
		}
	}
	if err := ts.finish(d); err != nil {
		return err
	}
	return a.finishTimes()
}

// applier holds one application's state.
type applier struct {
	rootFd int
	// written holds the physical paths this layer wrote: an opaque marker
	// or a whiteout in the same layer must not remove them.
	written map[string]bool
	// listed are the directories the layer lists, with their times, set
	// last since writing their entries changes them.
	listed map[string][2]unix.Timespec
	// touched are directories from below whose entries the layer changed
	// without listing them: their times are put back.
	touched map[string][2]unix.Timespec
	// created are directories made only to hold an entry (the layer has
	// no entry for them): they get the zero time, not the time of the run.
	created map[string]bool
}

func newApplier(root string) (*applier, error) {
	fd, err := unix.Open(root, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", root, err)
	}
	return &applier{rootFd: fd, written: map[string]bool{}, listed: map[string][2]unix.Timespec{},
		touched: map[string][2]unix.Timespec{}, created: map[string]bool{}}, nil
}

func (a *applier) close() { unix.Close(a.rootFd) }

// cleanName checks a tar name and returns it relative to the root, with
// no "." components; "" is the root itself.
func cleanName(name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("absolute path in a layer")
	}
	var parts []string
	for _, c := range strings.Split(name, "/") {
		switch c {
		case "", ".":
		case "..":
			return "", fmt.Errorf("path leaves the layer's root")
		default:
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, "/"), nil
}

// entry applies one tar entry.
func (a *applier) entry(h *tar.Header, r io.Reader) error {
	name, err := cleanName(h.Name)
	if err != nil {
		return err
	}
	if name == "" {
		return nil // the root: the layers below own it
	}
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	for _, c := range strings.Split(dir, "/") {
		if strings.HasPrefix(c, whiteoutPrefix) {
			return fmt.Errorf("a whiteout name as a directory")
		}
	}
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return fmt.Errorf("entry type %q is not applied by kiln", h.Typeflag)
	}
	// Whiteouts name what they remove; they create nothing.
	if base == whiteoutOpaque {
		return a.opaque(dir)
	}
	if strings.HasPrefix(base, whiteoutMeta) {
		return fmt.Errorf("unknown whiteout %q", base)
	}
	if gone, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
		if gone == "" || gone == "." || gone == ".." {
			return fmt.Errorf("whiteout of %q", gone)
		}
		return a.whiteout(dir, gone)
	}

	pfd, pdir, err := a.openDir(dir, true)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	phys := join(pdir, base)
	if err := a.touch(pfd, pdir); err != nil {
		return err
	}
	var st unix.Stat_t
	exists := true
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); errors.Is(err, unix.ENOENT) {
		exists = false
	} else if err != nil {
		return fmt.Errorf("lstat: %w", err)
	}
	// Anything but a directory over a directory replaces what is there.
	if exists && !(h.Typeflag == tar.TypeDir && st.Mode&unix.S_IFMT == unix.S_IFDIR) {
		if err := removeAllAt(pfd, base); err != nil {
			return err
		}
		exists = false
	}
	a.written[phys] = true
	mode := uint32(h.Mode) & 0o7777
	switch h.Typeflag {
	case tar.TypeDir:
		if !exists {
			if err := unix.Mkdirat(pfd, base, 0o700); err != nil {
				return fmt.Errorf("mkdir: %w", err)
			}
		}
		delete(a.created, phys)
		a.listed[phys] = times(h)
		return a.setMeta(pfd, base, h, mode, true)
	case tar.TypeReg:
		fd, err := unix.Openat(pfd, base, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return fmt.Errorf("create: %w", err)
		}
		f := os.NewFile(uintptr(fd), phys)
		if n, err := io.Copy(f, r); err != nil || n != h.Size {
			f.Close()
			return fmt.Errorf("write %d of %d bytes: %v", n, h.Size, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := a.setMeta(pfd, base, h, mode, true); err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := unix.Symlinkat(h.Linkname, pfd, base); err != nil {
			return fmt.Errorf("symlink: %w", err)
		}
		if err := a.setMeta(pfd, base, h, mode, false); err != nil {
			return err
		}
	case tar.TypeLink:
		if err := a.hardlink(pfd, base, h.Linkname); err != nil {
			return err
		}
		return nil // a link shares its target's metadata
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[h.Typeflag]
		dev := unix.Mkdev(uint32(h.Devmajor), uint32(h.Devminor))
		if err := unix.Mknodat(pfd, base, kind|mode, int(dev)); err != nil {
			return fmt.Errorf("mknod: %w", err)
		}
		if err := a.setMeta(pfd, base, h, mode, true); err != nil {
			return err
		}
	}
	ts := times(h)
	return utimes(pfd, base, ts)
}

// setMeta sets owner, then mode (chown clears setuid bits), then the
// extended attributes. Symlinks have no mode of their own.
func (a *applier) setMeta(pfd int, base string, h *tar.Header, mode uint32, hasMode bool) error {
	if err := unix.Fchownat(pfd, base, h.Uid, h.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %d:%d: %w", h.Uid, h.Gid, err)
	}
	if !hasMode {
		return nil
	}
	if err := unix.Fchmodat(pfd, base, mode, 0); err != nil {
		return fmt.Errorf("chmod %o: %w", mode, err)
	}
	return setXattrs(pfd, base, h)
}

// setXattrs sets the entry's extended attributes. Those that say something about the file
// (user.*, file capabilities, POSIX ACLs) are set; SELinux labels belong
// to the host that built the layer and are dropped, as Docker drops them;
// anything else (trusted.*, which overlayfs keeps its own state in) is
// refused.
func setXattrs(pfd int, base string, h *tar.Header) error {
	var names []string
	for k := range h.PAXRecords {
		if n, ok := strings.CutPrefix(k, paxXattr); ok {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	// Through the directory's descriptor, without opening the entry (a
	// device node must not be opened) or following it.
	p := fmt.Sprintf("/proc/self/fd/%d/%s", pfd, base)
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "user."), n == "security.capability",
			n == "system.posix_acl_access", n == "system.posix_acl_default":
		case n == "security.selinux":
			continue
		default:
			return fmt.Errorf("extended attribute %q is not applied by kiln", n)
		}
		if err := unix.Lsetxattr(p, n, []byte(h.PAXRecords[paxXattr+n]), 0); err != nil {
			return fmt.Errorf("set xattr %s: %w", n, err)
		}
	}
	return nil
}

// hardlink links base (in directory pfd) to the layer path target, which
// a lower layer or this one put there.
func (a *applier) hardlink(pfd int, base, target string) error {
	name, err := cleanName(target)
	if err != nil {
		return fmt.Errorf("hard link to %q: %w", target, err)
	}
	if name == "" {
		return fmt.Errorf("hard link to the root")
	}
	tdir, tbase := path.Split(name)
	tfd, _, err := a.openDir(strings.TrimSuffix(tdir, "/"), false)
	if err != nil {
		return fmt.Errorf("hard link to %q: %w", target, err)
	}
	defer unix.Close(tfd)
	var st unix.Stat_t
	if err := unix.Fstatat(tfd, tbase, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("hard link to %q: %w", target, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Errorf("hard link to directory %q", target)
	}
	if err := unix.Linkat(tfd, tbase, pfd, base, 0); err != nil {
		return fmt.Errorf("hard link to %q: %w", target, err)
	}
	return nil
}

// whiteout removes dir/name from the layers below.
func (a *applier) whiteout(dir, name string) error {
	pfd, pdir, err := a.openDir(dir, false)
	if errors.Is(err, unix.ENOENT) {
		return nil // nothing below to hide
	}
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	if a.written[join(pdir, name)] {
		return nil // a whiteout hides only what is below its own layer
	}
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); errors.Is(err, unix.ENOENT) {
		return nil
	} else if err != nil {
		return err
	}
	if err := a.touch(pfd, pdir); err != nil {
		return err
	}
	return removeAllAt(pfd, name)
}

// opaque empties dir of everything the layers below put there.
func (a *applier) opaque(dir string) error {
	pfd, pdir, err := a.openDir(dir, true)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	names, err := readDirNames(pfd)
	if err != nil {
		return err
	}
	for _, n := range names {
		if a.written[join(pdir, n)] {
			continue
		}
		if err := a.touch(pfd, pdir); err != nil {
			return err
		}
		if err := removeAllAt(pfd, n); err != nil {
			return err
		}
	}
	return nil
}

// touch records the times of a directory from below before its entries
// change, once.
func (a *applier) touch(fd int, phys string) error {
	if _, ok := a.touched[phys]; ok || a.written[phys] || a.created[phys] {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	a.touched[phys] = [2]unix.Timespec{st.Atim, st.Mtim}
	return nil
}

// openDir opens directory dir (a layer path) with the root as the image's
// root: symlinks on the way are followed, absolute ones from the root,
// and ".." never climbs above it. With create, missing directories are
// made (root-owned, 0755, as other unpackers make them). It returns the
// descriptor and the physical path.
func (a *applier) openDir(dir string, create bool) (int, string, error) {
	fd, err := unix.Dup(a.rootFd)
	if err != nil {
		return -1, "", err
	}
	var cur []string
	todo := splitPath(dir)
	hops := 0
	fail := func(err error) (int, string, error) {
		unix.Close(fd)
		return -1, "", err
	}
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) > 0 {
				cur = cur[:len(cur)-1]
				nfd, err := a.reopen(cur)
				if err != nil {
					return fail(err)
				}
				unix.Close(fd)
				fd = nfd
			}
			continue
		}
		var st unix.Stat_t
		err := unix.Fstatat(fd, c, &st, unix.AT_SYMLINK_NOFOLLOW)
		switch {
		case errors.Is(err, unix.ENOENT):
			if !create {
				return fail(fmt.Errorf("%s: %w", join(strings.Join(cur, "/"), c), unix.ENOENT))
			}
			if err := a.touch(fd, strings.Join(cur, "/")); err != nil {
				return fail(err)
			}
			if err := unix.Mkdirat(fd, c, 0o755); err != nil {
				return fail(fmt.Errorf("mkdir %s: %w", join(strings.Join(cur, "/"), c), err))
			}
			if err := unix.Fchmodat(fd, c, 0o755, 0); err != nil {
				return fail(err)
			}
			a.created[join(strings.Join(cur, "/"), c)] = true
		case err != nil:
			return fail(err)
		case st.Mode&unix.S_IFMT == unix.S_IFLNK:
			if hops++; hops > maxSymlinkHops {
				return fail(fmt.Errorf("too many symlinks under %s", dir))
			}
			target, err := readlinkAt(fd, c)
			if err != nil {
				return fail(err)
			}
			if path.IsAbs(target) {
				cur = nil
				nfd, err := unix.Dup(a.rootFd)
				if err != nil {
					return fail(err)
				}
				unix.Close(fd)
				fd = nfd
			}
			todo = append(splitPath(target), todo...)
			continue
		case st.Mode&unix.S_IFMT != unix.S_IFDIR:
			return fail(fmt.Errorf("%s is not a directory", join(strings.Join(cur, "/"), c)))
		}
		nfd, err := unix.Openat(fd, c, unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fail(fmt.Errorf("open %s: %w", join(strings.Join(cur, "/"), c), err))
		}
		unix.Close(fd)
		fd = nfd
		cur = append(cur, c)
	}
	return fd, strings.Join(cur, "/"), nil
}

// reopen opens a physical directory path (no symlinks in it) from the root.
func (a *applier) reopen(cur []string) (int, error) {
	fd, err := unix.Dup(a.rootFd)
	if err != nil {
		return -1, err
	}
	for _, c := range cur {
		nfd, err := unix.Openat(fd, c, unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			return -1, err
		}
		fd = nfd
	}
	return fd, nil
}

// finishTimes sets the times of the directories the layer lists, puts
// back those of directories below it only changed entries in, and gives
// the directories made to hold entries the zero time.
func (a *applier) finishTimes() error {
	zero := unix.NsecToTimespec(0)
	set := func(phys string, ts [2]unix.Timespec) error {
		if phys == "" {
			return unix.UtimesNanoAt(a.rootFd, ".", ts[:], unix.AT_SYMLINK_NOFOLLOW)
		}
		fd, err := a.reopen(splitPath(path.Dir(phys)))
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return utimes(fd, path.Base(phys), ts)
	}
	for phys, ts := range a.touched {
		if _, ok := a.listed[phys]; ok {
			continue
		}
		if err := set(phys, ts); err != nil {
			return fmt.Errorf("restore times of %s: %w", phys, err)
		}
	}
	for phys := range a.created {
		if err := set(phys, [2]unix.Timespec{zero, zero}); err != nil {
			return fmt.Errorf("set times of %s: %w", phys, err)
		}
	}
	for phys, ts := range a.listed {
		if err := set(phys, ts); err != nil {
			return fmt.Errorf("set times of %s: %w", phys, err)
		}
	}
	return nil
}

func times(h *tar.Header) [2]unix.Timespec {
	at := h.AccessTime
	if at.IsZero() {
		at = h.ModTime
	}
	return [2]unix.Timespec{timespec(at), timespec(h.ModTime)}
}

func timespec(t time.Time) unix.Timespec {
	if t.IsZero() {
		return unix.NsecToTimespec(0)
	}
	return unix.NsecToTimespec(t.UnixNano())
}

func utimes(fd int, name string, ts [2]unix.Timespec) error {
	if err := unix.UtimesNanoAt(fd, name, ts[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times: %w", err)
	}
	return nil
}

// removeAllAt removes name in directory fd, and everything under it,
// never following a symlink.
func removeAllAt(fd int, name string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); errors.Is(err, unix.ENOENT) {
		return nil
	} else if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		if err := unix.Unlinkat(fd, name, 0); err != nil {
			return fmt.Errorf("remove %s: %w", name, err)
		}
		return nil
	}
	dfd, err := unix.Openat(fd, name, unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	names, err := readDirNames(dfd)
	if err == nil {
		for _, n := range names {
			if err = removeAllAt(dfd, n); err != nil {
				break
			}
		}
	}
	unix.Close(dfd)
	if err != nil {
		return err
	}
	if err := unix.Unlinkat(fd, name, unix.AT_REMOVEDIR); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// readDirNames lists a directory given by descriptor (which stays open).
func readDirNames(fd int) ([]string, error) {
	dup, err := unix.Dup(fd)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(dup), "dir")
	defer f.Close()
	// The copy shares the offset: start from the top whatever read before.
	if _, err := unix.Seek(dup, 0, io.SeekStart); err != nil {
		return nil, err
	}
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read directory: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

func readlinkAt(fd int, name string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(fd, name, buf)
		if err != nil {
			return "", fmt.Errorf("readlink %s: %w", name, err)
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, 2*len(buf))
	}
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
