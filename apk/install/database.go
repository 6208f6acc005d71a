package install

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// DatabaseFiles is what WriteDatabase writes besides the package
// database itself.
type DatabaseFiles struct {
	World        []string          // etc/apk/world: written sorted, one per line
	Repositories []string          // etc/apk/repositories: in order, one per line
	Arch         string            // etc/apk/arch, when set
	Keys         map[string][]byte // etc/apk/keys/<name>
}

// LoadDatabase reads the installed database (and its scripts.tar and
// triggers) already under the root, so later installs see which package
// owns which file. A root without a database is empty, not an error.
func (in *Installer) LoadDatabase() error {
	dbData, err := in.readRootFile(in.opts.DBPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load installed database: %w", err)
	}
	pkgs, err := ReadDatabase(bytes.NewReader(dbData))
	if err != nil {
		return fmt.Errorf("load %s: %w", in.opts.DBPath, err)
	}
	added, err := in.addInstalled(pkgs)
	if err != nil {
		return fmt.Errorf("load %s: %w", in.opts.DBPath, err)
	}
	byChecksum := map[string]*installed{}
	for _, p := range added {
		if p.rec.Checksum != "" {
			byChecksum[p.rec.Checksum] = p
		}
	}
	dbDir := path.Dir(in.opts.DBPath)
	if b, err := in.readRootFile(path.Join(dbDir, "scripts.tar")); err == nil {
		if err := readScriptsTar(bytes.NewReader(b), byChecksum); err != nil {
			return fmt.Errorf("load %s: %w", path.Join(dbDir, "scripts.tar"), err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if b, err := in.readRootFile(path.Join(dbDir, "triggers")); err == nil {
		if err := readTriggers(bytes.NewReader(b), byChecksum); err != nil {
			return fmt.Errorf("load %s: %w", path.Join(dbDir, "triggers"), err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// AddInstalled registers packages installed elsewhere (a lower layer's
// database fragment, say) as already installed, for conflict checks and
// for WriteDatabase. Their files are not touched.
func (in *Installer) AddInstalled(pkgs []InstalledPackage) error {
	_, err := in.addInstalled(pkgs)
	return err
}

func (in *Installer) addInstalled(pkgs []InstalledPackage) ([]*installed, error) {
	added := make([]*installed, 0, len(pkgs))
	for i := range pkgs {
		rec := pkgs[i].clone()
		if rec.Name == "" {
			return nil, errors.New("installed package without a name")
		}
		if prev := in.byName[rec.Name]; prev != nil {
			return nil, fmt.Errorf("package %s is listed twice (also %s)", nameVersion(&rec.Package), nameVersion(&prev.rec.Package))
		}
		p := newInstalled(rec)
		for _, d := range p.rec.Dirs {
			if key := in.physKey(d.Path); d.Path != "" && in.dirOwners[key] == nil {
				in.dirOwners[key] = p
			}
			for _, f := range d.Files {
				if clean, err := cleanName(f.Path); err != nil || clean != f.Path {
					return nil, fmt.Errorf("package %s: bad file path %q", nameVersion(&rec.Package), f.Path)
				}
				key := in.physKey(f.Path)
				// apko lists files shared with identical contents under
				// every package; the first stays the owner.
				if in.owners[key] == nil {
					in.owners[key] = &owner{pkg: p, dir: d.Path, name: f.Path, checksum: f.Checksum}
				}
			}
		}
		in.pkgs = append(in.pkgs, p)
		in.byName[rec.Name] = p
		added = append(added, p)
	}
	return added, nil
}

// InstalledDB renders the installed database of every known package.
func (in *Installer) InstalledDB() []byte { return EncodeInstalled(in.Packages()) }

// ScriptsTar renders scripts.tar for every known package.
func (in *Installer) ScriptsTar() ([]byte, error) {
	var b bytes.Buffer
	if err := WriteScriptsTar(&b, in.Packages(), in.opts.SourceDateEpoch); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Triggers renders the triggers file for every known package.
func (in *Installer) Triggers() []byte { return AppendTriggers(nil, in.Packages()) }

// WriteDatabase writes the installed database, scripts.tar and triggers
// next to it, and the etc/apk files, creating missing directories as
// root-owned 0755. Files are root-owned 0644 with mtime SourceDateEpoch.
func (in *Installer) WriteDatabase(files DatabaseFiles) error {
	scripts, err := in.ScriptsTar()
	if err != nil {
		return fmt.Errorf("write database: %w", err)
	}
	dbDir := path.Dir(in.opts.DBPath)
	out := []struct {
		name string
		data []byte
	}{
		{in.opts.DBPath, in.InstalledDB()},
		{path.Join(dbDir, "scripts.tar"), scripts},
		{path.Join(dbDir, "triggers"), in.Triggers()},
		{"etc/apk/world", lines(sortedUnique(files.World))},
		{"etc/apk/repositories", lines(files.Repositories)},
	}
	if files.Arch != "" {
		out = append(out, struct {
			name string
			data []byte
		}{"etc/apk/arch", []byte(files.Arch + "\n")})
	}
	keys := make([]string, 0, len(files.Keys))
	for k := range files.Keys {
		if k == "" || k == "." || k == ".." || strings.ContainsAny(k, "/\x00") {
			return fmt.Errorf("write database: bad key file name %q", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, struct {
			name string
			data []byte
		}{"etc/apk/keys/" + k, files.Keys[k]})
	}
	if len(keys) > 0 {
		if _, err := in.ensureDir("etc/apk/keys"); err != nil {
			return fmt.Errorf("write database: %w", err)
		}
	}
	for _, f := range out {
		if err := in.writeRootFile(f.name, f.data); err != nil {
			return fmt.Errorf("write database: %w", err)
		}
	}
	return in.finish()
}

func lines(ss []string) []byte {
	var b []byte
	for _, s := range ss {
		b = append(b, s...)
		b = append(b, '\n')
	}
	return b
}

func sortedUnique(ss []string) []string {
	out := append([]string(nil), ss...)
	sort.Strings(out)
	j := 0
	for i, s := range out {
		if i == 0 || s != out[j-1] {
			out[j] = s
			j++
		}
	}
	return out[:j]
}

// readRootFile reads a regular file at an archive-style path, resolving
// its directory under the root.
func (in *Installer) readRootFile(name string) ([]byte, error) {
	dir, base := splitName(name)
	phys, err := in.resolveDir(dir)
	if err != nil {
		return nil, err
	}
	d, err := in.dirAt(phys)
	if err != nil {
		return nil, err
	}
	return d.readFile(base)
}

// writeRootFile replaces name with a root-owned 0644 file holding data.
func (in *Installer) writeRootFile(name string, data []byte) error {
	dir, base := splitName(name)
	phys, err := in.ensureDir(dir)
	if err != nil {
		return err
	}
	d, err := in.dirAt(phys)
	if err != nil {
		return err
	}
	if st, ok, err := d.stat(base); err != nil {
		return err
	} else if ok && st.Mode&typeMask == typeDir {
		return fmt.Errorf("%q: a directory is in the way", name)
	}
	tmp, err := d.writeFile(bytes.NewReader(data), int64(len(data)), nil, func(fd int) error {
		if in.chown {
			if err := fdChown(fd, name, 0, 0); err != nil {
				return err
			}
		}
		return fdChmod(fd, name, defaultFileMode)
	})
	if err != nil {
		return fmt.Errorf("%q: %w", name, err)
	}
	in.touched[phys] = struct{}{}
	if err := d.setTimes(tmp, in.opts.SourceDateEpoch); err != nil {
		d.remove(tmp)
		return err
	}
	return d.rename(tmp, base, false)
}

// ensureDir resolves directory dir under the root, creating missing
// components as root-owned 0755 directories, and returns its physical
// path. Directories are opened through dirAt, as the extraction opens
// them, so a lookup after a mkdir finds the parent's handle open.
func (in *Installer) ensureDir(dir string) (string, error) {
	phys := ""
	prefix := ""
	for _, c := range splitRel(dir) {
		prefix = joinRel(prefix, c)
		next, err := in.resolveDir(prefix)
		if err == nil {
			phys = next
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		d, err := in.dirAt(phys)
		if err != nil {
			return "", err
		}
		err = d.mkdir(c)
		if err == nil && in.chown {
			err = d.lchown(c, 0, 0)
		}
		if err != nil {
			return "", err
		}
		in.touched[phys] = struct{}{}
		phys = joinRel(phys, c)
		in.pendingModes[phys] = defaultDirMode
		in.touched[phys] = struct{}{}
	}
	return phys, nil
}
