package install

import (
	"io/fs"
	"sort"
)

// place settles ownership of a freshly created temporary entry: it either
// replaces the path (taking ownership) or is dropped in favour of the
// installed file.
func (ex *extraction) place(t *target, tmp string, rec FileRecord) error {
	in := ex.in
	o := in.owners[t.phys]
	v, err := decide(ex.pkg, o, t.name, rec.Checksum)
	if err != nil || v == verdictKeep {
		t.d.remove(tmp)
		return err
	}
	if err := t.d.setTimes(tmp, in.opts.SourceDateEpoch); err != nil {
		t.d.remove(tmp)
		return err
	}
	if err := t.d.rename(tmp, t.base, t.hardlink); err != nil {
		return err
	}
	if o != nil {
		o.pkg.removeFile(o.dir, o.name)
	}
	ex.pkg.addFile(t.dirName, rec)
	in.owners[t.phys] = &owner{pkg: ex.pkg, dir: t.dirName, name: rec.Path, checksum: rec.Checksum}
	delete(ex.files, t.phys)
	return nil
}

// finish applies what has to wait until directories are filled: the
// modes of directories created (so a 0555 directory could be written
// into) and the times of every directory written into.
func (in *Installer) finish() error {
	dirs := make([]string, 0, len(in.pendingModes))
	for p := range in.pendingModes {
		dirs = append(dirs, p)
	}
	sort.Strings(dirs)
	for _, p := range dirs {
		d, name, err := in.parentOf(p)
		if err != nil {
			return err
		}
		if err := d.chmod(name, in.pendingModes[p]); err != nil {
			return err
		}
	}
	clear(in.pendingModes)
	for p := range in.touched {
		d, name, err := in.parentOf(p)
		if err != nil {
			return err
		}
		if err := d.setTimes(name, in.opts.SourceDateEpoch); err != nil {
			return err
		}
	}
	clear(in.touched)
	return nil
}

// parentOf returns the open directory holding the entry at physical path
// p and the entry's name in it; the root itself is "." in the root.
func (in *Installer) parentOf(p string) (*dirHandle, string, error) {
	if p == "" {
		d, err := in.dirAt("")
		return d, ".", err
	}
	dir, base := splitName(p)
	d, err := in.dirAt(dir)
	return d, base, err
}

// FileMode converts Unix permission bits (07777, as the installed database
// and apko's numeric permissions write them) to an fs.FileMode.
func FileMode(m uint32) fs.FileMode {
	fm := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		fm |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		fm |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		fm |= fs.ModeSticky
	}
	return fm
}
