package imagefs

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/kiln-build/kiln/ocilayer"
	"github.com/kiln-build/kiln/step"
)

// ApplyLayer runs the apply-layer step: one base image layer, checked
// and applied onto the layers below it; on the top layer, the base's
// directory symlinks recorded for the steps above.
func ApplyLayer(s step.ApplyLayer) error {
	d := ocilayer.Descriptor{MediaType: s.MediaType, Digest: s.Digest, DiffID: s.DiffID}
	if err := ocilayer.ApplyFile(s.Rootfs, s.Blob, d); err != nil {
		return err
	}
	if s.Links == "" {
		return nil
	}
	return recordBaseLinks(s.Rootfs, s.Links, s.Tree)
}

// recordBaseLinks writes the base's links record (what the install steps
// resolve package paths through, as they do for the package layers
// below them) and the same links as a tree: the metadata step sees it
// under the package layers, so it writes through a usr-merged /lib or
// /bin of the base instead of hiding it with a directory, as apko would.
func recordBaseLinks(rootfs, linksDir, treeDir string) error {
	v, err := newLayerView("")
	if err != nil {
		return err
	}
	defer v.close()
	if err := v.push(rootfs); err != nil {
		return err
	}
	links, err := v.collectLinks()
	if err != nil {
		return err
	}
	if err := writeLinksFile(linksDir, links); err != nil {
		return err
	}
	base := v.roots[0]
	tree, err := os.OpenRoot(treeDir)
	if err != nil {
		return err
	}
	defer tree.Close()
	for _, l := range links {
		if err := copyParents(base, tree, path.Dir(l.Path)); err != nil {
			return fmt.Errorf("link tree: %w", err)
		}
		if err := tree.Symlink(l.Target, l.Path); err != nil {
			return fmt.Errorf("link tree: %w", err)
		}
		if fi, err := base.Lstat(l.Path); err == nil {
			uid, gid := owner(fi)
			if err := tree.Lchown(l.Path, uid, gid); err != nil {
				return fmt.Errorf("link tree: %w", err)
			}
		}
	}
	return nil
}

// copyParents makes dir and its parents in to, with the owners and modes
// they have in from (dir is a physical path there: no symlinks in it).
func copyParents(from, to *os.Root, dir string) error {
	cur := ""
	for _, c := range strings.Split(dir, "/") {
		if c == "" || c == "." {
			continue
		}
		cur = path.Join(cur, c)
		if _, err := to.Lstat(cur); err == nil {
			continue
		}
		fi, err := from.Lstat(cur)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory in the base", cur)
		}
		if err := to.Mkdir(cur, 0o700); err != nil {
			return err
		}
		uid, gid := owner(fi)
		if err := to.Lchown(cur, uid, gid); err != nil {
			return err
		}
		if err := to.Chmod(cur, fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
			return err
		}
	}
	return nil
}
