package frontend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/gateway/client"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// countingRef is a dirRef that counts the gateway calls made of it.
type countingRef struct {
	dirRef
	reads, stats int
}

func (r *countingRef) ReadFile(ctx context.Context, req client.ReadRequest) ([]byte, error) {
	r.reads++
	return r.dirRef.ReadFile(ctx, req)
}

func (r *countingRef) StatFile(ctx context.Context, req client.StatRequest) (*fstypes.Stat, error) {
	r.stats++
	return r.dirRef.StatFile(ctx, req)
}

// TestReadAll checks that a file that fits one page costs one read and no
// stat, that a larger one is paged whole, and that the limit holds at its
// edge whatever the page.
func TestReadAll(t *testing.T) {
	big := bytes.Repeat([]byte("k"), readChunk+readChunk/2)
	for _, tc := range []struct {
		name         string
		size         int
		max          int64
		reads, stats int
		err          string
	}{
		{name: "small", size: 300, max: 1 << 20, reads: 1},
		{name: "empty", size: 0, max: 1 << 20, reads: 1},
		{name: "at the limit", size: 1000, max: 1000, reads: 1},
		{name: "one byte over", size: 1001, max: 1000, reads: 1, stats: 1, err: "1001 bytes is over the 1000-byte limit"},
		{name: "far over", size: 5000, max: 1000, reads: 1, stats: 1, err: "5000 bytes is over the 1000-byte limit"},
		{name: "exactly a page", size: readChunk, max: 1 << 30, reads: 1, stats: 1},
		{name: "a page and a half", size: len(big), max: 1 << 30, reads: 2, stats: 1},
		{name: "no practical limit", size: 300, max: math.MaxInt64, reads: 1},
		{name: "missing", size: -1, max: 1000, reads: 1, err: "no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.size >= 0 {
				if err := os.WriteFile(filepath.Join(dir, "f"), big[:tc.size], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ref := &countingRef{dirRef: dirRef{root: dir}}
			got, err := readAll(context.Background(), ref, "f", tc.max)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case !bytes.Equal(got, big[:tc.size]):
				t.Fatalf("read %d bytes, want the file's %d", len(got), tc.size)
			}
			if ref.reads != tc.reads || ref.stats != tc.stats {
				t.Errorf("%d reads and %d stats, want %d and %d", ref.reads, ref.stats, tc.reads, tc.stats)
			}
		})
	}
}

// TestReadEach checks that reads run side by side, no more than maxReads
// at once, and that the error is the first path's in the order asked even
// when a later path's read fails first.
func TestReadEach(t *testing.T) {
	t.Run("error in the order asked", func(t *testing.T) {
		laterFailed := make(chan struct{})
		_, err := readEach([]string{"a", "b", "c"}, func(p string) ([]byte, error) {
			switch p {
			case "a":
				select { // fails only after c has, if they run side by side
				case <-laterFailed:
				case <-time.After(5 * time.Second):
				}
				return nil, errors.New("a failed")
			case "c":
				defer close(laterFailed)
				return nil, errors.New("c failed")
			}
			return []byte(p), nil
		})
		if err == nil || err.Error() != "a failed" {
			t.Fatalf("err = %v, want a's", err)
		}
	})
	t.Run("all read, bounded", func(t *testing.T) {
		var mu sync.Mutex
		var inFlight, most int
		var paths []string
		for i := range 3 * maxReads {
			paths = append(paths, fmt.Sprintf("p%d", i))
		}
		got, err := readEach(paths, func(p string) ([]byte, error) {
			mu.Lock()
			inFlight++
			most = max(most, inFlight)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			inFlight--
			mu.Unlock()
			return []byte("data of " + p), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			if string(got[p]) != "data of "+p {
				t.Errorf("%s: %q", p, got[p])
			}
		}
		if most < 2 || most > maxReads {
			t.Errorf("%d reads at once, want 2..%d", most, maxReads)
		}
	})
}
