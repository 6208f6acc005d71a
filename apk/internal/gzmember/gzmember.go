// Package gzmember reads a stream of concatenated gzip members while
// reporting exactly which compressed bytes belong to each member.
//
// compress/gzip reads no further than the end of a member when its source
// implements io.ByteReader, so a Reader handed to gzip.Reader (with
// Multistream(false)) stops at the member boundary, and every byte the
// decompressor consumed has gone to the current sink.
package gzmember

import (
	"errors"
	"io"
)

const bufSize = 64 << 10

// maxEmptyReads bounds how often a misbehaving source may return 0, nil.
const maxEmptyReads = 100

// Reader buffers a source and copies every consumed byte to a sink. Bytes
// are handed to the sink in chunks, not one call per ReadByte, because
// hash.Hash.Write per byte would dominate decompression time.
type Reader struct {
	src  io.Reader
	buf  []byte
	r, w int // buf[r:w] is buffered and unread
	h    int // buf[h:r] is consumed but not yet written to sink
	sink io.Writer
	n    int64 // bytes consumed and flushed so far
	err  error // sticky source error
}

// NewReader returns a Reader over src with no sink.
func NewReader(src io.Reader) *Reader {
	return &Reader{src: src, buf: make([]byte, bufSize)}
}

// SetSink makes w receive every byte consumed from now on; bytes consumed
// before the call go to the previous sink. A nil w discards them.
func (b *Reader) SetSink(w io.Writer) {
	b.flush()
	b.sink = w
}

// Offset is the number of bytes consumed from the source so far.
func (b *Reader) Offset() int64 { return b.n + int64(b.r-b.h) }

// ReadByte implements io.ByteReader.
func (b *Reader) ReadByte() (byte, error) {
	if b.r == b.w {
		if err := b.fill(); err != nil {
			return 0, err
		}
	}
	c := b.buf[b.r]
	b.r++
	return c, nil
}

// Read implements io.Reader.
func (b *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.r == b.w {
		if err := b.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}

// AtEOF reports whether the source has no bytes left after those
// consumed. It may read ahead but consumes nothing.
func (b *Reader) AtEOF() (bool, error) {
	if b.r < b.w {
		return false, nil
	}
	err := b.fill()
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}

// flush hands consumed bytes to the sink.
func (b *Reader) flush() {
	if b.r > b.h && b.sink != nil {
		b.sink.Write(b.buf[b.h:b.r])
	}
	b.n += int64(b.r - b.h)
	b.h = b.r
}

// fill refills an exhausted buffer.
func (b *Reader) fill() error {
	b.flush()
	b.r, b.w, b.h = 0, 0, 0
	if b.err != nil {
		return b.err
	}
	for range maxEmptyReads {
		n, err := b.src.Read(b.buf)
		if n < 0 || n > len(b.buf) {
			b.err = errors.New("gzmember: source returned an invalid count")
			return b.err
		}
		b.w = n
		if err != nil {
			b.err = err
		}
		if n > 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
	b.err = io.ErrNoProgress
	return b.err
}
