package index

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"unsafe"
)

const readChunk = 64 << 10

// textChunk is the size of the buffers the text is read into. Records
// point into them, so they live as long as the index. A variable so that
// tests can cut texts into many chunks.
var textChunk = 4 << 20

const firstChunk = 64 << 10

// Below concurrentMin bytes a goroutine costs more than it saves. A
// variable so that a benchmark can compare both ways.
var concurrentMin = 256 << 10

// readText reads size bytes of APKINDEX text from r and parses it. The
// text goes into chunks allocated as it arrives (so a header claiming
// megabytes costs little until they come) and records slice the chunks
// in place: no byte of a chunk is written again once it has been handed
// to the parser, so it can back strings without a copy. A line cut by a
// chunk's end is copied to the start of the next chunk.
//
// Inflating dominates the cost of reading an index, so for large texts
// the parser runs in a second goroutine, one run of whole lines behind
// the reader.
func readText(r io.Reader, size int64, lim limits) ([]*Package, error) {
	p := parser{limits: lim}
	concurrent := size >= int64(concurrentMin)
	type result struct {
		pkgs []*Package
		err  error
	}
	var (
		ready  chan string
		done   chan result
		failed atomic.Bool
	)
	if concurrent {
		ready, done = make(chan string, 16), make(chan result, 1)
		go func() {
			var err error
			for text := range ready {
				if err == nil {
					if err = p.feed(text); err != nil {
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
	}
	lines := 0 // lines handed to the parser, for errors found here
	send := func(text string) error {
		lines += strings.Count(text, "\n")
		if concurrent {
			ready <- text
			return nil
		}
		return p.feed(text)
	}

	// Chunks start small and double up to textChunk: a small index, or a
	// short one whose header claims megabytes, allocates little.
	chunk := min(firstChunk, textChunk)
	var buf []byte
	n, start := 0, 0 // bytes in buf; start of what the parser has not had
	left := size
	var readErr error
	for left > 0 && !failed.Load() {
		if n == len(buf) {
			tail := n - start
			// A long line carried over at least doubles the chunk, so
			// carrying it costs linear time whatever the chunk size.
			next := make([]byte, tail+int(min(left, int64(max(chunk, tail)))))
			copy(next, buf[start:n])
			buf, n, start = next, tail, 0
			chunk = min(2*chunk, textChunk)
		}
		m, err := r.Read(buf[n:min(len(buf), n+readChunk)])
		n += m
		left -= int64(m)
		if i := bytes.LastIndexByte(buf[n-m:n], '\n'); i >= 0 {
			end := n - m + i + 1
			if readErr = send(unsafe.String(&buf[start], end-start)); readErr != nil {
				break
			}
			start = end
		}
		if n-start > lim.line {
			readErr = lineTooLong(lines+1, lim.line)
			break
		}
		if errors.Is(err, io.EOF) && left > 0 {
			err = io.ErrUnexpectedEOF
		}
		if err != nil && !errors.Is(err, io.EOF) {
			readErr = fmt.Errorf("tar: APKINDEX: %w", err)
			break
		}
	}
	if readErr == nil && !failed.Load() && start < n {
		readErr = send(unsafe.String(&buf[start], n-start)) // the last line has no '\n'
	}
	if !concurrent {
		if readErr != nil {
			return nil, readErr
		}
		return p.finish()
	}
	close(ready)
	res := <-done
	if res.err != nil {
		return nil, res.err
	}
	if readErr != nil {
		return nil, readErr
	}
	return res.pkgs, nil
}
