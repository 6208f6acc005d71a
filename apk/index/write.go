package index

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/apk/version"
)

// WriteOptions controls Write.
type WriteOptions struct {
	Description string
	Signer      *sign.Signer // nil: unsigned
	// Alg defaults to sign.SHA1 (the zero value): .SIGN.RSA., what
	// apk-tools 2 writes and every apk version reads. sign.SHA256 writes
	// .SIGN.RSA256., which apk-tools before 2.12 cannot check.
	Alg             sign.Algorithm
	SourceDateEpoch int64 // mtime of the tar entries
}

// A deflate compressor allocates about 1 MiB of tables; reuse them.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestCompression)
	return zw
}}

// Write writes a deterministic APKINDEX.tar.gz: records sorted by name
// then version, tar headers with fixed owner and mtime SourceDateEpoch,
// gzip without name or time. The same input gives the same bytes.
func Write(w io.Writer, pkgs []*Package, opts WriteOptions) error {
	sorted := slices.Clone(pkgs)
	slices.SortStableFunc(sorted, func(a, b *Package) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return version.CompareLoose(a.Version, b.Version)
	})
	text, err := appendText(nil, sorted)
	if err != nil {
		return err
	}
	var body bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&body)
	tw := tar.NewWriter(zw)
	mtime := time.Unix(opts.SourceDateEpoch, 0)
	for _, f := range []struct {
		name string
		data []byte
	}{{"DESCRIPTION", []byte(opts.Description)}, {"APKINDEX", text}} {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.data)),
			ModTime: mtime, Uname: "root", Gname: "root", Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("index: tar %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return fmt.Errorf("index: tar %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("index: tar: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("index: gzip: %w", err)
	}
	if opts.Signer != nil {
		sig, err := opts.Signer.Sign(opts.Alg, sign.Digest(opts.Alg, body.Bytes()))
		if err != nil {
			return fmt.Errorf("index: sign with %s: %w", opts.Signer.KeyName, err)
		}
		if err := sign.WriteSegment(w, sig); err != nil {
			return err
		}
	}
	_, err = w.Write(body.Bytes())
	return err
}
