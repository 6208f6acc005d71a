// Package ocilayer applies one layer of an OCI (or Docker) image onto a
// directory holding the layers below it, as a container runtime unpacks
// an image: the blob is checked against its descriptor digest before it
// is read, decompressed as its media type says, its tar checked against
// the diff_id the image config gives it, and its entries applied, the
// whiteouts (.wh.<name>, .wh..wh..opq) included. Every path stays inside
// the directory: names with ".." or a leading "/" are refused, and
// symlinks met on the way are followed as the image would see them, with
// the directory as its root.
//
// kiln applies a base image's layers this way inside a build step, one
// step per layer on a read-write mount of the layers below, so BuildKit's
// diff of each step is that layer, deletions included.
package ocilayer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Descriptor says what a layer blob must be.
type Descriptor struct {
	MediaType string
	Digest    string // "sha256:<hex>" of the blob as stored
	DiffID    string // "sha256:<hex>" of the uncompressed tar
}

// Compression is how a media type compresses the tar.
type Compression int

const (
	Uncompressed Compression = iota
	Gzip
	Zstd
)

// CompressionOf maps a layer media type (OCI's or Docker's) to its
// compression; other media types are refused.
func CompressionOf(mediaType string) (Compression, error) {
	switch mediaType {
	case "application/vnd.oci.image.layer.v1.tar", "application/vnd.docker.image.rootfs.diff.tar":
		return Uncompressed, nil
	case "application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.docker.image.rootfs.diff.tar.gzip":
		return Gzip, nil
	case "application/vnd.oci.image.layer.v1.tar+zstd", "application/vnd.docker.image.rootfs.diff.tar.zstd":
		return Zstd, nil
	}
	return 0, fmt.Errorf("layer media type %q is not a tar, tar+gzip or tar+zstd layer", mediaType)
}

// VerifyBlob checks that the file holds exactly the bytes d.Digest names.
// It is a pass of its own, before anything parses the blob, so the
// decompressor and the tar reader only ever see the bytes the image's
// manifest vouches for.
func VerifyBlob(f io.ReadSeeker, d Descriptor) error {
	h, err := hasherFor(d.Digest)
	if err != nil {
		return fmt.Errorf("digest: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read blob: %w", err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != d.Digest {
		return fmt.Errorf("blob has digest %s, the manifest says %s", got, d.Digest)
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}

// tarStream is the decompressed tar of a blob, hashed as it is read so its
// diff_id can be checked once it is all read.
type tarStream struct {
	io.Reader
	h      hash.Hash
	closer func()
}

func openTar(blob io.Reader, d Descriptor) (*tarStream, error) {
	c, err := CompressionOf(d.MediaType)
	if err != nil {
		return nil, err
	}
	h, err := hasherFor(d.DiffID)
	if err != nil {
		return nil, fmt.Errorf("diff_id: %w", err)
	}
	s := &tarStream{h: h, closer: func() {}}
	var r io.Reader
	switch c {
	case Uncompressed:
		r = blob
	case Gzip:
		zr, err := gzip.NewReader(blob)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		r, s.closer = zr, func() { zr.Close() }
	case Zstd:
		zr, err := zstd.NewReader(blob, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		r, s.closer = zr, zr.Close
	}
	s.Reader = io.TeeReader(r, h)
	return s, nil
}

// finish reads what the tar reader left (the end-of-archive blocks and
// any padding) and checks the diff_id over the whole stream.
func (s *tarStream) finish(d Descriptor) error {
	defer s.closer()
	if _, err := io.Copy(io.Discard, s.Reader); err != nil {
		return fmt.Errorf("decompress: %w", err)
	}
	if got := "sha256:" + hex.EncodeToString(s.h.Sum(nil)); got != d.DiffID {
		return fmt.Errorf("uncompressed layer has digest %s, the image config's diff_id is %s", got, d.DiffID)
	}
	return nil
}

func hasherFor(digest string) (hash.Hash, error) {
	alg, enc, ok := strings.Cut(digest, ":")
	if !ok || alg != "sha256" || len(enc) != 64 || strings.ToLower(enc) != enc {
		return nil, fmt.Errorf("%q is not a sha256 digest", digest)
	}
	if _, err := hex.DecodeString(enc); err != nil {
		return nil, fmt.Errorf("%q is not a sha256 digest", digest)
	}
	return sha256.New(), nil
}

// ApplyFile verifies the blob file against d and applies it onto root.
func ApplyFile(root, blobPath string, d Descriptor) error {
	f, err := os.Open(blobPath)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := VerifyBlob(f, d); err != nil {
		return fmt.Errorf("layer %s: %w", d.Digest, err)
	}
	if err := Apply(root, f, d); err != nil {
		return fmt.Errorf("layer %s: %w", d.Digest, err)
	}
	return nil
}
