package install

// Lower is what the layers below an Installer's root hold, as far as
// extraction needs to know: each image layer is installed into a root of
// its own, yet apk would install into one tree, following the symlinks
// earlier packages made (usr-merge's bin -> usr/bin) instead of shadowing
// them with a directory.
type Lower interface {
	// Lookup describes the physical path p (relative to the image root)
	// in the layers below, if they have something there.
	Lookup(p string) (LowerEntry, bool)
}

// LowerEntry is a path in the layers below: a symlink (Symlink is its
// target) or a directory with its metadata.
type LowerEntry struct {
	Symlink  string
	Dir      bool
	Mode     uint32 // permission bits, for a directory
	UID, GID int
}

// Lookups of a path that is in no layer.
var noLower LowerEntry

// lower looks p up below the root; without a Lower nothing is there.
func (in *Installer) lower(p string) (LowerEntry, bool) {
	if in.opts.Lower == nil {
		return noLower, false
	}
	return in.opts.Lower.Lookup(p)
}
