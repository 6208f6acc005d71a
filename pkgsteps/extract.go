package pkgsteps

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/kiln-build/kiln/step"
)

// Extract runs melange-extract: it checks the fetched file against its
// digests, then unpacks it into Dir as `tar -x --no-same-owner
// --strip-components=N` would, refusing anything that would land outside
// Dir (absolute names, .. components, links leading out).
func Extract(s step.MelangeExtract) error {
	if err := checkDigests(s.Archive, s.SHA256, s.SHA512); err != nil {
		return err
	}
	if s.Dir == "" {
		return copyFile(s.Archive, s.Keep)
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(s.Dir)
	if err != nil {
		return err
	}
	defer root.Close()
	f, err := os.Open(s.Archive)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := decompress(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(s.Archive), err)
	}
	if err := untar(root, tar.NewReader(r), s.StripComponents); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(s.Archive), err)
	}
	if s.Keep != "" {
		return copyFile(s.Archive, s.Keep)
	}
	return nil
}

// checkDigests compares a file with the configured digests (lowercase
// hex); at least one is given unless the configuration opted out.
func checkDigests(file, sha256hex, sha512hex string) error {
	for _, c := range []struct {
		name, want string
		h          hash.Hash
	}{{"sha256", sha256hex, sha256.New()}, {"sha512", sha512hex, sha512.New()}} {
		if c.want == "" {
			continue
		}
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		_, err = io.Copy(c.h, f)
		f.Close()
		if err != nil {
			return err
		}
		if got := hex.EncodeToString(c.h.Sum(nil)); got != c.want {
			return fmt.Errorf("%s: %s is %s, expected %s", filepath.Base(file), c.name, got, c.want)
		}
	}
	return nil
}

// decompress recognises gzip, bzip2, xz and zstd by their magic numbers,
// as tar does; anything else is read as a plain tar.
func decompress(br *bufio.Reader) (io.Reader, error) {
	magic, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return gzip.NewReader(br)
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(br), nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return xz.NewReader(br)
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		d, err := zstd.NewReader(br)
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}
	return br, nil
}

// errOutside marks an entry that would land outside the directory.
var errOutside = errors.New("leads outside the extraction directory")

// untar writes a tar stream into root. Owners are the extracting user's
// (root in the build), as with tar's --no-same-owner.
func untar(root *os.Root, tr *tar.Reader, strip int) error {
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name, ok := stripName(h.Name, strip)
		if !ok {
			continue
		}
		if err := safeName(name); err != nil {
			return fmt.Errorf("%q: %w", h.Name, err)
		}
		mode := fs.FileMode(h.Mode & 0o7777)
		if dir := path.Dir(name); dir != "." {
			if err := root.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("%q: %w", h.Name, err)
			}
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("%q: %w", h.Name, err)
			}
			err = root.Chmod(name, mode|fs.ModeDir)
		case tar.TypeReg:
			err = writeEntry(root, name, tr, mode)
		case tar.TypeSymlink:
			root.Remove(name)
			err = root.Symlink(h.Linkname, name)
		case tar.TypeLink:
			target, ok := stripName(h.Linkname, strip)
			if !ok || safeName(target) != nil {
				return fmt.Errorf("%q: hard link to %q %w", h.Name, h.Linkname, errOutside)
			}
			root.Remove(name)
			err = root.Link(target, name)
		case tar.TypeXGlobalHeader:
			continue
		default:
			continue // devices and FIFOs: tar without privileges skips them too
		}
		if err != nil {
			return fmt.Errorf("%q: %w", h.Name, err)
		}
		if h.Typeflag != tar.TypeSymlink {
			root.Chtimes(name, h.ModTime, h.ModTime)
		}
	}
}

func writeEntry(root *os.Root, name string, r io.Reader, mode fs.FileMode) error {
	root.Remove(name)
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// stripName drops n leading path elements; false when nothing is left.
func stripName(name string, n int) (string, bool) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(name, "./"), "/"), "/")
	var kept []string
	for _, p := range parts {
		if p != "" && p != "." {
			kept = append(kept, p)
		}
	}
	if len(kept) <= n {
		return "", false
	}
	return strings.Join(kept[n:], "/"), true
}

// safeName refuses names with .. components (absolute ones were made
// relative by stripName; os.Root refuses what still escapes).
func safeName(name string) error {
	for _, p := range strings.Split(name, "/") {
		if p == ".." {
			return errOutside
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
