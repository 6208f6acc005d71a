package pkg

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
	"time"
)

func TestReadAhead(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 5*readAheadSize+123)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	errBroken := errors.New("broken")
	tests := []struct {
		name    string
		src     io.Reader
		want    []byte
		wantErr error
	}{
		{"empty", bytes.NewReader(nil), nil, io.EOF},
		{"less than a chunk", bytes.NewReader(data[:100]), data[:100], io.EOF},
		{"exactly a chunk", bytes.NewReader(data[:readAheadSize]), data[:readAheadSize], io.EOF},
		{"more chunks than ahead", bytes.NewReader(data), data, io.EOF},
		{"a byte at a time", iotest.OneByteReader(bytes.NewReader(data[:3000])), data[:3000], io.EOF},
		{"an error after data", io.MultiReader(bytes.NewReader(data), iotest.ErrReader(errBroken)), data, errBroken},
		{"the source's own unexpected EOF", io.MultiReader(bytes.NewReader(data[:10]), iotest.ErrReader(io.ErrUnexpectedEOF)), data[:10], io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newReadAhead(tt.src)
			defer a.Close()
			// Odd read sizes, so reads straddle chunks.
			var got []byte
			buf := make([]byte, 7777)
			var err error
			for err == nil {
				var n int
				n, err = a.Read(buf)
				got = append(got, buf[:n]...)
			}
			if !bytes.Equal(got, tt.want) || !errors.Is(err, tt.wantErr) {
				t.Errorf("read %d bytes (same: %v), then %v; want %d bytes, then %v", len(got), bytes.Equal(got, tt.want), err, len(tt.want), tt.wantErr)
			}
			// The error stays.
			if n, err2 := a.Read(buf); n != 0 || err2 != err {
				t.Errorf("read again: %d, %v; want 0, %v", n, err2, err)
			}
		})
	}
}

// TestReadAheadClose stops the goroutine of a reader left half read,
// one whose source blocks, and one never read.
func TestReadAheadClose(t *testing.T) {
	data := make([]byte, 20*readAheadSize)
	half := newReadAhead(bytes.NewReader(data))
	if _, err := io.ReadFull(half, make([]byte, readAheadSize+1)); err != nil {
		t.Fatal(err)
	}
	never := newReadAhead(bytes.NewReader(data))
	pr, pw := io.Pipe()
	blocked := newReadAhead(pr)
	go func() {
		time.Sleep(50 * time.Millisecond)
		pw.CloseWithError(errors.New("source closed"))
	}()
	for name, a := range map[string]*readAhead{"half read": half, "never read": never, "blocked": blocked} {
		closed := make(chan struct{})
		go func() { a.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Close did not return", name)
		}
		select {
		case <-a.done:
		default:
			t.Errorf("%s: the goroutine runs on after Close", name)
		}
		if _, err := a.Read(make([]byte, 1)); !errors.Is(err, errReadAheadClosed) {
			t.Errorf("%s: read after Close: %v", name, err)
		}
		a.Close() // twice is fine
	}
}

// TestReaderClose closes a package read half way: its read-ahead stops,
// and the reader says it was closed.
func TestReaderClose(t *testing.T) {
	data, _ := writeFixture(t, WriteOptions{})
	r, err := Open(bytes.NewReader(data), ReadOptions{AllowUntrusted: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.ahead.done:
	default:
		t.Error("the read-ahead runs on after Close")
	}
	if _, err := r.Next(); !errors.Is(err, errReadAheadClosed) {
		t.Errorf("Next after Close: %v", err)
	}
	// Read to its end, a package stays read: Close changes nothing.
	whole, err := Open(bytes.NewReader(data), ReadOptions{AllowUntrusted: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := drain(whole); err != nil {
		t.Fatal(err)
	}
	whole.Close()
	if _, err := whole.Next(); err != io.EOF {
		t.Errorf("Next after the end and Close: %v, want io.EOF", err)
	}
}
