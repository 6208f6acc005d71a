package index

import (
	"archive/tar"
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/klauspost/compress/gzip"

	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/apk/version"
)

// Index is a read APKINDEX.tar.gz.
type Index struct {
	Description string
	Packages    []*Package
	Signatures  []sign.Signature
}

// Default caps against hostile indexes: the real Alpine main index is
// under 2 MiB compressed and 7 MiB of text.
const (
	DefaultMaxCompressed   = 256 << 20
	DefaultMaxUncompressed = 1 << 30
)

// ReadOptions controls Read.
type ReadOptions struct {
	Keyring         *sign.Keyring
	AllowUntrusted  bool   // accept unsigned indexes and unknown keys; a trusted key's bad signature still fails
	MaxCompressed   int64  // 0: DefaultMaxCompressed
	MaxUncompressed int64  // 0: DefaultMaxUncompressed
	Name            string // for errors, e.g. the index URL
}

// Read reads and verifies an APKINDEX.tar.gz. The whole compressed file is
// held in memory (it is capped): the signature covers the raw bytes after
// the signature member, so they are hashed as they are, then gunzipped.
func Read(r io.Reader, opts ReadOptions) (*Index, error) {
	name := opts.Name
	if name == "" {
		name = "APKINDEX.tar.gz"
	}
	fail := func(err error) (*Index, error) { return nil, fmt.Errorf("index %s: %w", name, err) }
	maxC, maxU := opts.MaxCompressed, opts.MaxUncompressed
	if maxC <= 0 {
		maxC = DefaultMaxCompressed
	}
	if maxU <= 0 {
		maxU = DefaultMaxUncompressed
	}
	data, err := readCapped(r, maxC+1)
	if err != nil {
		return fail(err)
	}
	if int64(len(data)) > maxC {
		return fail(fmt.Errorf("larger than %d bytes", maxC))
	}

	sigs, signedFrom, err := readSignatureMember(data)
	if err != nil {
		return fail(err)
	}
	if err := verify(sigs, data[signedFrom:], opts); err != nil {
		return fail(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data[signedFrom:]))
	if err != nil {
		return fail(fmt.Errorf("gzip: %w", err))
	}
	defer zr.Close()
	// The cap counts tar headers too; the +1 tells "at the cap" from "over".
	limited := &io.LimitedReader{R: zr, N: maxU + 1}
	idx := &Index{Signatures: sigs}
	tr := tar.NewReader(limited)
	var text []byte
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if limited.N <= 0 {
			return fail(fmt.Errorf("decompresses to more than %d bytes", maxU))
		}
		if err != nil {
			return fail(fmt.Errorf("tar: %w", err))
		}
		switch h.Name {
		case "DESCRIPTION":
			b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
			if err != nil {
				return fail(err)
			}
			idx.Description = strings.TrimSpace(string(b))
		case "APKINDEX":
			if h.Size > maxU {
				return fail(fmt.Errorf("decompresses to more than %d bytes", maxU))
			}
			text = make([]byte, h.Size)
			if _, err := io.ReadFull(tr, text); err != nil {
				if limited.N <= 0 {
					return fail(fmt.Errorf("decompresses to more than %d bytes", maxU))
				}
				return fail(fmt.Errorf("tar: APKINDEX: %w", err))
			}
		}
	}
	if text == nil {
		return fail(fmt.Errorf("no APKINDEX entry in the archive"))
	}
	// text is ours alone and never written again, so the records can
	// slice it in place instead of copying it into a string.
	if idx.Packages, err = parseText(unsafe.String(unsafe.SliceData(text), len(text))); err != nil {
		return fail(err)
	}
	return idx, nil
}

// readSignatureMember returns the signatures of a leading signature member
// and the offset where the signed data starts (0 when unsigned).
func readSignatureMember(data []byte) ([]sign.Signature, int, error) {
	br := bytes.NewReader(data)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, 0, fmt.Errorf("not gzip: %w", err)
	}
	zr.Multistream(false)
	// A signature member is a few KiB; anything longer is not one.
	first, err := io.ReadAll(io.LimitReader(zr, 64<<10))
	if err != nil {
		return nil, 0, fmt.Errorf("gzip: %w", err)
	}
	if len(first) < 512 || !strings.HasPrefix(string(first[:100]), ".SIGN.") {
		return nil, 0, nil
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, 0, fmt.Errorf("gzip: %w", err)
	}
	sigs, err := sign.ReadSegment(bytes.NewReader(first))
	if err != nil {
		return nil, 0, err
	}
	// The flate reader consumes exactly the member from a bytes.Reader
	// (it reads byte by byte from an io.ByteReader), so what is left
	// starts the signed data.
	return sigs, len(data) - br.Len(), nil
}

func verify(sigs []sign.Signature, signed []byte, opts ReadOptions) error {
	// Hash only for signatures a trusted key could check; with none, the
	// keyring reports ErrUntrusted (or ErrUnsigned) without digests.
	var trusted []sign.Signature
	for _, s := range sigs {
		if opts.Keyring.Has(s.KeyName) {
			trusted = append(trusted, s)
		}
	}
	d := sign.NewDigester(trusted)
	d.Write(signed)
	err := opts.Keyring.Verify(sigs, d)
	if err == nil {
		return nil
	}
	if opts.AllowUntrusted && (errors.Is(err, sign.ErrUnsigned) || errors.Is(err, sign.ErrUntrusted)) {
		return nil
	}
	return err
}

// readCapped reads up to max bytes, in one allocation when r can tell
// its size (files, byte readers), as indexes usually can.
func readCapped(r io.Reader, max int64) ([]byte, error) {
	size := int64(-1)
	switch v := r.(type) {
	case interface{ Len() int }:
		size = int64(v.Len())
	case interface{ Stat() (os.FileInfo, error) }:
		if st, err := v.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
	}
	if size < 0 || size >= max {
		return io.ReadAll(io.LimitReader(r, max))
	}
	buf := make([]byte, size, size+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	// Anything past the announced size still counts against the cap.
	rest, err := io.ReadAll(io.LimitReader(r, max-size))
	return append(buf, rest...), err
}

// gunzipAll decompresses every member of data, refusing more than max bytes.
func gunzipAll(data []byte, max int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	out := bytes.NewBuffer(make([]byte, 0, min(int64(len(data))*5, max)+512))
	n, err := io.Copy(out, io.LimitReader(zr, max+1))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if n > max {
		return nil, fmt.Errorf("decompresses to more than %d bytes", max)
	}
	return out.Bytes(), nil
}

// WriteOptions controls Write.
type WriteOptions struct {
	Description     string
	Signer          *sign.Signer   // nil: unsigned
	Alg             sign.Algorithm // zero value SHA1, what apk-tools 2 writes and every apk reads
	SourceDateEpoch int64
}

// Write writes a deterministic APKINDEX.tar.gz: records sorted by name
// then version, tar headers with fixed owner and mtime SourceDateEpoch,
// gzip without name or time. The same input gives the same bytes.
func Write(w io.Writer, pkgs []*Package, opts WriteOptions) error {
	sorted := append([]*Package(nil), pkgs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Name != sorted[j].Name {
			return sorted[i].Name < sorted[j].Name
		}
		return version.CompareLoose(sorted[i].Version, sorted[j].Version) < 0
	})
	var text bytes.Buffer
	if err := WriteText(&text, sorted); err != nil {
		return err
	}
	var body bytes.Buffer
	zw, err := stdgzip.NewWriterLevel(&body, stdgzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	mtime := time.Unix(opts.SourceDateEpoch, 0)
	for _, f := range []struct {
		name string
		data []byte
	}{{"DESCRIPTION", []byte(opts.Description)}, {"APKINDEX", text.Bytes()}} {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: mtime, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if opts.Signer != nil {
		sig, err := opts.Signer.Sign(opts.Alg, sign.Digest(opts.Alg, body.Bytes()))
		if err != nil {
			return err
		}
		if err := sign.WriteSegment(w, sig); err != nil {
			return err
		}
	}
	_, err = w.Write(body.Bytes())
	return err
}
