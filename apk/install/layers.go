package install

import (
	"fmt"
	"path"
)

// MergeLayers combines the installed-database fragments of image layers
// (each installed by its own Installer, in layer order) into one database,
// applying apk's file-ownership rules across layers: a path shipped by
// packages in two layers is allowed when the later package replaces the
// earlier or shares its origin (it then owns the path), or when both
// copies are identical. Within a layer the Installer has already decided.
//
// Paths are compared where they are in the image: physDir maps a
// directory as a package names it to the directory it is in the merged
// image (through usr-merge links like bin -> usr/bin, which the install
// steps followed); nil takes paths as written.
//
// A path that one layer's package has as a directory and a later layer's
// as a file or a symlink (or the other way round) is an error naming both
// packages: the later layer's entry would silently replace the earlier
// one, with everything in the directory, and apk cannot extract either
// over the other whatever the packages replace. A directory over an
// earlier layer's symlink that leads to a directory (usr-merge's lib ->
// usr/lib) is not such a conflict: the link stays and the directory is
// the one it leads to.
//
// A later layer always wins in the merged image, so a case where apk
// would keep the earlier copy with different contents (the earlier
// package replaces the later one) is an error: grouping must put such
// packages in one layer. So is a directory shipped where an earlier layer
// has a file, or a link that does not lead to a directory.
func MergeLayers(layers [][]InstalledPackage, physDir func(dir string) (string, error)) ([]InstalledPackage, error) {
	if physDir == nil {
		physDir = func(dir string) (string, error) { return dir, nil }
	}
	if err := kindConflicts(layers, physDir); err != nil {
		return nil, err
	}
	owners := map[string]*owner{}
	layerOf := map[*installed]int{}
	byName := map[string]*installed{}
	var all []*installed
	for li, layer := range layers {
		for _, rec := range layer {
			p := newInstalled(rec.clone())
			if prev := byName[p.rec.Name]; prev != nil {
				return nil, fmt.Errorf("package %s is in layers %d and %d", p.rec.Name, layerOf[prev], li)
			}
			byName[p.rec.Name] = p
			layerOf[p] = li
			phys := map[string]string{}
			for _, d := range p.rec.Dirs {
				pd, err := physDir(d.Path)
				if err == nil {
					phys[d.Path] = pd
				}
				if o := owners[pd]; err != nil || o != nil && d.Path != "" && layerOf[o.pkg] != li {
					by := "a file"
					if o != nil {
						by = nameVersion(&o.pkg.rec.Package) + " (an earlier layer)"
					}
					return nil, fmt.Errorf("package %s ships directory %s, where %s installs a file or a link that does not lead to a directory",
						nameVersion(&p.rec.Package), d.Path, by)
				}
			}
			for _, d := range p.rec.Dirs {
				for _, f := range d.Files {
					key := joinRel(phys[d.Path], path.Base(f.Path))
					o := owners[key]
					if o != nil && layerOf[o.pkg] == li {
						continue
					}
					v, err := decide(p, o, f.Path, f.Checksum)
					if err != nil {
						return nil, err
					}
					if v == verdictKeep {
						if f.Checksum != o.checksum {
							return nil, fmt.Errorf("package %s: %s must keep %s's copy, but is in a later layer",
								nameVersion(&p.rec.Package), f.Path, nameVersion(&o.pkg.rec.Package))
						}
						continue
					}
					if o != nil && f.Checksum != o.checksum {
						o.pkg.removeFile(o.dir, o.name)
					}
					owners[key] = &owner{pkg: p, dir: d.Path, name: f.Path, checksum: f.Checksum}
				}
			}
			all = append(all, p)
		}
	}
	out := make([]InstalledPackage, len(all))
	for i, p := range all {
		out[i] = p.snapshot()
	}
	return out, nil
}

// claim is the first package of a layer to ship a path.
type claim struct {
	pkg   string // name-version
	layer int
}

// kindConflicts finds a path shipped as a directory in one layer and as a
// file or symlink in another. Paths are compared with their parents
// resolved in the merged image and their last component as named: the
// later layer's entry stands there in the merged image, whatever it is.
func kindConflicts(layers [][]InstalledPackage, physDir func(dir string) (string, error)) error {
	at := func(name string) (string, bool) {
		dir, base := splitName(name)
		pd, err := physDir(dir)
		if err != nil {
			return "", false // the main pass says what is wrong with it
		}
		return joinRel(pd, base), true
	}
	dirs := map[string]claim{}  // physical path -> first package with a directory there
	files := map[string]claim{} // physical path -> first package with a file or symlink there
	for li, layer := range layers {
		for _, rec := range layer {
			nv := nameVersion(&rec.Package)
			for _, d := range rec.Dirs {
				key, ok := at(d.Path)
				if d.Path == "" || !ok {
					continue
				}
				if f, ok := files[key]; ok && f.layer != li {
					// Through an earlier symlink that leads to a directory,
					// the directory is the link's target: no conflict.
					if resolved, err := physDir(d.Path); err != nil || resolved == key {
						return fmt.Errorf("package %s ships directory %s, where %s (an earlier layer) ships a file or a symlink that does not lead to a directory: a path cannot be both",
							nv, d.Path, f.pkg)
					}
				}
				if _, ok := dirs[key]; !ok {
					dirs[key] = claim{nv, li}
				}
			}
			for _, d := range rec.Dirs {
				for _, f := range d.Files {
					key, ok := at(f.Path)
					if !ok {
						continue
					}
					if dc, ok := dirs[key]; ok && dc.layer != li {
						return fmt.Errorf("package %s ships %s as a file or a symlink, where %s (an earlier layer) ships a directory: a path cannot be both",
							nv, f.Path, dc.pkg)
					}
					if _, ok := files[key]; !ok {
						files[key] = claim{nv, li}
					}
				}
			}
		}
	}
	return nil
}
