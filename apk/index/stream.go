package index

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"unsafe"
)

const readChunk = 64 << 10

// Below concurrentMin bytes a goroutine costs more than it saves. A
// variable so that a benchmark can compare both ways.
var concurrentMin = 256 << 10

// readText reads size bytes of APKINDEX text from r into one buffer and
// parses it. Records slice that buffer in place: nothing else ever holds
// or writes it once read, so it can back strings without a copy.
//
// Inflating dominates the cost of reading an index, so for large texts
// the parser runs in a second goroutine, one chunk of whole lines behind
// the reader.
func readText(r io.Reader, size int) ([]*Package, error) {
	buf := make([]byte, size)
	text := unsafe.String(unsafe.SliceData(buf), len(buf))
	if size < concurrentMin {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("tar: APKINDEX: %w", err)
		}
		var p parser
		if err := p.feed(text); err != nil {
			return nil, err
		}
		return p.finish()
	}

	// ready carries the end offset of each run of complete lines read so
	// far; the reader never writes below an offset it has sent.
	ready := make(chan int, 16)
	type result struct {
		pkgs []*Package
		err  error
	}
	done := make(chan result, 1)
	var failed atomic.Bool
	go func() {
		var p parser
		var err error
		from := 0
		for end := range ready {
			if err == nil {
				err = p.feed(text[from:end])
				from = end
				if err != nil {
					failed.Store(true) // stop the reader early
				}
			}
		}
		var pkgs []*Package
		if err == nil {
			pkgs, err = p.finish()
		}
		done <- result{pkgs, err}
	}()

	n, sent := 0, 0
	var readErr error
	for n < size && !failed.Load() {
		m, err := r.Read(buf[n:min(n+readChunk, size)])
		if i := bytes.LastIndexByte(buf[n:n+m], '\n'); i >= 0 {
			sent = n + i + 1
			ready <- sent
		}
		n += m
		if errors.Is(err, io.EOF) && n < size {
			err = io.ErrUnexpectedEOF
		}
		if err != nil && !errors.Is(err, io.EOF) {
			readErr = fmt.Errorf("tar: APKINDEX: %w", err)
			break
		}
	}
	if readErr == nil && !failed.Load() && sent < size {
		ready <- size // the last line has no '\n'
	}
	close(ready)
	res := <-done
	if readErr != nil {
		return nil, readErr
	}
	return res.pkgs, res.err
}
