package gzmember

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

func member(t *testing.T, level int, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestMemberBoundaries checks that each member's sink receives exactly the
// compressed bytes of that member, whatever the source's read sizes.
func TestMemberBoundaries(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 300<<10) // larger than the buffer, incompressible
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	texty := bytes.Repeat([]byte("usr/share/locale/de/LC_MESSAGES/hello.mo\n"), 5000)
	contents := [][]byte{[]byte("signature"), {}, texty, random, []byte("x")}
	levels := []int{gzip.BestCompression, gzip.NoCompression, gzip.DefaultCompression, gzip.BestSpeed, gzip.HuffmanOnly}

	var members [][]byte
	var all []byte
	for i, c := range contents {
		m := member(t, levels[i], c)
		members = append(members, m)
		all = append(all, m...)
	}
	sources := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one-byte", iotest.OneByteReader},
		{"half", iotest.HalfReader},
		{"data-err", iotest.DataErrReader},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			br := NewReader(src.wrap(bytes.NewReader(all)))
			var zr gzip.Reader
			for i, want := range members {
				var sink bytes.Buffer
				br.SetSink(&sink)
				if err := zr.Reset(br); err != nil {
					t.Fatalf("member %d header: %v", i, err)
				}
				zr.Multistream(false)
				got, err := io.ReadAll(&zr)
				if err != nil {
					t.Fatalf("member %d: %v", i, err)
				}
				if !bytes.Equal(got, contents[i]) {
					t.Fatalf("member %d: decompressed %d bytes, want %d", i, len(got), len(contents[i]))
				}
				br.SetSink(nil)
				if !bytes.Equal(sink.Bytes(), want) {
					t.Fatalf("member %d: sink got %d bytes, member has %d", i, sink.Len(), len(want))
				}
			}
			if br.Offset() != int64(len(all)) {
				t.Errorf("Offset = %d, want %d", br.Offset(), len(all))
			}
			eof, err := br.AtEOF()
			if err != nil || !eof {
				t.Errorf("AtEOF = %v, %v; want true, nil", eof, err)
			}
		})
	}
}

func TestAtEOFWithTrailingData(t *testing.T) {
	m := member(t, gzip.DefaultCompression, []byte("hello"))
	br := NewReader(bytes.NewReader(append(m, 0)))
	zr, err := gzip.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	if _, err := io.ReadAll(zr); err != nil {
		t.Fatal(err)
	}
	eof, err := br.AtEOF()
	if err != nil || eof {
		t.Fatalf("AtEOF = %v, %v; want false, nil with one trailing byte", eof, err)
	}
	if br.Offset() != int64(len(m)) {
		t.Fatalf("AtEOF consumed bytes: Offset = %d, want %d", br.Offset(), len(m))
	}
}

type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

func TestSourceErrors(t *testing.T) {
	tests := []struct {
		name string
		src  io.Reader
		want error
	}{
		{"no-progress", stuckReader{}, io.ErrNoProgress},
		{"error", iotest.ErrReader(io.ErrClosedPipe), io.ErrClosedPipe},
		{"empty", bytes.NewReader(nil), io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := NewReader(tt.src)
			if _, err := br.ReadByte(); !errors.Is(err, tt.want) {
				t.Fatalf("ReadByte error = %v, want %v", err, tt.want)
			}
			if _, err := br.Read(make([]byte, 4)); !errors.Is(err, tt.want) {
				t.Fatalf("second Read error = %v, want sticky %v", err, tt.want)
			}
		})
	}
}
