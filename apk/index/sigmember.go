package index

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"

	"github.com/kiln-build/kiln/apk/sign"
)

// maxSigMember bounds the inflated signature member: a few RSA signatures
// take a few KiB, and an unbounded member would be a decompression bomb
// that no cap on the index text catches.
const maxSigMember = 64 << 10

// readSignatureMember reads a leading signature member from src and
// returns its signatures. An unsigned index returns none and leaves src
// untouched: whether the first member is a signature is decided on a
// copy of its first bytes.
func readSignatureMember(src *bufio.Reader) ([]sign.Signature, error) {
	head, err := src.Peek(src.Size())
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(head))
	if err != nil {
		return nil, fmt.Errorf("not gzip: %w", err)
	}
	first := make([]byte, len(".SIGN."))
	if n, _ := io.ReadFull(zr, first); string(first[:n]) != ".SIGN." {
		// Unsigned: the first member already is the index. Its errors, if
		// any, are reported when it is read as such.
		return nil, nil
	}

	zr, err = gzip.NewReader(src)
	if err != nil {
		return nil, fmt.Errorf("signature member: %w", err)
	}
	zr.Multistream(false)
	// The member must end within the cap: read one byte past it to know.
	member, err := io.ReadAll(io.LimitReader(zr, maxSigMember+1))
	if err != nil {
		return nil, fmt.Errorf("signature member: gzip: %w", err)
	}
	if len(member) > maxSigMember {
		return nil, fmt.Errorf("signature member: %w: inflates to more than %d bytes", ErrTooLarge, maxSigMember)
	}
	return sign.ReadSegment(bytes.NewReader(member))
}
