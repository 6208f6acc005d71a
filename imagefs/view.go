package imagefs

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/kiln-build/kiln/apk/install"
	"github.com/kiln-build/kiln/step"
)

// layerView is what an install batch knows of the layers below the one it
// is installing: its own earlier layers, whole, and the earlier batches'
// symlinks from their links record.
type layerView struct {
	roots []*os.Root        // this batch's installed layers, bottom first
	trees []layerTree       // what each root holds, read once it is installed
	links map[string]string // earlier batches' symlinks: path -> target
	// lookups, when not nil, collects the paths Lookup answered from
	// links: what the batches below told this one (step.LookupsFile).
	lookups map[string]bool
}

// maxLinks bounds the links record a step reads.
const maxLinks = 1 << 20

func newLayerView(lowerDir string) (*layerView, error) {
	v := &layerView{links: map[string]string{}}
	if lowerDir == "" {
		return v, nil
	}
	data, err := os.ReadFile(filepath.Join(lowerDir, step.LinksFile))
	if err != nil {
		return nil, fmt.Errorf("links record of the layers below: %w", err)
	}
	var links []step.Link
	if err := json.Unmarshal(data, &links); err != nil {
		return nil, fmt.Errorf("links record of the layers below: %w", err)
	}
	if len(links) > maxLinks {
		return nil, fmt.Errorf("links record of the layers below: %d entries", len(links))
	}
	for _, l := range links {
		v.links[l.Path] = l.Target
	}
	return v, nil
}

// push adds an installed layer on top of the view.
func (v *layerView) push(dir string) error {
	tree, err := readLayerTree(dir)
	if err != nil {
		return fmt.Errorf("reading the installed layer %s: %w", dir, err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	v.roots = append(v.roots, r)
	v.trees = append(v.trees, tree)
	return nil
}

// lstat describes p in layer i as an lstat through its root would: from
// the layer's tree, or from the root itself when a directory on the way
// to p is a symlink there (rare: the root's lstat follows it).
func (v *layerView) lstat(i int, p string) (treeEntry, bool) {
	if e, ok := v.trees[i].entries[p]; ok {
		return e, true
	}
	if !v.trees[i].linkOnTheWay(p) {
		return treeEntry{}, false
	}
	fi, err := v.roots[i].Lstat(p)
	if err != nil {
		return treeEntry{}, false
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := v.roots[i].Readlink(p)
		if err != nil {
			return treeEntry{}, false
		}
		return treeEntry{kind: treeSymlink, entry: install.LowerEntry{Symlink: target}}, true
	case fi.IsDir():
		e := install.LowerEntry{Dir: true, Mode: uint32(fi.Mode().Perm())}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			e.Mode = st.Mode & 0o7777
			e.UID, e.GID = int(st.Uid), int(st.Gid)
		}
		return treeEntry{kind: treeDir, entry: e}, true
	case fi.Mode().IsRegular():
		return treeEntry{kind: treeFile}, true
	}
	return treeEntry{kind: treeOther}, true
}

func (v *layerView) close() {
	for _, r := range v.roots {
		r.Close()
	}
}

// Lookup implements install.Lower: the topmost layer that has p decides.
func (v *layerView) Lookup(p string) (install.LowerEntry, bool) {
	for i := len(v.roots) - 1; i >= 0; i-- {
		e, ok := v.lstat(i, p)
		switch {
		case !ok:
			continue
		case e.kind == treeFile || e.kind == treeOther:
			return install.LowerEntry{}, false // a file: nothing to go through
		}
		return e.entry, true
	}
	if v.lookups != nil {
		v.lookups[p] = true
	}
	if target, ok := v.links[p]; ok {
		return install.LowerEntry{Symlink: target}, true
	}
	return install.LowerEntry{}, false
}

// writeLookups writes the paths Lookup answered from the links record
// (step.LookupsFile) and stops collecting them.
func (v *layerView) writeLookups(dir string) error {
	paths := make([]string, 0, len(v.lookups))
	for p := range v.lookups {
		paths = append(paths, p)
	}
	v.lookups = nil
	sort.Strings(paths)
	return writeJSONFile(dir, step.LookupsFile, paths)
}

// writeLinks writes the links record for the next batch: the earlier
// batches' links and this batch's, except those known to lead to a
// regular file.
func (v *layerView) writeLinks(dir string) error {
	out, err := v.collectLinks()
	if err != nil {
		return err
	}
	return writeLinksFile(dir, out)
}

func writeLinksFile(dir string, links []step.Link) error {
	return writeJSONFile(dir, step.LinksFile, links)
}

// writeJSONFile writes v as JSON into dir/name: the records the steps
// leave for each other (links, lookups, os-release files, a verdict).
func writeJSONFile(dir, name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), data, 0o644)
}

// collectLinks lists the links writeLinks records, sorted by path.
func (v *layerView) collectLinks() ([]step.Link, error) {
	all := map[string]string{}
	for p, t := range v.links {
		all[p] = t
	}
	for _, t := range v.trees {
		for p, e := range t.entries {
			if e.kind == treeSymlink {
				all[p] = e.entry.Symlink
			}
		}
	}
	out := []step.Link{}
	for p, t := range all {
		if !v.leadsToFile(p, t) {
			out = append(out, step.Link{Path: p, Target: t})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// leadsToFile reports whether the symlink at p (to target) ends, through
// the view, at a regular file this batch holds.
func (v *layerView) leadsToFile(p, target string) bool {
	cur := target
	if !path.IsAbs(cur) {
		cur = path.Join("/", path.Dir(p), cur)
	}
	for hops := 0; hops < 40; hops++ {
		rel := strings.TrimPrefix(path.Clean(cur), "/")
		if rel == "" {
			return false
		}
		resolved, ok := v.resolveParents(rel)
		if !ok {
			return false
		}
		e, found, isFile := v.stat(resolved)
		switch {
		case isFile:
			return true
		case !found || e.Symlink == "":
			return false
		}
		next := e.Symlink
		if !path.IsAbs(next) {
			next = path.Join("/", path.Dir(resolved), next)
		}
		cur = next
	}
	return false
}

// resolveParents follows symlinks in every component of rel but the last.
func (v *layerView) resolveParents(rel string) (string, bool) {
	dir, base := path.Split(rel)
	parts := splitPath(dir)
	var cur []string
	for hops := 0; len(parts) > 0; {
		c := parts[0]
		parts = parts[1:]
		p := strings.Join(append(append([]string{}, cur...), c), "/")
		e, found, isFile := v.stat(p)
		switch {
		case isFile:
			return "", false
		case found && e.Symlink != "":
			if hops++; hops > 40 {
				return "", false
			}
			if path.IsAbs(e.Symlink) {
				cur = nil
			}
			parts = append(splitPath(e.Symlink), parts...)
		default:
			if c == ".." {
				if len(cur) == 0 {
					return "", false
				}
				cur = cur[:len(cur)-1]
			} else if c != "." {
				cur = append(cur, c)
			}
		}
	}
	return strings.Join(append(cur, base), "/"), true
}

// stat is Lookup that also says when p is a regular file in this batch.
func (v *layerView) stat(p string) (e install.LowerEntry, found, isFile bool) {
	for i := len(v.roots) - 1; i >= 0; i-- {
		te, ok := v.lstat(i, p)
		if !ok {
			continue
		}
		if te.kind == treeFile {
			return e, true, true
		}
		break
	}
	e, found = v.Lookup(p)
	return e, found, false
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
