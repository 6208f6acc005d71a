package pkg

import (
	"archive/tar"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/sign"
)

// gzipLevel is fixed because the compressed bytes are what the checksum,
// the datahash and the signature cover: a different level is a different
// package. klauspost/compress is used for its speed (about 3x the standard
// library at this level); its version, pinned in go.mod, is part of what
// makes the output reproducible.
const gzipLevel = 6

// WriteOptions configures Write.
type WriteOptions struct {
	// Signer signs the control section; nil writes an unsigned package.
	Signer *sign.Signer
	// Alg is the signature digest. sign.SHA1 is the zero value, so callers
	// wanting the melange default must set sign.SHA256 explicitly.
	Alg sign.Algorithm
	// SourceDateEpoch is every mtime and the builddate, in Unix seconds.
	SourceDateEpoch int64
	// Scripts maps scriptlet names (".post-install" or "post-install") to
	// their bodies.
	Scripts map[string][]byte
	// Triggers are the directory globs of the .trigger scriptlet.
	Triggers []string
}

// Write writes an .apk holding entries, described by info, and returns its
// index record: info with BuildTime = SourceDateEpoch, Checksum, Size (the
// file size) and, when info has none, InstalledSize (regular file bytes).
// The output depends only on the arguments: entry order, header times and
// user/group names do not matter.
func Write(w io.Writer, info *index.Package, entries []Entry, opts WriteOptions) (*index.Package, error) {
	if info == nil {
		return nil, errors.New("write package: nil package info")
	}
	fail := func(err error) (*index.Package, error) {
		return nil, fmt.Errorf("write package %s-%s: %w", info.Name, info.Version, err)
	}
	if opts.SourceDateEpoch < 0 {
		return fail(fmt.Errorf("negative SOURCE_DATE_EPOCH %d", opts.SourceDateEpoch))
	}
	mtime := time.Unix(opts.SourceDateEpoch, 0)
	des, installed, err := prepareEntries(entries, mtime)
	if err != nil {
		return fail(err)
	}
	data, err := dataMember(des)
	if err != nil {
		return fail(err)
	}
	dh := sha256.Sum256(data)

	rec := cloneRecord(info)
	rec.BuildTime = opts.SourceDateEpoch
	if rec.InstalledSize == 0 {
		rec.InstalledSize = installed
	}
	pkginfo, err := formatPkgInfo(rec, hex.EncodeToString(dh[:]), opts.Triggers)
	if err != nil {
		return fail(err)
	}
	control, err := controlMember(pkginfo, opts.Scripts, mtime)
	if err != nil {
		return fail(err)
	}
	var sig bytes.Buffer
	if opts.Signer != nil {
		s, err := opts.Signer.Sign(opts.Alg, sign.Digest(opts.Alg, control))
		if err != nil {
			return fail(err)
		}
		if err := sign.WriteSegment(&sig, s); err != nil {
			return fail(err)
		}
	}
	var n int64
	for _, part := range [][]byte{sig.Bytes(), control, data} {
		m, err := w.Write(part)
		n += int64(m)
		if err != nil {
			return fail(err)
		}
	}
	rec.Checksum = controlChecksum(control)
	rec.Size = uint64(n)
	return rec, nil
}

// controlChecksum is the index C: value of a control member.
func controlChecksum(control []byte) string {
	s := sha1.Sum(control)
	return "Q1" + base64.StdEncoding.EncodeToString(s[:])
}

func cloneRecord(p *index.Package) *index.Package {
	c := *p
	c.Dependencies = slices.Clone(p.Dependencies)
	c.Provides = slices.Clone(p.Provides)
	c.InstallIf = slices.Clone(p.InstallIf)
	c.Replaces = slices.Clone(p.Replaces)
	c.Extra = slices.Clone(p.Extra)
	return &c
}

// gzipMember compresses like `gzip -n`: no name, zero mtime, fixed level.
func gzipMember(write func(io.Writer) error) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzipLevel)
	if err != nil {
		return nil, err
	}
	// klauspost writes ModTime.Unix() even for the zero Time.
	zw.ModTime = time.Unix(0, 0)
	if err := write(zw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// dataMember writes the data tar, with its end-of-archive blocks.
func dataMember(des []dataEntry) ([]byte, error) {
	return gzipMember(func(w io.Writer) error {
		tw := tar.NewWriter(w)
		for i := range des {
			if err := tw.WriteHeader(&des[i].hdr); err != nil {
				return fmt.Errorf("entry %q: %w", des[i].hdr.Name, err)
			}
			if _, err := tw.Write(des[i].data); err != nil {
				return fmt.Errorf("entry %q: %w", des[i].hdr.Name, err)
			}
		}
		return tw.Close()
	})
}

// controlMember writes .PKGINFO and the scriptlets as a tar without
// end-of-archive blocks: apk reads the three members as one tar stream.
func controlMember(pkginfo []byte, scripts map[string][]byte, mtime time.Time) ([]byte, error) {
	named := map[string][]byte{}
	for k, v := range scripts {
		n, err := scriptName(k)
		if err != nil {
			return nil, err
		}
		if _, dup := named[n]; dup {
			return nil, fmt.Errorf("scriptlet %q given twice", n)
		}
		named[n] = v
	}
	names := make([]string, 0, len(named))
	for n := range named {
		names = append(names, n)
	}
	sort.Strings(names)
	return gzipMember(func(w io.Writer) error {
		tw := tar.NewWriter(w)
		add := func(name string, mode int64, body []byte) error {
			h := &tar.Header{
				Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body)),
				ModTime: mtime, Format: tar.FormatUSTAR,
			}
			if err := tw.WriteHeader(h); err != nil {
				return fmt.Errorf("control entry %q: %w", name, err)
			}
			_, err := tw.Write(body)
			return err
		}
		if err := add(PkgInfoFile, 0o644, pkginfo); err != nil {
			return err
		}
		for _, n := range names {
			if err := add(n, 0o755, named[n]); err != nil {
				return err
			}
		}
		return tw.Flush()
	})
}
