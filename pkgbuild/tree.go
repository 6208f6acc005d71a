package pkgbuild

import (
	"archive/tar"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// dirSize is what melange counts for each directory in the installed
// size: it sums the on-disk sizes its walk reports, 4096 for a directory
// on ext4 and overlayfs. A fixed value keeps the size independent of the
// builder's filesystem.
const dirSize = 4096

// ignoredXattrs are extended attributes a build host adds that say
// nothing about the package (melange leaves the same ones out).
var ignoredXattrs = map[string]bool{
	"com.apple.provenance":          true,
	"security.csm":                  true,
	"security.selinux":              true,
	"com.docker.grpcfuse.ownership": true,
	"trusted.SGI_ACL_FILE":          true,
	"trusted.SGI_ACL_DEFAULT":       true,
}

// node is one entry of the package tree, in write order.
type node struct {
	name     string // relative, no leading or trailing slash
	typ      byte   // tar.TypeDir, TypeReg, TypeSymlink or TypeLink
	mode     int64  // permission, setuid, setgid and sticky bits
	uid, gid int
	size     int64  // regular files
	link     string // symlink target, or the first name of a hard link
	xattrs   map[string]string
	sha1     [sha1.Size]byte
	sha256   [sha256.Size]byte
	data     []byte // contents of a generated file (not on disk)
	dev, ino uint64 // identity of an on-disk regular file
	elf      bool   // a regular file (or a hard link to one) starting with the ELF magic
}

// tree is a scanned output directory.
type tree struct {
	root  *os.Root
	nodes []*node
}

// scanOptions say how on-disk owners map to package owners.
type scanOptions struct {
	uidMap, gidMap map[int]int
}

// scan walks dir without following any symlink, in the order the data
// section is written (each directory's entries by name, a directory
// right before its contents), hashing every regular file.
func scan(ctx context.Context, dir string, opts scanOptions) (*tree, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open package directory: %w", err)
	}
	t := &tree{root: root}
	seen := map[[2]uint64]*node{} // (dev, inode) → first of its names, for hard links
	if err := t.walk(ctx, root, ".", opts, seen); err != nil {
		root.Close()
		return nil, err
	}
	return t, nil
}

// walk scans the directory d (named dir in the tree). Entries are
// reached from their directory's own handle, so each costs one lookup.
func (t *tree) walk(ctx context.Context, d *os.Root, dir string, opts scanOptions, seen map[[2]uint64]*node) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := d.Open(".")
	if err != nil {
		return fmt.Errorf("open directory %q: %w", dir, err)
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("read directory %q: %w", dir, err)
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	for _, e := range entries {
		base := e.Name()
		name := path.Join(dir, base)
		if err := checkName(name); err != nil {
			return err
		}
		fi, err := d.Lstat(base)
		if err != nil {
			return fmt.Errorf("%q: %w", name, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("%q: no owner information", name)
		}
		n := &node{name: name, mode: tarMode(fi.Mode()), uid: remap(int(st.Uid), opts.uidMap), gid: remap(int(st.Gid), opts.gidMap)}
		switch m := fi.Mode(); {
		case m.IsDir():
			n.typ = tar.TypeDir
			t.nodes = append(t.nodes, n)
			sub, err := d.OpenRoot(base)
			if err != nil {
				return fmt.Errorf("open directory %q: %w", name, err)
			}
			err = t.walk(ctx, sub, name, opts, seen)
			sub.Close()
			if err != nil {
				return err
			}
			continue
		case m&fs.ModeSymlink != 0:
			n.typ = tar.TypeSymlink
			if n.link, err = d.Readlink(base); err != nil {
				return fmt.Errorf("%q: %w", name, err)
			}
			if n.link == "" {
				return fmt.Errorf("%q: symlink with an empty target", name)
			}
		case m.IsRegular():
			key := [2]uint64{uint64(st.Dev), st.Ino}
			if first, ok := seen[key]; ok && st.Nlink > 1 {
				n.typ, n.link, n.elf = tar.TypeLink, first.name, first.elf
				break
			}
			seen[key] = n
			n.typ, n.size, n.dev, n.ino = tar.TypeReg, fi.Size(), key[0], key[1]
			if err := n.hash(d, base); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%q: %s files cannot go in a package", name, fileKind(fi.Mode()))
		}
		t.nodes = append(t.nodes, n)
	}
	return nil
}

// checkName refuses names apk's database cannot hold: it is a line-based
// text file, so a control character would break it.
func checkName(name string) error {
	if strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return fmt.Errorf("%q: file name has a control character", name)
	}
	return nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "irregular"
}

func remap(id int, m map[int]int) int {
	if to, ok := m[id]; ok {
		return to
	}
	return id
}

// tarMode converts an fs.FileMode to tar's permission bits, keeping
// setuid, setgid and sticky.
func tarMode(m fs.FileMode) int64 {
	v := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return v
}

// openRegular opens an on-disk regular file, base in directory d, and
// checks it is still the file scanned (a build step must not change its
// output while it is packaged).
func (n *node) open(d *os.Root, base string) (*os.File, error) {
	f, err := d.OpenFile(base, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", n.name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%q: %w", n.name, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.Mode().IsRegular() || uint64(st.Dev) != n.dev || st.Ino != n.ino || fi.Size() != n.size {
		f.Close()
		return nil, fmt.Errorf("%q changed while it was being packaged", n.name)
	}
	return f, nil
}

// hash computes a regular file's SHA-1 (apk's per-file checksum) and
// SHA-256 (the SBOM's) in one read, notes whether it starts with the ELF
// magic, and reads its extended attributes.
func (n *node) hash(d *os.Root, base string) error {
	f, err := n.open(d, base)
	if err != nil {
		return err
	}
	defer f.Close()
	h1, h256 := sha1.New(), sha256.New()
	head := &headWriter{}
	got, err := io.Copy(io.MultiWriter(h1, h256, head), f)
	if err != nil {
		return fmt.Errorf("%q: %w", n.name, err)
	}
	if got != n.size {
		return fmt.Errorf("%q changed while it was being packaged", n.name)
	}
	h1.Sum(n.sha1[:0])
	h256.Sum(n.sha256[:0])
	n.elf = head.n == len(head.b) && string(head.b[:]) == elf.ELFMAG
	n.xattrs, err = readXattrs(f)
	if err != nil {
		return fmt.Errorf("%q: %w", n.name, err)
	}
	return nil
}

// headWriter keeps the first bytes written to it.
type headWriter struct {
	b [len(elf.ELFMAG)]byte
	n int
}

func (h *headWriter) Write(p []byte) (int, error) {
	if h.n < len(h.b) {
		h.n += copy(h.b[h.n:], p)
	}
	return len(p), nil
}

// readXattrs lists a file's extended attributes. A filesystem without
// them is not an error.
func readXattrs(f *os.File) (attrs map[string]string, err error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	cerr := rc.Control(func(fd uintptr) { attrs, err = fdXattrs(int(fd)) })
	if cerr != nil {
		return nil, cerr
	}
	return attrs, err
}

func fdXattrs(fd int) (map[string]string, error) {
	size, err := unix.Flistxattr(fd, nil)
	if err != nil {
		if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP) {
			return nil, nil
		}
		return nil, fmt.Errorf("list extended attributes: %w", err)
	}
	if size == 0 {
		return nil, nil
	}
	buf := make([]byte, size)
	size, err = unix.Flistxattr(fd, buf)
	if err != nil {
		return nil, fmt.Errorf("list extended attributes: %w", err)
	}
	var out map[string]string
	for _, name := range strings.Split(strings.TrimRight(string(buf[:size]), "\x00"), "\x00") {
		if name == "" || ignoredXattrs[name] {
			continue
		}
		vsize, err := unix.Fgetxattr(fd, name, nil)
		if err != nil {
			return nil, fmt.Errorf("extended attribute %s: %w", name, err)
		}
		val := make([]byte, vsize)
		if vsize > 0 {
			if vsize, err = unix.Fgetxattr(fd, name, val); err != nil {
				return nil, fmt.Errorf("extended attribute %s: %w", name, err)
			}
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = string(val[:vsize])
	}
	return out, nil
}

// installedSize is the .PKGINFO size as melange computes it: the sizes
// its walk of the output directory reports, the directory itself
// included, each hard link counted again.
func (t *tree) installedSize() uint64 {
	total := uint64(dirSize)
	sizes := map[string]int64{}
	for _, n := range t.nodes {
		if n.typ == tar.TypeReg {
			sizes[n.name] = n.size
		}
	}
	for _, n := range t.nodes {
		switch n.typ {
		case tar.TypeDir:
			total += dirSize
		case tar.TypeSymlink:
			total += uint64(len(n.link))
		case tar.TypeReg:
			total += uint64(n.size)
		case tar.TypeLink:
			total += uint64(sizes[n.link])
		}
	}
	return total
}

func (t *tree) byName(name string) *node {
	for _, n := range t.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// addGenerated puts a file the packager writes (the SBOM) into the tree
// with its missing parent directories (root-owned, 0755), replacing a
// file of the same name; it refuses to replace anything else.
func (t *tree) addGenerated(name string, data []byte) error {
	var parents []string
	for d := path.Dir(name); d != "."; d = path.Dir(d) {
		parents = append(parents, d)
	}
	slices.Reverse(parents)
	for _, d := range parents {
		if n := t.byName(d); n != nil {
			if n.typ != tar.TypeDir {
				return fmt.Errorf("%q must be a directory to hold %s, but it is not", d, name)
			}
			continue
		}
		t.insert(&node{name: d, typ: tar.TypeDir, mode: 0o755})
	}
	f := &node{name: name, typ: tar.TypeReg, mode: 0o644, size: int64(len(data)), data: data}
	f.sha1 = sha1.Sum(data)
	f.sha256 = sha256.Sum256(data)
	if old := t.byName(name); old != nil {
		if old.typ != tar.TypeReg && old.typ != tar.TypeLink {
			return fmt.Errorf("%q is where the package's SBOM goes, but it is not a regular file", name)
		}
		for _, n := range t.nodes {
			if n.typ == tar.TypeLink && n.link == name {
				return fmt.Errorf("%q is where the package's SBOM goes, but other files are hard links to it", name)
			}
		}
		*old = *f
		return nil
	}
	t.insert(f)
	return nil
}

// insert places n in write order.
func (t *tree) insert(n *node) {
	i, _ := slices.BinarySearchFunc(t.nodes, n.name, func(a *node, name string) int { return comparePaths(a.name, name) })
	t.nodes = slices.Insert(t.nodes, i, n)
}

// comparePaths orders paths component by component: a directory sorts
// right before its contents ("a", "a/b", "a-b"), as a walk visits them.
func comparePaths(a, b string) int {
	for a != "" && b != "" {
		ca, ra, _ := strings.Cut(a, "/")
		cb, rb, _ := strings.Cut(b, "/")
		if c := strings.Compare(ca, cb); c != 0 {
			return c
		}
		a, b = ra, rb
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}
