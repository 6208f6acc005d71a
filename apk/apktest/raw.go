package apktest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/sign"
)

// Raw is a package assembled by hand, for tests of what kiln must refuse:
// apk/pkg's writer refuses to write device nodes, ".." or absolute names,
// duplicate entries and the like, so Raw writes each data entry exactly as
// given and lets a test break the sections' promises (datahash, declared
// size, control section size) one at a time. Everything a test does not
// break is written as a valid package would have it.
type Raw struct {
	Name, Version, Arch string
	Origin              string
	Replaces            []string
	// InstalledSize is the .PKGINFO size; 0: the regular files' bytes.
	InstalledSize uint64
	Entries       []RawEntry
	// DataHash replaces the datahash computed over the data member;
	// NoDataHash leaves the line out.
	DataHash   string
	NoDataHash bool
	// PkgInfoExtra is appended to the generated .PKGINFO as it is.
	PkgInfoExtra string
	// ControlPad adds a ".pad" control entry of that many zero bytes (a
	// control section that decompresses to far more than it weighs).
	ControlPad int64
	// Signer signs the control member; nil leaves the package unsigned.
	Signer *sign.Signer
	Alg    sign.Algorithm
	// Trailer is appended after the data member.
	Trailer []byte
}

// RawEntry is one data entry. Regular files and symlinks get apk's
// per-file SHA-1 PAX record unless Header.PAXRecords has one already or
// NoChecksum is set; Header.Size is the length of Data when zero.
type RawEntry struct {
	Header     tar.Header
	Data       []byte
	NoChecksum bool
}

// Build writes the package and returns its bytes and the index record a
// repository would list it with (C: over the control member as written,
// S: the file size).
func (r Raw) Build() ([]byte, *index.Package, error) {
	data, regular, err := r.dataMember()
	if err != nil {
		return nil, nil, err
	}
	installed := r.InstalledSize
	if installed == 0 {
		installed = regular
	}
	sum := sha256.Sum256(data)
	dataHash := hex.EncodeToString(sum[:])
	if r.DataHash != "" {
		dataHash = r.DataHash
	}
	var info strings.Builder
	fmt.Fprintf(&info, "pkgname = %s\npkgver = %s\narch = %s\nsize = %d\nbuilddate = 0\n", r.Name, r.Version, r.Arch, installed)
	origin := r.Origin
	if origin == "" {
		origin = r.Name
	}
	fmt.Fprintf(&info, "origin = %s\nlicense = MIT\npkgdesc = hand-made test package\n", origin)
	for _, rep := range r.Replaces {
		fmt.Fprintf(&info, "replaces = %s\n", rep)
	}
	if !r.NoDataHash {
		fmt.Fprintf(&info, "datahash = %s\n", dataHash)
	}
	info.WriteString(r.PkgInfoExtra)

	control, err := gzipTar(false, func(tw *tar.Writer) error {
		if err := writeEntry(tw, &tar.Header{Name: ".PKGINFO", Mode: 0o644, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}, []byte(info.String())); err != nil {
			return err
		}
		if r.ControlPad > 0 {
			h := &tar.Header{Name: ".pad", Mode: 0o644, Typeflag: tar.TypeReg, Size: r.ControlPad, Format: tar.FormatUSTAR}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if _, err := io.CopyN(tw, zeros{}, r.ControlPad); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var out bytes.Buffer
	if r.Signer != nil {
		s, err := r.Signer.Sign(r.Alg, sign.Digest(r.Alg, control))
		if err != nil {
			return nil, nil, err
		}
		if err := sign.WriteSegment(&out, s); err != nil {
			return nil, nil, err
		}
	}
	out.Write(control)
	out.Write(data)
	out.Write(r.Trailer)
	cs := sha1.Sum(control)
	rec := &index.Package{
		Name: r.Name, Version: r.Version, Arch: r.Arch, Origin: origin, License: "MIT",
		Description: "hand-made test package", Replaces: r.Replaces,
		Size: uint64(out.Len()), InstalledSize: installed,
		Checksum: "Q1" + base64.StdEncoding.EncodeToString(cs[:]),
	}
	return out.Bytes(), rec, nil
}

// dataMember writes the data tar (with its end blocks) as one gzip member
// and returns it with the regular files' byte count.
func (r Raw) dataMember() ([]byte, uint64, error) {
	var regular uint64
	b, err := gzipTar(true, func(tw *tar.Writer) error {
		for _, e := range r.Entries {
			h := e.Header
			if h.Format == tar.FormatUnknown {
				h.Format = tar.FormatPAX
			}
			if (h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeRegA) && h.Size == 0 {
				h.Size = int64(len(e.Data))
			}
			if !e.NoChecksum {
				h.PAXRecords = withChecksum(&h, e.Data)
			}
			if h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeRegA {
				regular += uint64(len(e.Data))
			}
			if err := writeEntry(tw, &h, e.Data); err != nil {
				return fmt.Errorf("entry %q: %w", h.Name, err)
			}
		}
		return nil
	})
	return b, regular, err
}

// withChecksum returns h's PAX records with apk's per-file SHA-1 added for
// a regular file or symlink that has none.
func withChecksum(h *tar.Header, data []byte) map[string]string {
	if _, ok := h.PAXRecords[paxChecksum]; ok {
		return h.PAXRecords
	}
	var sum [sha1.Size]byte
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeRegA:
		sum = sha1.Sum(data)
	case tar.TypeSymlink:
		sum = sha1.Sum([]byte(h.Linkname))
	default:
		return h.PAXRecords
	}
	pax := map[string]string{paxChecksum: hex.EncodeToString(sum[:])}
	for k, v := range h.PAXRecords {
		pax[k] = v
	}
	return pax
}

const paxChecksum = "APK-TOOLS.checksum.SHA1"

func writeEntry(tw *tar.Writer, h *tar.Header, data []byte) error {
	if h.Typeflag == tar.TypeReg && h.Size == 0 {
		h.Size = int64(len(data))
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// gzipTar compresses a tar written by fill; the end-of-archive blocks are
// written only when closed is set (apk's control member has none).
func gzipTar(closed bool, fill func(*tar.Writer) error) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	if err := fill(tw); err != nil {
		return nil, err
	}
	if closed {
		err = tw.Close()
	} else {
		err = tw.Flush()
	}
	if err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// RawIndex writes an APKINDEX.tar.gz around index text as given (index.Write
// refuses records kiln must refuse on input), signed by signer unless it is
// nil. A Pad entry of zero bytes goes before the APKINDEX entry (an index
// that decompresses to far more than it weighs).
func RawIndex(text []byte, signer *sign.Signer, alg sign.Algorithm, pad Pad) ([]byte, error) {
	body, err := gzipTar(true, func(tw *tar.Writer) error {
		if pad.Size > 0 {
			h := &tar.Header{Name: pad.Name, Mode: 0o644, Typeflag: tar.TypeReg, Size: pad.Size, Format: tar.FormatUSTAR}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if _, err := io.CopyN(tw, zeros{}, pad.Size); err != nil {
				return err
			}
		}
		return writeEntry(tw, &tar.Header{Name: "APKINDEX", Mode: 0o644, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}, text)
	})
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if signer != nil {
		s, err := signer.Sign(alg, sign.Digest(alg, body))
		if err != nil {
			return nil, err
		}
		if err := sign.WriteSegment(&out, s); err != nil {
			return nil, err
		}
	}
	out.Write(body)
	return out.Bytes(), nil
}

// Pad is a tar entry of Size zero bytes named Name.
type Pad struct {
	Name string
	Size int64
}

// IndexText is the APKINDEX text of records as index.Write would list
// them, for a test to edit before RawIndex wraps it.
func IndexText(recs []*index.Package) ([]byte, error) {
	var buf bytes.Buffer
	if err := index.Write(&buf, recs, index.WriteOptions{}); err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("index without APKINDEX: %w", err)
		}
		if h.Name == "APKINDEX" {
			return io.ReadAll(tr)
		}
	}
}
