package imagefs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"
)

// layerFS is the view the metadata step works through: lower is the
// package layers (read-only), out is the metadata layer being written.
// Reads see out over lower, as the final image will.
type layerFS struct {
	lower   *stack
	out     *os.Root
	outPath string // out's directory, for what os.Root cannot do (mknod)
	epoch   time.Time
	written []string // paths created in out, for the final mtime pass
}

const maxSymlinks = 40

// lstat looks a path up in out, then lower, and says which one has it.
func (l *layerFS) lstat(p string) (fs.FileInfo, tree, error) {
	rel := strings.TrimPrefix(p, "/")
	if rel == "" {
		rel = "."
	}
	if l.out != nil {
		if fi, err := l.out.Lstat(rel); err == nil {
			return fi, rootTree{l.out}, nil
		}
	}
	fi, err := l.lower.Lstat(rel)
	if err != nil {
		return nil, nil, err
	}
	return fi, l.lower, nil
}

// resolveParent follows symlinks in every component of p but the last,
// inside the image root, so a write to /bin/ls on a usr-merged image lands
// in /usr/bin/ls instead of shadowing the /bin symlink with a directory.
func (l *layerFS) resolveParent(p string) (string, error) {
	p = path.Clean("/" + p)
	dir, base := path.Split(p)
	resolved, err := l.resolve(dir, 0)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", p, err)
	}
	return path.Join(resolved, base), nil
}

func (l *layerFS) resolve(p string, depth int) (string, error) {
	cur := "/"
	parts := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	for i, part := range parts {
		if part == "" {
			continue
		}
		next := path.Join(cur, part)
		fi, root, err := l.lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			return path.Join(append([]string{next}, parts[i+1:]...)...), nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if depth >= maxSymlinks {
			return "", fmt.Errorf("too many levels of symbolic links at %s", next)
		}
		target, err := root.Readlink(strings.TrimPrefix(next, "/"))
		if err != nil {
			return "", err
		}
		if !path.IsAbs(target) {
			target = path.Join(cur, target)
		}
		// Absolute targets are relative to the image root; Clean keeps ".."
		// from climbing above it.
		rest := path.Join(append([]string{"/", target}, parts[i+1:]...)...)
		return l.resolve(rest, depth+1)
	}
	return cur, nil
}

// mkdirAll creates dir in out, copying mode and owner of each component
// from lower when it exists there, so the metadata layer never changes a
// package directory's metadata. dir must already be resolved.
func (l *layerFS) mkdirAll(dir string) error {
	cur := ""
	for _, part := range strings.Split(strings.Trim(path.Clean("/"+dir), "/"), "/") {
		if part == "" {
			continue
		}
		cur = path.Join(cur, part)
		if fi, err := l.out.Lstat(cur); err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("mkdir /%s: exists and is not a directory", cur)
			}
			continue
		}
		mode, uid, gid := fs.FileMode(0o755), 0, 0
		if fi, err := l.lower.Lstat(cur); err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("mkdir /%s: a package ships it as a non-directory", cur)
			}
			mode = fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
			uid, gid = owner(fi)
		}
		if err := l.out.Mkdir(cur, 0o700); err != nil {
			return fmt.Errorf("mkdir /%s: %w", cur, err)
		}
		if err := l.setMeta(cur, mode, uid, gid); err != nil {
			return err
		}
	}
	return nil
}

// setMeta sets owner then mode (chown clears setuid bits) and records the
// path for the mtime pass.
func (l *layerFS) setMeta(rel string, mode fs.FileMode, uid, gid int) error {
	if err := l.out.Lchown(rel, uid, gid); err != nil {
		return fmt.Errorf("chown /%s: %w", rel, err)
	}
	if err := l.out.Chmod(rel, mode); err != nil {
		return fmt.Errorf("chmod /%s: %w", rel, err)
	}
	l.written = append(l.written, rel)
	return nil
}

// prepare resolves p through the image's symlinks and creates its parent
// directories in out, returning the path to create, relative to out.
func (l *layerFS) prepare(p string) (string, error) {
	rp, err := l.resolveParent(p)
	if err != nil {
		return "", err
	}
	if err := l.mkdirAll(path.Dir(rp)); err != nil {
		return "", err
	}
	return strings.TrimPrefix(rp, "/"), nil
}

// writeFile writes a generated regular file at p (resolved through lower's
// symlinks), creating parents as mkdirAll does.
func (l *layerFS) writeFile(p string, data []byte, mode fs.FileMode, uid, gid int) error {
	rel, err := l.prepare(p)
	if err != nil {
		return err
	}
	if err := l.out.WriteFile(rel, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return l.setMeta(rel, mode, uid, gid)
}

// symlink creates p -> target in out.
func (l *layerFS) symlink(target, p string) error {
	rel, err := l.prepare(p)
	if err != nil {
		return err
	}
	if err := l.out.Symlink(target, rel); err != nil {
		return fmt.Errorf("symlink %s -> %s: %w", p, target, err)
	}
	if err := l.out.Lchown(rel, 0, 0); err != nil {
		return fmt.Errorf("chown %s: %w", p, err)
	}
	l.written = append(l.written, rel)
	return nil
}

// readFile reads p as the image will see it (out over lower), following
// symlinks inside the image root. A missing file is (nil, nil).
func (l *layerFS) readFile(p string) ([]byte, error) {
	rp, err := l.resolve(p, 0)
	if err != nil {
		return nil, err
	}
	rel := strings.TrimPrefix(rp, "/")
	if b, err := l.out.ReadFile(rel); err == nil {
		return b, nil
	}
	b, err := l.lower.ReadFile(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// fixTimes sets every written path's mtime to the epoch, deepest first so
// directory times are not disturbed by their children afterwards. Each
// directory is opened once (through out, so it cannot lead outside it)
// and its entries are set relative to it: a metadata layer of busybox
// links has hundreds in a few directories.
func (l *layerFS) fixTimes() error {
	dirs := map[string]*os.File{}
	defer func() {
		for _, d := range dirs {
			d.Close()
		}
	}()
	for i := len(l.written) - 1; i >= 0; i-- {
		rel := l.written[i]
		dir, base := path.Split(rel)
		dir = strings.TrimSuffix(dir, "/")
		if dir == "" {
			dir = "."
		}
		d, ok := dirs[dir]
		if !ok {
			var err error
			if d, err = l.out.Open(dir); err != nil {
				return fmt.Errorf("set mtime of /%s: %w", rel, err)
			}
			dirs[dir] = d
		}
		if err := lchtimesAt(d, base, l.epoch); err != nil {
			return fmt.Errorf("set mtime of /%s: %w", rel, err)
		}
	}
	return nil
}

func owner(fi fs.FileInfo) (int, int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return 0, 0
}
