package install

import (
	"fmt"
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
	if err := t.d.rename(tmp, t.base); err != nil {
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
		if err := in.root.Chmod(p, FileMode(in.pendingModes[p])); err != nil {
			return fmt.Errorf("chmod directory %q: %w", p, err)
		}
	}
	clear(in.pendingModes)
	for p := range in.touched {
		name := p
		if name == "" {
			name = "."
		}
		if err := in.root.Chtimes(name, in.epoch, in.epoch); err != nil {
			return fmt.Errorf("set times of directory %q: %w", p, err)
		}
	}
	clear(in.touched)
	return nil
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
