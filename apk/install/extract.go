package install

import (
	"archive/tar"
	"crypto/sha1"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/kiln-build/kiln/apk/index"
)

// Install extracts a package's data section into the root and records it
// as installed. p.Replaces and p.ReplacesPriority decide file conflicts.
// On error the root is left partly written and should be discarded.
func (in *Installer) Install(p *index.Package, data DataReader, ctl Control) error {
	if p == nil || p.Name == "" {
		return errors.New("install: package without a name")
	}
	if in.opts.DatabaseOnly {
		return fmt.Errorf("install %s: the root holds an installed database only", p.Name)
	}
	nv := nameVersion(p)
	if prev := in.byName[p.Name]; prev != nil {
		return fmt.Errorf("install %s: %s is already installed", nv, nameVersion(&prev.rec.Package))
	}
	rec := InstalledPackage{Package: *p, Scripts: scriptsByType(ctl.Scripts), Triggers: slices.Clone(ctl.Triggers)}
	rec = rec.clone()
	ex := &extraction{in: in, pkg: newInstalled(rec), files: map[string]FileRecord{},
		declared: p.InstalledSize, limit: SizeAllowance(p.InstalledSize)}
	for {
		hdr, err := data.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("install %s: read archive: %w", nv, err)
		}
		if err := ex.entry(hdr, data); err != nil {
			return fmt.Errorf("install %s: %w", nv, err)
		}
	}
	if err := in.finish(); err != nil {
		return fmt.Errorf("install %s: %w", nv, err)
	}
	// Read p again: a reader may complete it at the end of the data
	// (pkg.Reader sets Size once the whole file is read).
	ex.pkg.rec.Package = (&InstalledPackage{Package: *p}).clone().Package
	in.pkgs = append(in.pkgs, ex.pkg)
	in.byName[p.Name] = ex.pkg
	return nil
}

// extraction is the state of one Install.
type extraction struct {
	in    *Installer
	pkg   *installed
	files map[string]FileRecord // regular files extracted so far, by physical path (hard link targets)

	declared uint64 // the package's installed size (I:)
	limit    uint64 // SizeAllowance(declared)
	written  uint64 // bytes of file contents written so far
}

// Slack allowed over a package's declared installed size before
// extraction stops: see SizeAllowance.
const (
	SizeSlackFactor = 2
	SizeSlackMin    = 16 << 20
)

// SizeAllowance is how many bytes of file contents a package declaring an
// installed size of declared bytes may write: SizeSlackFactor times the
// declaration, and at least SizeSlackMin bytes more. Real declarations
// are at or above the bytes written (abuild rounds up to disk blocks,
// melange sums every entry), so the slack only absorbs odd builders,
// while a package that declares kilobytes cannot fill the disk.
func SizeAllowance(declared uint64) uint64 {
	if declared > (math.MaxUint64-SizeSlackMin)/SizeSlackFactor {
		return math.MaxUint64
	}
	return max(SizeSlackFactor*declared, declared+SizeSlackMin)
}

// ErrTooBig marks extraction stopped because a package wrote more than
// its declared size allows, or an Installer more than MaxTotalSize.
var ErrTooBig = errors.New("size limit exceeded")

// reserve counts size bytes of file contents against the package's and
// the Installer's bounds before they are written.
func (ex *extraction) reserve(name string, size int64) error {
	n := uint64(size)
	if ex.written+n < ex.written || ex.written+n > ex.limit {
		return fmt.Errorf("%q: %w: %d bytes of files would be written, the package declares an installed size of %d bytes (allowed: %d)",
			name, ErrTooBig, ex.written+n, ex.declared, ex.limit)
	}
	in := ex.in
	if in.written+n < in.written || in.written+n > in.maxTotal {
		return fmt.Errorf("%q: %w: %d bytes of files would be written in this install step, more than its limit of %d bytes",
			name, ErrTooBig, in.written+n, in.maxTotal)
	}
	ex.written += n
	in.written += n
	return nil
}

// target is where one entry goes.
type target struct {
	name    string // cleaned archive path
	dirName string // its directory as the archive names it ("" for the root)
	base    string
	phys    string // physical path relative to the root
	d       *dirHandle
	mode    uint32 // permission bits with setuid/setgid/sticky
	xattrs  []xattr
	// hardlink: the entry is a hard link, whose temporary name may be a
	// link to the very file it replaces (rename then does nothing).
	hardlink bool
}

func (ex *extraction) entry(hdr *tar.Header, r io.Reader) error {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "" || hidden(name) {
		return nil
	}
	if err := notWhiteout(name); err != nil {
		return err
	}
	dirName, base := splitName(name)
	if hdr.Typeflag != tar.TypeDir && strings.HasPrefix(base, ".keep_") {
		return nil // placeholder apk does not install
	}
	if hdr.Uid < 0 || hdr.Gid < 0 {
		return fmt.Errorf("%q: negative owner %d:%d", name, hdr.Uid, hdr.Gid)
	}
	physDir, err := ex.in.makeDir(dirName)
	if err != nil {
		return fmt.Errorf("%q: %w", name, err)
	}
	d, err := ex.in.dirAt(physDir)
	if err != nil {
		return fmt.Errorf("%q: %w", name, err)
	}
	t := &target{
		name: name, dirName: dirName, base: base,
		phys: joinRel(physDir, base), d: d,
		mode:   uint32(hdr.Mode) & 0o7777,
		xattrs: headerXattrs(hdr.PAXRecords),
	}
	if err := checkXattrs(t.xattrs); err != nil {
		return fmt.Errorf("%q: %w", name, err)
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return ex.dir(t, hdr)
	case tar.TypeReg:
		return ex.file(t, hdr, r)
	case tar.TypeSymlink:
		return ex.symlink(t, hdr)
	case tar.TypeLink:
		return ex.hardlink(t, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		// apko refuses them too: an image's devices come from the
		// runtime, and a package has no business creating one.
		return fmt.Errorf("%q: %w: %s", name, ErrSpecialFile, specialKind[hdr.Typeflag])
	}
	return fmt.Errorf("%q: unsupported entry type %q", name, hdr.Typeflag)
}

func (ex *extraction) dir(t *target, hdr *tar.Header) error {
	in := ex.in
	st, exists, err := t.d.stat(t.base)
	if err != nil {
		return err
	}
	if e, below := in.lower(t.phys); !exists && below && e.Symlink != "" {
		// A directory entry over a lower layer's symlink (usr-merge's
		// bin -> usr/bin) keeps the link, as apk does in one tree: the
		// directory it leads to is made here if this layer lacks it.
		if _, err := in.makeDir(t.name); err != nil {
			return fmt.Errorf("%q: the symlink below does not lead to a directory: %w", t.name, err)
		}
	} else if exists {
		switch st.Mode & typeMask {
		case typeDir:
			// Within one package the last header of a directory wins;
			// a directory an earlier package created keeps its mode.
			if _, ok := in.pendingModes[t.phys]; ok {
				in.pendingModes[t.phys] = t.mode
			}
		case typeSymlink:
			// A directory entry over a symlink (usr-merge's lib -> usr/lib)
			// keeps the link if it leads to a directory inside the root.
			if _, err := in.resolveDir(t.name); err != nil {
				if o := in.owners[t.phys]; o != nil && o.pkg != ex.pkg {
					return fmt.Errorf("%q: the symlink %s installed there does not lead to a directory: %w", t.name, nameVersion(&o.pkg.rec.Package), err)
				}
				return fmt.Errorf("%q: existing symlink does not lead to a directory: %w", t.name, err)
			}
		default:
			if o := in.owners[t.phys]; o != nil && o.pkg != ex.pkg {
				return fmt.Errorf("%q: cannot create a directory, a file or symlink of %s is in the way", t.name, nameVersion(&o.pkg.rec.Package))
			}
			return fmt.Errorf("%q: cannot create a directory, a non-directory is in the way", t.name)
		}
	} else {
		if err := t.d.mkdir(t.base); err != nil {
			return err
		}
		if in.chown {
			if err := t.d.lchown(t.base, hdr.Uid, hdr.Gid); err != nil {
				return err
			}
		}
		if err := t.d.setXattrs(t.base, t.xattrs, true); err != nil {
			return err
		}
		in.pendingModes[t.phys] = t.mode
		in.touched[t.phys] = struct{}{}
		in.touched[t.d.phys] = struct{}{}
	}
	if _, ok := in.dirOwners[t.phys]; !ok {
		in.dirOwners[t.phys] = ex.pkg
	}
	dr := ex.pkg.dir(t.name)
	dr.UID, dr.GID, dr.Mode, dr.XattrDigest = hdr.Uid, hdr.Gid, t.mode, xattrDigest(t.xattrs)
	delete(ex.files, t.phys)
	return nil
}

// notDirInWay fails when the entry's path is a directory: only a
// directory entry may stand there. The error names the package that
// shipped the directory when it is another one.
func (ex *extraction) notDirInWay(t *target) error {
	st, exists, err := t.d.stat(t.base)
	if err != nil {
		return err
	}
	if exists && st.Mode&typeMask == typeDir {
		if o := ex.in.dirOwners[t.phys]; o != nil && o != ex.pkg {
			return fmt.Errorf("%q: a directory of %s is in the way", t.name, nameVersion(&o.rec.Package))
		}
		return fmt.Errorf("%q: a directory is in the way", t.name)
	}
	return nil
}

func (ex *extraction) file(t *target, hdr *tar.Header, r io.Reader) error {
	in := ex.in
	if err := ex.notDirInWay(t); err != nil {
		return err
	}
	if err := ex.reserve(t.name, hdr.Size); err != nil {
		return err
	}
	want, err := headerChecksum(hdr.PAXRecords)
	if err != nil {
		return fmt.Errorf("%q: %w", t.name, err)
	}
	// A reader that checks the header's checksum has hashed the contents
	// already: the record takes its sum.
	summer, hashed := r.(contentSummer)
	var h hash.Hash
	var w io.Writer
	if !hashed || want == "" {
		h = sha1.New()
		w = h
	}
	tmp, err := t.d.writeFile(r, hdr.Size, w, func(fd int) error {
		what := t.d.path(t.base)
		if in.chown {
			if err := fdChown(fd, what, hdr.Uid, hdr.Gid); err != nil {
				return err
			}
		}
		if err := fdChmod(fd, what, t.mode); err != nil {
			return err
		}
		return fdSetXattrs(fd, what, t.xattrs)
	})
	if err != nil {
		return fmt.Errorf("%q: %w", t.name, err)
	}
	in.touched[t.d.phys] = struct{}{}
	var raw []byte
	if h != nil {
		raw = h.Sum(nil)
	} else if got, ok, serr := summer.ContentSHA1(); serr != nil {
		err = serr
	} else if !ok {
		err = errors.New("the package reader hashed no contents though the header has a checksum")
	} else {
		raw = got
	}
	sum := q1(raw)
	if err == nil && want != "" && want != sum {
		err = fmt.Errorf("contents have checksum %s, header says %s", sum, want)
	}
	if err != nil {
		t.d.remove(tmp)
		return fmt.Errorf("%q: %w", t.name, err)
	}
	rec := ex.record(t, hdr, sum)
	if err := ex.place(t, tmp, rec); err != nil {
		return err
	}
	if in.owners[t.phys] != nil && in.owners[t.phys].pkg == ex.pkg {
		ex.files[t.phys] = rec
	}
	return nil
}

func (ex *extraction) symlink(t *target, hdr *tar.Header) error {
	in := ex.in
	if hdr.Linkname == "" {
		return fmt.Errorf("%q: symlink without a target", t.name)
	}
	sum := sha1Q1([]byte(hdr.Linkname))
	if want, err := headerChecksum(hdr.PAXRecords); err != nil {
		return fmt.Errorf("%q: %w", t.name, err)
	} else if want != "" && want != sum {
		return fmt.Errorf("%q: symlink target %q has checksum %s, header says %s", t.name, hdr.Linkname, sum, want)
	}
	if err := ex.notDirInWay(t); err != nil {
		return err
	}
	tmp, err := t.d.symlink(hdr.Linkname)
	if err != nil {
		return fmt.Errorf("%q: symlink: %w", t.name, err)
	}
	in.touched[t.d.phys] = struct{}{}
	// A symlink's xattrs are recorded (they are part of its a: line) but
	// not set, as apk does: Linux refuses user.* on symlinks, and the
	// kernel reads no security attribute from one.
	if in.chown {
		if err := t.d.lchown(tmp, hdr.Uid, hdr.Gid); err != nil {
			t.d.remove(tmp)
			return fmt.Errorf("%q: %w", t.name, err)
		}
	}
	if err := ex.place(t, tmp, ex.record(t, hdr, sum)); err != nil {
		return err
	}
	in.dropResolved()
	return nil
}

func (ex *extraction) hardlink(t *target, hdr *tar.Header) error {
	in := ex.in
	lname, err := cleanName(hdr.Linkname)
	if err == nil && lname == "" {
		err = fmt.Errorf("%w: hard link to the root", ErrUnsafePath)
	}
	if err != nil {
		return fmt.Errorf("%q: hard link target: %w", t.name, err)
	}
	ldir, lbase := splitName(lname)
	lphysDir, err := in.resolveDir(ldir)
	if err != nil {
		return fmt.Errorf("%q: hard link target %q: %w", t.name, lname, err)
	}
	src, ok := ex.files[joinRel(lphysDir, lbase)]
	if !ok {
		return fmt.Errorf("%w: %q: hard link target %q is not a file this package installed", ErrUnsafePath, t.name, lname)
	}
	sd, err := in.dirAt(lphysDir)
	if err != nil {
		return fmt.Errorf("%q: %w", t.name, err)
	}
	// Resolving the target's directory may have opened others since t.d
	// was (and closed it): take it again; the two are the most recent.
	if t.d, err = in.dirAt(t.d.phys); err != nil {
		return fmt.Errorf("%q: %w", t.name, err)
	}
	if err := ex.notDirInWay(t); err != nil {
		return err
	}
	t.hardlink = true
	tmp, err := t.d.link(sd, lbase)
	if err != nil {
		return fmt.Errorf("%q: hard link to %q: %w", t.name, lname, err)
	}
	in.touched[t.d.phys] = struct{}{}
	return ex.place(t, tmp, ex.record(t, hdr, src.Checksum))
}

func (ex *extraction) record(t *target, hdr *tar.Header, sum string) FileRecord {
	return FileRecord{
		Path: t.name, UID: hdr.Uid, GID: hdr.Gid, Mode: t.mode,
		XattrDigest: xattrDigest(t.xattrs), Checksum: sum,
	}
}
