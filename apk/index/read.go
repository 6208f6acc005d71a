package index

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/kiln-build/kiln/apk/sign"
)

// Index is a read APKINDEX.tar.gz.
type Index struct {
	Description string
	Packages    []*Package
	Signatures  []sign.Signature
}

// Default caps against hostile indexes. The real Alpine main index is
// under 2 MiB compressed and 7 MiB of text, its longest line a few KiB
// (coq's p: line, the longest apko has met, is 72 KiB). apko refuses
// indexes over 300 MiB of text and lines over 1 MiB, so no index apko
// reads is refused here.
const (
	DefaultMaxCompressed   = 256 << 20
	DefaultMaxUncompressed = 300 << 20
	DefaultMaxLine         = 1 << 20
	DefaultMaxRecord       = 8 << 20
)

// ErrTooLarge is returned (wrapped) when an index exceeds a size cap.
var ErrTooLarge = errors.New("exceeds the size cap")

// ReadOptions controls Read.
type ReadOptions struct {
	Keyring *sign.Keyring
	// AllowUntrusted accepts unsigned indexes and signatures by keys not
	// in Keyring. A signature by a trusted key that does not verify is
	// still an error.
	AllowUntrusted  bool
	MaxCompressed   int64  // 0: DefaultMaxCompressed
	MaxUncompressed int64  // 0: DefaultMaxUncompressed; counts tar headers too
	MaxLine         int    // longest APKINDEX line; 0: DefaultMaxLine
	MaxRecord       int    // longest APKINDEX record; 0: DefaultMaxRecord
	Name            string // for errors, e.g. the index URL
}

// Read reads and verifies an APKINDEX.tar.gz. It streams: the compressed
// bytes are hashed for the signature as they are inflated, and only the
// index text is kept (in chunks that the records point into). The text is
// parsed before the signature is checked, since the signature covers the
// bytes up to the end of the file, but nothing is returned until it is.
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
	lim := newLimits(opts.MaxLine, opts.MaxRecord)

	// A bufio.Reader is an io.ByteReader, so gzip consumes exactly the
	// signature member from it and the signed part starts right after.
	src := bufio.NewReaderSize(&capReader{r: r, left: maxC, max: maxC, tooLarge: "larger than %d bytes compressed"}, 16<<10)
	sigs, err := readSignatureMember(src)
	if err != nil {
		return fail(err)
	}
	d := digesterFor(sigs, opts.Keyring)
	signed := &countReader{r: src}
	if d != nil {
		signed.r = io.TeeReader(src, d)
	}
	idx, bodyErr := readBody(signed, maxU, lim)
	// The signature covers every byte after its member, read or not by
	// the parser: hash the rest, then report a bad signature before
	// whatever the parser made of the bytes it covers.
	_, drainErr := io.Copy(io.Discard, signed)
	if err := verify(sigs, d, opts); err != nil {
		return fail(err)
	}
	if sigs != nil && signed.n == 0 {
		return fail(errors.New("nothing follows the signature"))
	}
	if bodyErr != nil {
		return fail(bodyErr)
	}
	if drainErr != nil {
		return fail(drainErr)
	}
	idx.Signatures = sigs
	return idx, nil
}

// digesterFor hashes for the signatures a trusted key can check; nil when
// there are none, and then nothing needs hashing.
func digesterFor(sigs []sign.Signature, k *sign.Keyring) *sign.Digester {
	var trusted []sign.Signature
	for _, s := range sigs {
		if k.Has(s.KeyName) {
			trusted = append(trusted, s)
		}
	}
	if len(trusted) == 0 {
		return nil
	}
	return sign.NewDigester(trusted)
}

func verify(sigs []sign.Signature, d *sign.Digester, opts ReadOptions) error {
	if d != nil {
		var trusted []sign.Signature
		for _, s := range sigs {
			if opts.Keyring.Has(s.KeyName) {
				trusted = append(trusted, s)
			}
		}
		return opts.Keyring.Verify(trusted, d)
	}
	// No trusted signature: the keyring reports ErrUntrusted (or
	// ErrUnsigned) without digests.
	err := opts.Keyring.Verify(sigs, sign.NewDigester(nil))
	if opts.AllowUntrusted && (errors.Is(err, sign.ErrUnsigned) || errors.Is(err, sign.ErrUntrusted)) {
		return nil
	}
	return err
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
