package index

import (
	"bytes"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"

	"github.com/kiln-build/kiln/apk/sign"
)

// maxSigMember bounds the inflated signature member: a few RSA signatures
// take a few KiB, and an unbounded member would be a decompression bomb
// that no cap on the index text catches.
const maxSigMember = 64 << 10

// readSignatureMember returns the signatures of a leading signature member
// and the offset where the signed data starts (0 when unsigned).
func readSignatureMember(data []byte) ([]sign.Signature, int, error) {
	br := bytes.NewReader(data)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, 0, fmt.Errorf("not gzip: %w", err)
	}
	zr.Multistream(false)
	head := make([]byte, len(".SIGN."), maxSigMember+1)
	n, err := io.ReadFull(zr, head)
	if string(head[:n]) != ".SIGN." {
		// Unsigned: the first member already is the index. Its errors, if
		// any, are reported when it is read as such.
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("signature member: %w", err)
	}
	// The member must end within the cap: read one byte past it to know.
	rest, err := io.ReadAll(io.LimitReader(zr, maxSigMember+1-int64(n)))
	if err != nil {
		return nil, 0, fmt.Errorf("signature member: gzip: %w", err)
	}
	if n+len(rest) > maxSigMember {
		return nil, 0, fmt.Errorf("signature member: %w: inflates to more than %d bytes", ErrTooLarge, maxSigMember)
	}
	sigs, err := sign.ReadSegment(bytes.NewReader(append(head, rest...)))
	if err != nil {
		return nil, 0, err
	}
	// gzip reads a bytes.Reader byte by byte (it is an io.ByteReader), so
	// having reached the member's end it has consumed exactly the member.
	return sigs, len(data) - br.Len(), nil
}
