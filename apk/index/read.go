package index

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/kiln-build/kiln/apk/sign"
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
	Name            string // for errors, e.g. the index URL
}

// Read reads and verifies an APKINDEX.tar.gz. The compressed file is held
// in memory (it is capped) because the signature covers its raw bytes
// after the signature member; they are hashed as they are, then inflated.
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
		return fail(fmt.Errorf("%w: larger than %d bytes compressed", ErrTooLarge, maxC))
	}

	sigs, signedFrom, err := readSignatureMember(data)
	if err != nil {
		return fail(err)
	}
	if err := verify(sigs, data[signedFrom:], opts); err != nil {
		return fail(err)
	}
	if signedFrom == len(data) {
		return fail(errors.New("nothing follows the signature"))
	}
	idx, err := readBody(data[signedFrom:], maxU)
	if err != nil {
		return fail(err)
	}
	idx.Signatures = sigs
	return idx, nil
}

func verify(sigs []sign.Signature, signed []byte, opts ReadOptions) error {
	// Hash only for signatures a trusted key can check; with none, the
	// keyring reports ErrUntrusted (or ErrUnsigned) without digests.
	var trusted []sign.Signature
	for _, s := range sigs {
		if opts.Keyring.Has(s.KeyName) {
			trusted = append(trusted, s)
		}
	}
	if len(trusted) > 0 {
		d := sign.NewDigester(trusted)
		d.Write(signed)
		return opts.Keyring.Verify(trusted, d)
	}
	err := opts.Keyring.Verify(sigs, sign.NewDigester(nil))
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
	n, err := io.ReadFull(r, buf)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		// A file read from past its start holds less than its size.
		return buf[:n], nil
	}
	if err != nil {
		return nil, err
	}
	// Anything past the announced size still counts against the cap.
	rest, err := io.ReadAll(io.LimitReader(r, max-size))
	return append(buf, rest...), err
}
