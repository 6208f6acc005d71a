package pkg

import (
	"errors"
	"io"
	"sync"
)

var errReaderClosed = errors.New("read after Close")

// Read-ahead of the inflated data section: aheadBlocks blocks of
// aheadBlockSize bytes may wait for the reader (1 MiB a package).
const (
	aheadBlocks    = 4
	aheadBlockSize = 256 << 10
)

// Packages that install less than aheadMinSize bytes are read without
// it (a variable so tests can send every package through it).
var aheadMinSize uint64 = 1 << 20

// aheadReader reads its source in a goroutine of its own, a few blocks
// ahead of its reader. Inflating a package's data section is about half
// of an install step's CPU, the rest being the tar walk, each file's
// SHA-1 and the writes: on two cores the two halves overlap.
//
// Read returns the source's bytes and then its error, as the source did.
// Once Read has returned that error the goroutine has stopped reading;
// stop ends it early (a reader that gives up), without waiting for a read
// of the source already under way.
type aheadReader struct {
	full chan aheadBlock // filled blocks, in order
	free chan []byte     // blocks the reader is done with
	quit chan struct{}
	done chan struct{} // closed when the goroutine has returned
	once sync.Once

	cur  []byte // what is left of the block being read
	buf  []byte // that block, to give back
	err  error  // the source's, once its last block is read
	last bool
}

type aheadBlock struct {
	data []byte
	err  error
}

func newAheadReader(src io.Reader) *aheadReader {
	a := &aheadReader{
		full: make(chan aheadBlock, aheadBlocks),
		// Every block fits in free, so giving one back never blocks.
		free: make(chan []byte, aheadBlocks+1),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range aheadBlocks + 1 {
		a.free <- make([]byte, aheadBlockSize)
	}
	go a.fill(src)
	return a
}

// fill reads src into free blocks until src fails or ends.
func (a *aheadReader) fill(src io.Reader) {
	defer close(a.done)
	for {
		var buf []byte
		select {
		case buf = <-a.free:
		case <-a.quit:
			return
		}
		n, err := 0, error(nil)
		for n < len(buf) && err == nil {
			var m int
			m, err = src.Read(buf[n:])
			n += m
		}
		select {
		case a.full <- aheadBlock{data: buf[:n], err: err}:
		case <-a.quit:
			return
		}
		if err != nil {
			return
		}
	}
}

func (a *aheadReader) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.last {
			return 0, a.err
		}
		if a.buf != nil {
			a.free <- a.buf[:cap(a.buf)]
			a.buf = nil
		}
		var b aheadBlock
		select {
		case b = <-a.full:
		case <-a.done:
			// The goroutine returned: its last block may still wait.
			select {
			case b = <-a.full:
			default:
				b = aheadBlock{err: errReaderClosed}
			}
		}
		a.cur, a.buf = b.data, b.data
		if b.err != nil {
			a.err, a.last = b.err, true
		}
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// wait waits until the goroutine has returned: after Read's error, it no
// longer touches the source.
func (a *aheadReader) wait() { <-a.done }

// stop tells the goroutine to return once its read of the source, if one
// is under way, is done.
func (a *aheadReader) stop() { a.once.Do(func() { close(a.quit) }) }
