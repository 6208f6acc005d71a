package imagefs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// tree is a read-only file system the metadata step looks things up in:
// the layers under the metadata layer (a stack) or the metadata layer
// itself. Paths are relative and, except for their last element, already
// resolved through the image's symlinks by the caller.
type tree interface {
	Lstat(name string) (fs.FileInfo, error)
	Readlink(name string) (string, error)
	ReadFile(name string) ([]byte, error)
	// ReadDir lists a directory's entries, sorted by name.
	ReadDir(name string) ([]fs.DirEntry, error)
}

// rootTree is one directory as a tree.
type rootTree struct{ *os.Root }

func (r rootTree) ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := r.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	return ents, err
}

// stack is the package layers as the image will see them, each mounted
// on its own (no merged copy of them is made for the metadata step): a
// path's directories are resolved through the symlinks of every layer, and
// the topmost layer holding the resolved path decides what it is. Install
// refuses two layers that disagree on a path's type, so a directory in one
// layer is a directory in every layer that has it, and this is what an
// overlay of the layers shows.
type stack struct {
	roots []*os.Root        // bottom first
	dirs  map[string]string // a directory as named -> its path with no symlinks
	// in lists, for a resolved directory, the layers holding it as a
	// directory, topmost first: a path is looked up only in those, so a
	// lookup costs what its layers hold, not one call per layer.
	in map[string][]int
	// at holds directories opened in one layer (a root of their own):
	// a lookup through a layer's root walks the whole path again, one
	// openat per element, and the same few directories are asked again
	// and again. Bounded, as the step's descriptors are.
	at map[layerDir]*os.Root
	// kinds lists a resolved directory of one layer: each entry's name
	// and type, read at once (getdents gives the type). Asking it whether
	// a layer holds a name costs no call where an lstat of each name in
	// each layer that may hold it cost one: the large bench image's
	// metadata step made about ten thousand.
	kinds map[layerDir]map[string]fs.FileMode
}

// layerDir is a resolved directory in one layer.
type layerDir struct {
	layer int
	dir   string
}

// maxOpenLayerDirs bounds stack.at.
const maxOpenLayerDirs = 256

func openStack(dirs []string) (*stack, error) {
	s := &stack{dirs: map[string]string{}, in: map[string][]int{}, at: map[layerDir]*os.Root{},
		kinds: map[layerDir]map[string]fs.FileMode{}}
	for _, d := range dirs {
		r, err := os.OpenRoot(d)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("open layer: %w", err)
		}
		s.roots = append(s.roots, r)
	}
	return s, nil
}

func (s *stack) Close() {
	for _, r := range s.at {
		r.Close()
	}
	for _, r := range s.roots {
		r.Close()
	}
}

// lookupIn is where to look name (a path with its directories resolved)
// up in layer i: the root of its directory there, and its last element.
// Without an open directory it is the layer's root and the whole path.
func (s *stack) lookupIn(i int, name string) (*os.Root, string) {
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" || base == "" {
		return s.roots[i], name
	}
	k := layerDir{i, dir}
	if r, ok := s.at[k]; ok {
		return r, base
	}
	if len(s.at) >= maxOpenLayerDirs {
		return s.roots[i], name
	}
	r, err := s.roots[i].OpenRoot(dir)
	if err != nil {
		return s.roots[i], name
	}
	s.at[k] = r
	return r, base
}

// kindIn is the type of name (a path with its directories resolved) in
// layer i, from its directory's listing; ok is false when layer i does
// not hold it. The directory must be one layer i holds as a directory.
func (s *stack) kindIn(i int, name string) (kind fs.FileMode, ok bool) {
	dir, base := path.Split(name)
	k := layerDir{i, strings.TrimSuffix(dir, "/")}
	names, listed := s.kinds[k]
	if !listed {
		names = map[string]fs.FileMode{}
		r, d := s.roots[i], "."
		if k.dir != "" {
			// From its parent's root, kept: one openat, not one per
			// element of the path.
			r, d = s.lookupIn(i, k.dir)
		}
		// A directory that cannot be listed holds nothing, as a failed
		// lstat of each name said.
		if f, err := r.Open(d); err == nil {
			ents, _ := f.ReadDir(-1)
			f.Close()
			for _, e := range ents {
				names[e.Name()] = e.Type()
			}
		}
		s.kinds[k] = names
	}
	kind, ok = names[base]
	return kind, ok
}

// find is the topmost layer holding name, as a root and the path of name
// with its directories resolved in it. A layer where the resolved parent
// is missing or not a directory does not hold it.
func (s *stack) find(name string) (*os.Root, fs.FileInfo, string, error) {
	dir, base := path.Split(path.Clean("/" + name))
	rd, err := s.resolveDir(dir, 0)
	if err != nil {
		return nil, nil, "", err
	}
	full := strings.TrimPrefix(path.Join("/", rd, base), "/")
	if full == "" {
		full = "."
	}
	for _, i := range s.layersWith(rd) {
		if full != "." {
			if _, ok := s.kindIn(i, full); !ok {
				continue
			}
		}
		r, rel := s.lookupIn(i, full)
		if fi, err := r.Lstat(rel); err == nil {
			return r, fi, rel, nil
		}
	}
	return nil, nil, full, &fs.PathError{Op: "lstat", Path: name, Err: fs.ErrNotExist}
}

// layersWith lists the layers that hold the resolved directory dir as a
// directory, topmost first.
func (s *stack) layersWith(dir string) []int {
	if l, ok := s.in[dir]; ok {
		return l
	}
	var out []int
	if dir == "" {
		for i := len(s.roots) - 1; i >= 0; i-- {
			out = append(out, i)
		}
	} else {
		parent := path.Dir(dir)
		if parent == "." {
			parent = ""
		}
		for _, i := range s.layersWith(parent) {
			if kind, ok := s.kindIn(i, dir); ok && kind.IsDir() {
				out = append(out, i)
			}
		}
	}
	s.in[dir] = out
	return out
}

// resolveDir is dir (absolute or relative to the image root) with every
// symlink in it followed through the layers, relative to the root;
// symlinks cannot lead above the root. Lookups repeat a lot (every applet
// link is in one of a few directories), so results are kept.
func (s *stack) resolveDir(dir string, depth int) (string, error) {
	dir = strings.TrimPrefix(path.Clean("/"+dir), "/")
	if dir == "" {
		return "", nil
	}
	if r, ok := s.dirs[dir]; ok {
		return r, nil
	}
	parent, base := path.Split(dir)
	rp, err := s.resolveDir(parent, depth)
	if err != nil {
		return "", err
	}
	cand := strings.TrimPrefix(path.Join("/", rp, base), "/")
	resolved := cand
	for _, i := range s.layersWith(rp) {
		kind, ok := s.kindIn(i, cand)
		if !ok {
			continue
		}
		if kind&fs.ModeSymlink != 0 {
			r, rel := s.lookupIn(i, cand)
			if depth >= maxSymlinks {
				return "", fmt.Errorf("too many levels of symbolic links at /%s", cand)
			}
			target, err := r.Readlink(rel)
			if err != nil {
				return "", err
			}
			if !path.IsAbs(target) {
				target = path.Join("/", rp, target)
			}
			if resolved, err = s.resolveDir(target, depth+1); err != nil {
				return "", err
			}
		}
		break
	}
	s.dirs[dir] = resolved
	return resolved, nil
}

func (s *stack) Lstat(name string) (fs.FileInfo, error) {
	_, fi, _, err := s.find(name)
	return fi, err
}

func (s *stack) Readlink(name string) (string, error) {
	r, _, full, err := s.find(name)
	if err != nil {
		return "", err
	}
	return r.Readlink(full)
}

// ReadFile reads a regular file. A symlink is not followed: inside one
// layer it could lead elsewhere than in the image (the caller resolves
// the path first).
func (s *stack) ReadFile(name string) ([]byte, error) {
	r, fi, full, err := s.find(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("not a regular file")}
	}
	return r.ReadFile(full)
}

// ReadDir merges the directory's entries from every layer that has it as
// a directory, the topmost layer's entry winning a name.
func (s *stack) ReadDir(name string) ([]fs.DirEntry, error) {
	name, err := s.resolveDir(name, 0)
	if err != nil {
		return nil, err
	}
	byName := map[string]fs.DirEntry{}
	layers := s.layersWith(name)
	if name == "" {
		name = "."
	}
	if len(layers) == 0 {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	for _, i := range layers {
		ents, err := rootTree{s.roots[i]}.ReadDir(name)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if _, ok := byName[e.Name()]; !ok {
				byName[e.Name()] = e
			}
		}
	}
	out := make([]fs.DirEntry, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}
