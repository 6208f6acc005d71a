package pkg

import (
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"

	"github.com/kiln-build/kiln/apk/internal/gzmember"
)

// Section is one gzip member of a package: where it is in the file and
// the hash of its compressed bytes (SHA-1 for the signature and control
// sections, as apk checksums them; SHA-256 for the data section, as its
// datahash).
type Section struct {
	Offset, Size int64
	Sum          []byte
}

// Sections is the layout of a package file, as lockfiles record it.
type Sections struct {
	Signature *Section // nil for an unsigned package
	Control   Section
	Data      Section
	Size      int64 // the whole file
}

// ReadSections reads a whole package and returns its layout. It checks
// the shape only (gzip members, a signature section recognised by its
// first entry); Open verifies content.
func ReadSections(r io.Reader) (Sections, error) {
	src := gzmember.NewReader(r)
	var gz gzip.Reader
	member := func(h hash.Hash, keep bool) (Section, []byte, error) {
		start := src.Offset()
		src.SetSink(h)
		if err := gz.Reset(src); err != nil {
			return Section{}, nil, noEOF(err)
		}
		gz.Multistream(false)
		var body []byte
		var err error
		if keep {
			body, err = io.ReadAll(io.LimitReader(&gz, maxSignatureSection+1))
		} else {
			_, err = io.Copy(io.Discard, &gz)
		}
		if err != nil {
			return Section{}, nil, noEOF(err)
		}
		src.SetSink(nil)
		return Section{Offset: start, Size: src.Offset() - start, Sum: h.Sum(nil)}, body, nil
	}
	var out Sections
	first, body, err := member(sha1.New(), true)
	if err != nil {
		return out, fmt.Errorf("first section: %w", err)
	}
	signed := false
	if len(body) <= maxSignatureSection {
		if signed, err = isSignatureSection(body); err != nil {
			return out, fmt.Errorf("first section: %w", err)
		}
	}
	if signed {
		out.Signature = &first
		if out.Control, _, err = member(sha1.New(), false); err != nil {
			return out, fmt.Errorf("control section: %w", err)
		}
	} else {
		out.Control = first
	}
	if out.Data, _, err = member(sha256.New(), false); err != nil {
		return out, fmt.Errorf("data section: %w", err)
	}
	if eof, err := src.AtEOF(); err != nil || !eof {
		return out, fmt.Errorf("bytes after the data section")
	}
	out.Size = src.Offset()
	return out, nil
}
