package index

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

const maxDescription = 64 << 10

// readBody inflates the tar that follows the signature and parses its
// APKINDEX entry. klauspost's gzip is used for speed: about 20% faster
// than compress/gzip here (see BenchmarkGunzip*).
func readBody(body io.Reader, maxU int64, lim limits) (*Index, error) {
	zr, err := gzip.NewReader(body)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(&capReader{r: zr, left: maxU, max: maxU, tooLarge: "inflates to more than %d bytes"})
	idx := &Index{}
	seen := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tar: %w", err)
		}
		switch h.Name {
		case "DESCRIPTION":
			b, err := io.ReadAll(io.LimitReader(tr, maxDescription+1))
			if err != nil {
				return nil, fmt.Errorf("tar: DESCRIPTION: %w", err)
			}
			if len(b) > maxDescription {
				return nil, fmt.Errorf("DESCRIPTION: %w: longer than %d bytes", ErrTooLarge, maxDescription)
			}
			idx.Description = string(b)
		case "APKINDEX":
			if seen {
				return nil, errors.New("tar: a second APKINDEX entry")
			}
			seen = true
			if h.Size > maxU {
				return nil, fmt.Errorf("%w: APKINDEX entry of %d bytes, more than %d", ErrTooLarge, h.Size, maxU)
			}
			// The size is only a claim: readText allocates as the text
			// arrives, never for the claim.
			if idx.Packages, err = readText(tr, h.Size, lim); err != nil {
				return nil, err
			}
		}
	}
	if !seen {
		return nil, errors.New("no APKINDEX entry in the archive")
	}
	return idx, nil
}

// capReader fails once more than max bytes come out of r: a decompression
// bomb is an error, not a silently truncated index.
type capReader struct {
	r         io.Reader
	left, max int64
	tooLarge  string // error text, formatted with max
	err       error  // sticky
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	// Ask for one byte past the cap, to tell "exactly at" from "over".
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if int64(n) > c.left {
		// Hand back only what fits, with the error: io.ReadFull would
		// drop an error that came with the bytes it asked for.
		n, c.left = int(c.left), 0
		c.err = fmt.Errorf("%w: "+c.tooLarge, ErrTooLarge, c.max)
		return n, c.err
	}
	c.left -= int64(n)
	return n, err
}
