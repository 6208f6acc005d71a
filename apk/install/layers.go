package install

import "fmt"

// MergeLayers combines the installed-database fragments of image layers
// (each installed by its own Installer, in layer order) into one database,
// applying apk's file-ownership rules across layers: a path shipped by
// packages in two layers is allowed when the later package replaces the
// earlier or shares its origin (it then owns the path), or when both
// copies are identical. Within a layer the Installer has already decided.
//
// A later layer always wins in the merged image, so a case where apk
// would keep the earlier copy with different contents (the earlier
// package replaces the later one) is an error: grouping must put such
// packages in one layer. So is a directory shipped over a path an earlier
// layer made a file or symlink (a usr-merge link like lib -> usr/lib):
// apk would write through the link, but layers are installed apart and
// the directory would hide it in the merged image.
func MergeLayers(layers [][]InstalledPackage) ([]InstalledPackage, error) {
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
			for _, d := range p.rec.Dirs {
				if o := owners[d.Path]; o != nil && d.Path != "" && layerOf[o.pkg] != li {
					return nil, fmt.Errorf("package %s ships directory %s, which %s (an earlier layer) installs as a file or symlink; "+
						"kiln cannot merge a directory over a link across layers yet (put both in one layer with layering: {strategy: origin})",
						nameVersion(&p.rec.Package), d.Path, nameVersion(&o.pkg.rec.Package))
				}
			}
			for _, d := range p.rec.Dirs {
				for _, f := range d.Files {
					o := owners[f.Path]
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
					owners[f.Path] = &owner{pkg: p, dir: d.Path, name: f.Path, checksum: f.Checksum}
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
