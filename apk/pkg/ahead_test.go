package pkg

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
	"time"

	"github.com/kiln-build/kiln/apk/index"
)

func TestAheadReaderGivesTheSourceBytesThenItsError(t *testing.T) {
	errBroken := errors.New("broken source")
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		size int
		err  error // after the bytes; nil: io.EOF
		src  func(io.Reader) io.Reader
	}{
		{name: "empty", size: 0},
		{name: "one byte", size: 1},
		{name: "a block less one", size: aheadBlockSize - 1},
		{name: "a block", size: aheadBlockSize},
		{name: "more blocks than wait", size: (aheadBlocks+3)*aheadBlockSize + 7},
		{name: "short reads", size: 3*aheadBlockSize + 1, src: iotest.HalfReader},
		{name: "one byte at a time", size: 5000, src: iotest.OneByteReader},
		{name: "error after bytes", size: aheadBlockSize + 3, err: errBroken},
		{name: "error at once", size: 0, err: errBroken},
		{name: "data with EOF", size: 100, src: iotest.DataErrReader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := make([]byte, tc.size)
			for i := range want {
				want[i] = byte(rnd.Uint32())
			}
			var src io.Reader = bytes.NewReader(want)
			if tc.err != nil {
				src = io.MultiReader(src, iotest.ErrReader(tc.err))
			}
			if tc.src != nil {
				src = tc.src(src)
			}
			a := newAheadReader(src)
			if tc.err == nil {
				if err := iotest.TestReader(a, want); err != nil {
					t.Fatal(err)
				}
				return
			}
			got, err := io.ReadAll(a)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("read %d bytes before the error, want the source's %d", len(got), len(want))
			}
			if _, err := a.Read(make([]byte, 1)); !errors.Is(err, tc.err) {
				t.Fatalf("read after the error: %v, want it again", err)
			}
		})
	}
}

// endless never ends and counts what it gave.
type endless struct{ given chan int }

func (e endless) Read(p []byte) (int, error) {
	e.given <- len(p)
	return len(p), nil
}

func TestAheadReaderStopsReadingWhenStopped(t *testing.T) {
	src := endless{given: make(chan int, 1000)}
	a := newAheadReader(src)
	if _, err := io.ReadFull(a, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	a.stop()
	a.stop() // twice is fine
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the read-ahead goroutine did not return after stop")
	}
	// It reads at most the blocks there are, though its reader stalled.
	var total int
	for len(src.given) > 0 {
		total += <-src.given
	}
	if max := (aheadBlocks + 1) * aheadBlockSize; total > max {
		t.Errorf("read %d bytes of the source, more than its %d of blocks", total, max)
	}
	if _, err := a.Read(make([]byte, aheadBlockSize)); err == nil {
		// Blocks filled before stop may still be read; the first read
		// after them fails rather than waiting for ever.
		for err == nil {
			_, err = a.Read(make([]byte, aheadBlockSize))
		}
		if !errors.Is(err, errReaderClosed) {
			t.Fatalf("read after stop: %v", err)
		}
	}
}

// TestReadAheadVerifiesAsTheDirectPath runs the reader's tests of
// tampered, truncated and trailing bytes with every package read through
// the read-ahead.
func TestReadAheadVerifiesAsTheDirectPath(t *testing.T) {
	saved := aheadMinSize
	aheadMinSize = 0
	t.Cleanup(func() { aheadMinSize = saved })
	for name, test := range map[string]func(*testing.T){
		"RoundTrip": TestRoundTrip, "Tampered": TestTampered, "DataAfterDataSection": TestDataAfterDataSection,
		"Truncated": TestTruncated, "ReadStickyError": TestReadStickyError, "Sparse": TestSparseRejected,
		"IndexPinned": TestIndexPinnedPackages, "Xattrs": TestXattrsCoveredByDatahash, "RealPackages": TestRealPackages,
	} {
		t.Run(name, test)
	}
}

func TestCloseStopsAPackageReadHalfWay(t *testing.T) {
	a, _ := testSigners(t)
	var entries []Entry
	for _, name := range []string{"usr/share/a", "usr/share/b", "usr/share/c"} {
		data := bytes.Repeat([]byte(name), 2*aheadBlockSize/len(name))
		entries = append(entries, Entry{Header: hdr('0', name, 0o644), Data: data})
	}
	var buf bytes.Buffer
	if _, err := Write(&buf, &index.Package{Name: "half", Version: "1-r0"}, entries, WriteOptions{Signer: a}); err != nil {
		t.Fatal(err)
	}
	pr, err := Open(bytes.NewReader(buf.Bytes()), ReadOptions{Keyring: keyringOf(t, a)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pr.Next(); err != nil {
		t.Fatal(err)
	}
	if err := pr.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-pr.ahead.done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close left the read-ahead goroutine running")
	}
	if _, err := pr.Next(); !errors.Is(err, errReaderClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
}
