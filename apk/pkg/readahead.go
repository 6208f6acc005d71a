package pkg

import (
	"errors"
	"io"
)

// readAhead reads r in a goroutine of its own, up to a few chunks ahead
// of its reader. A package's data section is inflated (with its datahash
// and the file's own reads) there, beside the parsing, checksumming and
// writing of what came out: inflating is most of an install's work, and
// a one-package rebuild's install step has the builder's cores to itself.
//
// One goroutine reads and one other calls Read and Close; a reader that
// stops before the end must Close, or the goroutine waits for it forever.
type readAhead struct {
	full chan chunk  // filled chunks, in order
	free chan []byte // chunks read, to fill again
	stop chan struct{}
	done chan struct{} // closed when the goroutine has returned

	cur     []byte // what is left of the chunk being read
	held    []byte // that chunk, to give back once read
	err     error  // the error after cur: the goroutine's last
	stopped bool
}

type chunk struct {
	buf []byte
	n   int
	err error // after buf[:n]; the last chunk has one
}

// Chunks of 64 KiB, four ahead: as fast on BenchmarkReadGoTree as more
// or larger ones.
const (
	readAheadChunks = 4
	readAheadSize   = 64 << 10
)

func newReadAhead(r io.Reader) *readAhead {
	a := &readAhead{full: make(chan chunk, readAheadChunks), free: make(chan []byte, readAheadChunks),
		stop: make(chan struct{}), done: make(chan struct{})}
	for range readAheadChunks {
		a.free <- make([]byte, readAheadSize)
	}
	go a.fill(r)
	return a
}

// fill reads r into free chunks until r fails or ends, or Close.
func (a *readAhead) fill(r io.Reader) {
	defer close(a.done)
	for {
		var buf []byte
		select {
		case buf = <-a.free:
		case <-a.stop:
			return
		}
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var m int
			m, err = r.Read(buf[n:])
			n += m
		}
		select {
		case a.full <- chunk{buf: buf, n: n, err: err}:
		case <-a.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (a *readAhead) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		if a.held != nil {
			a.free <- a.held // never blocks: free holds every chunk
			a.held = nil
		}
		c := <-a.full
		a.cur, a.held, a.err = c.buf[:c.n], c.buf, c.err
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the goroutine and waits for it to return, after which its
// reader is the caller's again. Reading after Close is an error.
func (a *readAhead) Close() {
	if !a.stopped {
		a.stopped = true
		close(a.stop)
	}
	<-a.done
	a.cur = nil
	if a.err == nil {
		a.err = errReadAheadClosed
	}
}

var errReadAheadClosed = errors.New("read after the package reader was closed")
