package pkgbuild

import (
	"archive/tar"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"slices"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/pkgbuild/internal/pargzip"
)

// gzipLevel is fixed because the datahash, the index checksum and the
// signature cover compressed bytes: the same tree must compress to the
// same bytes (klauspost/compress, pinned in go.mod, as apk/pkg uses).
const gzipLevel = 6

const paxXattrPrefix = "SCHILY.xattr."

// copyBufSize is the read size for file contents.
const copyBufSize = 1 << 20

// header is n's tar header in the data section: owners and modes from
// the tree, every time SOURCE_DATE_EPOCH, apk's SHA-1 PAX record on files
// and symlinks, extended attributes on files.
func (n *node) header(mtime time.Time) *tar.Header {
	h := &tar.Header{
		Typeflag: n.typ,
		Name:     n.name,
		Linkname: n.link,
		Mode:     n.mode,
		Uid:      n.uid,
		Gid:      n.gid,
		ModTime:  mtime,
		Format:   tar.FormatPAX,
	}
	if n.uid == 0 {
		h.Uname = "root"
	}
	if n.gid == 0 {
		h.Gname = "root"
	}
	pax := map[string]string{}
	switch n.typ {
	case tar.TypeReg:
		h.Size = n.size
		pax[pkg.PAXChecksum] = hex.EncodeToString(n.sha1[:])
		for k, v := range n.xattrs {
			pax[paxXattrPrefix+k] = v
		}
	case tar.TypeSymlink:
		s := sha1.Sum([]byte(n.link))
		pax[pkg.PAXChecksum] = hex.EncodeToString(s[:])
	}
	if len(pax) > 0 {
		h.PAXRecords = pax
	}
	return h
}

// writeData writes the data section (a gzip member holding a complete
// tar) to w and returns its SHA-256, the .PKGINFO datahash. File contents
// are read again from disk and must still match the scanned checksum.
func (t *tree) writeData(w io.Writer, mtime time.Time) (string, error) {
	digest := sha256.New()
	// Compressed on every core, in blocks fixed in size: the bytes do
	// not depend on the number of cores.
	zw, err := pargzip.NewWriter(io.MultiWriter(w, digest), gzipLevel, 0)
	if err != nil {
		return "", err
	}
	defer zw.Close() // stops the workers on early returns
	tw := tar.NewWriter(zw)
	buf := make([]byte, copyBufSize)
	sum := sha1.New()
	dirs := &dirCache{top: t.root}
	defer dirs.close()
	for _, n := range t.nodes {
		if err := tw.WriteHeader(n.header(mtime)); err != nil {
			return "", fmt.Errorf("data section: %q: %w", n.name, err)
		}
		if n.typ != tar.TypeReg {
			continue
		}
		if n.data != nil {
			if _, err := tw.Write(n.data); err != nil {
				return "", fmt.Errorf("data section: %q: %w", n.name, err)
			}
			continue
		}
		d, err := dirs.get(path.Dir(n.name))
		if err != nil {
			return "", err
		}
		if err := n.copyTo(tw, d, sum, buf); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", fmt.Errorf("data section: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("data section: %w", err)
	}
	return hex.EncodeToString(digest.Sum(nil)), nil
}

// dirCache holds the directory of the files being written; the data
// section visits each directory's files together.
type dirCache struct {
	top  *os.Root
	name string
	cur  *os.Root
}

func (c *dirCache) get(dir string) (*os.Root, error) {
	if dir == "." {
		return c.top, nil
	}
	if c.cur != nil && c.name == dir {
		return c.cur, nil
	}
	c.close()
	r, err := c.top.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open directory %q: %w", dir, err)
	}
	c.name, c.cur = dir, r
	return r, nil
}

func (c *dirCache) close() {
	if c.cur != nil {
		c.cur.Close()
		c.cur = nil
	}
}

// copyTo writes a file's contents, which must still have the SHA-1 the
// scan put in its header.
func (n *node) copyTo(w io.Writer, d *os.Root, sum hash.Hash, buf []byte) error {
	f, err := n.open(d, path.Base(n.name))
	if err != nil {
		return err
	}
	defer f.Close()
	sum.Reset()
	got, err := io.CopyBuffer(io.MultiWriter(w, sum), io.LimitReader(f, n.size), buf)
	if err != nil {
		return fmt.Errorf("data section: %q: %w", n.name, err)
	}
	if got != n.size || !bytes.Equal(sum.Sum(nil), n.sha1[:]) {
		return fmt.Errorf("%q changed while it was being packaged", n.name)
	}
	return nil
}

// controlSection writes .PKGINFO and the other control files as a tar
// without end-of-archive blocks (apk reads the members as one stream),
// .PKGINFO first and the rest by name, scriptlets executable.
func controlSection(pkginfo []byte, files map[string][]byte, mtime time.Time) ([]byte, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzipLevel)
	if err != nil {
		return nil, err
	}
	zw.ModTime = time.Unix(0, 0)
	tw := tar.NewWriter(zw)
	add := func(name string, body []byte) error {
		mode := int64(0o644)
		if slices.Contains(pkg.ScriptNames, name) {
			mode = 0o755
		}
		h := &tar.Header{
			Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body)),
			Uname: "root", Gname: "root", ModTime: mtime, Format: tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("control section: %q: %w", name, err)
		}
		_, err := tw.Write(body)
		return err
	}
	if err := add(pkg.PkgInfoFile, pkginfo); err != nil {
		return nil, err
	}
	for _, n := range names {
		if err := add(n, files[n]); err != nil {
			return nil, err
		}
	}
	if err := tw.Flush(); err != nil {
		return nil, fmt.Errorf("control section: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("control section: %w", err)
	}
	return buf.Bytes(), nil
}
