package pargzip

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

func compress(t *testing.T, data []byte, workers int, chunk int) []byte {
	t.Helper()
	var buf bytes.Buffer
	z, err := NewWriter(&buf, 6, workers)
	if err != nil {
		t.Fatal(err)
	}
	for len(data) > 0 {
		n := min(chunk, len(data))
		if _, err := z.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func testData(n int) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, n)
	for i := range b {
		if i%3000 < 1500 {
			b[i] = byte(rng.Uint32()) // incompressible stretch
		} else {
			b[i] = "kiln packages"[i%13] // repetitive stretch
		}
	}
	return b
}

func TestRoundTripAndDeterminism(t *testing.T) {
	for _, n := range []int{0, 1, dictSize - 1, BlockSize - 1, BlockSize, BlockSize + 1, 3*BlockSize + 12345, 4 * BlockSize} {
		data := testData(n)
		ref := compress(t, data, 1, 1<<30)
		for _, w := range []int{2, 3, 8} {
			for _, chunk := range []int{1000, 4096, BlockSize + 7} {
				if got := compress(t, data, w, chunk); !bytes.Equal(got, ref) {
					t.Fatalf("size %d: %d workers, %d-byte writes give other bytes than 1 worker", n, w, chunk)
				}
			}
		}
		zr, err := gzip.NewReader(bytes.NewReader(ref))
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("size %d: %v", n, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("size %d: decompressed %d bytes differ", n, len(got))
		}
		if zr.Name != "" || !zr.ModTime.IsZero() {
			t.Errorf("header has name %q time %v", zr.Name, zr.ModTime)
		}
	}
}

// The dictionary keeps the ratio near a serial stream's.
func TestRatio(t *testing.T) {
	data := bytes.Repeat([]byte("melange output directory turned into an apk; "), 200000)
	par := compress(t, data, 2, 1<<16)
	var serial bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&serial, 6)
	zw.Write(data)
	zw.Close()
	if float64(len(par)) > 1.5*float64(serial.Len())+float64(64*len(data)/BlockSize) {
		t.Errorf("parallel %d bytes, serial %d", len(par), serial.Len())
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	z, err := NewWriter(&failWriter{n: 100}, 6, 2)
	if err != nil {
		t.Fatal(err)
	}
	data := testData(5 * BlockSize)
	var werr error
	for i := 0; i < len(data) && werr == nil; i += 4096 {
		_, werr = z.Write(data[i : i+4096])
	}
	if cerr := z.Close(); cerr == nil || cerr.Error() != "disk full" {
		t.Fatalf("Close = %v, want disk full", cerr)
	}
	if _, err := z.Write([]byte("x")); err == nil {
		t.Error("write after close accepted")
	}
}

func BenchmarkWriter(b *testing.B) {
	data := testData(16 * BlockSize)
	for _, w := range []int{1, 2} {
		b.Run(map[int]string{1: "1worker", 2: "2workers"}[w], func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for range b.N {
				z, _ := NewWriter(io.Discard, 6, w)
				z.Write(data)
				z.Close()
			}
		})
	}
}
