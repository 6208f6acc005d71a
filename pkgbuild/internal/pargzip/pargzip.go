// Package pargzip writes one gzip member compressed on several cores.
//
// The input is cut into fixed-size blocks; each is deflated on its own,
// primed with the previous block's last 32 KiB as dictionary (so the
// ratio stays close to a serial stream), and ends byte-aligned with an
// empty stored block, so the compressed blocks concatenate into one
// deflate stream. The output depends only on the input, the level and
// the block size, never on how many goroutines did the work: a package's
// checksums cover these bytes.
package pargzip

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"runtime"
	"sync/atomic"

	"github.com/klauspost/compress/flate"
)

// BlockSize is the uncompressed size of a block.
const BlockSize = 1 << 20

const dictSize = 32 << 10

// header is a gzip header without name, comment or time, as `gzip -n`.
var header = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

type job struct {
	data, dict []byte
	last       bool
	out        chan result
}

type result struct {
	b   []byte
	err error
}

// Writer compresses what is written to it. Close must be called.
type Writer struct {
	w       io.Writer
	level   int
	buf     []byte // the block being filled
	prevEnd []byte // the last dictSize bytes of the previous block
	crc     uint32
	size    uint32
	jobs    chan job
	pending chan chan result // in input order
	done    chan error
	err     error
	failed  atomic.Pointer[error] // the first error writing out
	closed  bool
}

// NewWriter returns a writer compressing at level with up to workers
// blocks in flight (<= 0: GOMAXPROCS).
func NewWriter(w io.Writer, level, workers int) (*Writer, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if _, err := flate.NewWriter(io.Discard, level); err != nil {
		return nil, err
	}
	z := &Writer{
		w: w, level: level,
		buf:     make([]byte, 0, BlockSize),
		jobs:    make(chan job),
		pending: make(chan chan result, workers),
		done:    make(chan error, 1),
	}
	for range workers {
		go z.worker()
	}
	go z.drain()
	return z, nil
}

func (z *Writer) worker() {
	var out bytes.Buffer
	var fw *flate.Writer
	for j := range z.jobs {
		out.Reset()
		var err error
		if fw == nil {
			fw, err = flate.NewWriterDict(&out, z.level, j.dict)
		} else {
			fw.ResetDict(&out, j.dict) // reuses the compressor's tables
		}
		if err == nil {
			_, err = fw.Write(j.data)
		}
		if err == nil {
			if j.last {
				err = fw.Close()
			} else {
				err = fw.Flush() // byte-aligns the block: the next one can follow
			}
		}
		j.out <- result{b: bytes.Clone(out.Bytes()), err: err}
	}
}

// drain writes the compressed blocks in order.
func (z *Writer) drain() {
	_, err := z.w.Write(header)
	for ch := range z.pending {
		r := <-ch
		if err == nil {
			err = r.err
		}
		if err == nil {
			_, err = z.w.Write(r.b)
		}
		if err != nil && z.failed.Load() == nil {
			z.failed.Store(&err)
		}
	}
	z.done <- err
}

func (z *Writer) Write(p []byte) (int, error) {
	if z.closed {
		return 0, errors.New("pargzip: write after close")
	}
	if e := z.failed.Load(); e != nil {
		return 0, *e
	}
	n := len(p)
	z.crc = crc32.Update(z.crc, crc32.IEEETable, p)
	z.size += uint32(n)
	for len(p) > 0 {
		c := copy(z.buf[len(z.buf):cap(z.buf)], p)
		z.buf = z.buf[:len(z.buf)+c]
		p = p[c:]
		if len(z.buf) == cap(z.buf) && len(p) > 0 {
			z.submit(false)
		}
	}
	return n, nil
}

// submit hands the filled block to a worker. A full block is held back
// until more input arrives, so the last block is always known as last.
func (z *Writer) submit(last bool) {
	block := z.buf
	ch := make(chan result, 1)
	z.pending <- ch
	z.jobs <- job{data: block, dict: z.prevEnd, last: last, out: ch}
	if len(block) >= dictSize {
		z.prevEnd = block[len(block)-dictSize:]
	} else {
		z.prevEnd = append(z.prevEnd, block...)
		if len(z.prevEnd) > dictSize {
			z.prevEnd = z.prevEnd[len(z.prevEnd)-dictSize:]
		}
	}
	z.prevEnd = bytes.Clone(z.prevEnd)
	z.buf = make([]byte, 0, BlockSize)
}

// Close compresses the last block and writes the gzip trailer.
func (z *Writer) Close() error {
	if z.closed {
		return z.err
	}
	z.closed = true
	z.submit(true)
	close(z.jobs)
	close(z.pending)
	if err := <-z.done; err != nil {
		z.err = err
		return err
	}
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], z.crc)
	binary.LittleEndian.PutUint32(trailer[4:], z.size)
	if _, err := z.w.Write(trailer[:]); err != nil {
		z.err = err
	}
	return z.err
}
