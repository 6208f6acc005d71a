package sign

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"time"
)

// maxSignatureSize bounds one signature entry; RSA-8192 needs 1 KiB.
const maxSignatureSize = 64 << 10

// ReadSegment parses the decompressed first gzip member of a package or
// index: a tar of signature entries with no end-of-archive blocks. Any
// other entry is an error, since the caller would otherwise treat signed
// content as a signature.
func ReadSegment(tarStream io.Reader) ([]Signature, error) {
	tr := tar.NewReader(tarStream)
	var sigs []Signature
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return sigs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("signature segment: %w", err)
		}
		alg, key, ok := ParseMemberName(h.Name)
		if !ok {
			return nil, fmt.Errorf("signature segment: unexpected entry %q", h.Name)
		}
		// A signature is a file's content: a link or device entry of that
		// name has a size in its header but no content.
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			return nil, fmt.Errorf("signature segment: entry %q is not a regular file", h.Name)
		}
		if h.Size <= 0 || h.Size > maxSignatureSize {
			return nil, fmt.Errorf("signature segment: entry %q has size %d", h.Name, h.Size)
		}
		v, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err != nil {
			return nil, fmt.Errorf("signature segment: read %q: %w", h.Name, err)
		}
		if int64(len(v)) != h.Size {
			return nil, fmt.Errorf("signature segment: entry %q holds %d of its %d bytes", h.Name, len(v), h.Size)
		}
		sigs = append(sigs, Signature{Alg: alg, KeyName: key, Value: v})
	}
}

// WriteSegment writes the signature gzip member: a tar holding one entry
// per signature, flushed without end-of-archive blocks so that the next
// member continues the same tar stream, compressed like `gzip -n`.
func WriteSegment(w io.Writer, sigs ...Signature) error {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, s := range sigs {
		h := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     s.MemberName(),
			Mode:     0o644,
			Size:     int64(len(s.Value)),
			ModTime:  time.Unix(0, 0),
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("signature segment: %w", err)
		}
		if _, err := tw.Write(s.Value); err != nil {
			return fmt.Errorf("signature segment: %w", err)
		}
	}
	// Flush pads the last entry; Close would add the end-of-archive blocks.
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("signature segment: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("signature segment: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}
