package index

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// opaque hides a reader's length, as a network body does.
type opaque struct{ io.Reader }

// Lines and records are bounded, in ParseText and in Read, whether the
// text is parsed at once or concurrently and wherever chunks end.
func TestLineAndRecordBounds(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name string
		text string
		opts ReadOptions
		want string // "" for success
	}{
		{"longest line allowed", "P:a\nV:1\nT:" + long(DefaultMaxLine-2) + "\n", ReadOptions{}, ""},
		{"line one byte too long", "P:a\nV:1\nT:" + long(DefaultMaxLine-1) + "\n", ReadOptions{},
			"APKINDEX line 3: exceeds the size cap: longer than 1048576 bytes"},
		{"long last line without newline", "P:a\nV:1\np:" + long(2*DefaultMaxLine), ReadOptions{},
			"APKINDEX line 3: exceeds the size cap: longer than 1048576 bytes"},
		{"long line after many records", strings.Repeat("P:a\nV:1\n\n", 2000) + "P:b\nV:1\nD:" + long(DefaultMaxLine) + "\n", ReadOptions{},
			"APKINDEX line 6003: exceeds the size cap: longer than 1048576 bytes"},
		{"MaxLine option", "P:a\nV:1\nT:" + long(99) + "\n", ReadOptions{MaxLine: 100},
			"APKINDEX line 3: exceeds the size cap: longer than 100 bytes"},
		{"record of many long lines", "P:a\nV:1\n" + strings.Repeat("Z:"+long(DefaultMaxLine-3)+"\n", 9), ReadOptions{},
			"APKINDEX record at line 1: exceeds the size cap: longer than 8388608 bytes"},
		{"MaxRecord option", "P:a\nV:1\nT:" + long(50) + "\n\nP:b\nV:1\nT:" + long(100) + "\n", ReadOptions{MaxRecord: 100},
			"APKINDEX record at line 5: exceeds the size cap: longer than 100 bytes"},
	}
	for _, tt := range tests {
		for _, mode := range []struct {
			name  string
			min   int
			chunk int
		}{{"sequential", 1 << 62, 4 << 20}, {"concurrent", 0, 4 << 20}, {"small chunks", 0, 1000}} {
			t.Run(tt.name+"/"+mode.name, func(t *testing.T) {
				defer func(min, chunk int) { concurrentMin, textChunk = min, chunk }(concurrentMin, textChunk)
				concurrentMin, textChunk = mode.min, mode.chunk
				opts := tt.opts
				opts.AllowUntrusted, opts.Name = true, "bounds"
				idx, err := Read(opaque{bytes.NewReader(rawIndex(t, tarEntry{"APKINDEX", -1, []byte(tt.text)}))}, opts)
				if tt.want == "" {
					if err != nil {
						t.Fatal(err)
					}
					if len(idx.Packages) == 0 {
						t.Fatal("no packages")
					}
					return
				}
				if !errors.Is(err, ErrTooLarge) || err.Error() != "index bounds: "+tt.want {
					t.Fatalf("Read = %v, want %q", err, tt.want)
				}
			})
		}
		if tt.opts == (ReadOptions{}) {
			_, err := ParseTextBytes([]byte(tt.text))
			if (tt.want == "") != (err == nil) || err != nil && err.Error() != tt.want {
				t.Errorf("%s: ParseTextBytes = %v, want %q", tt.name, err, tt.want)
			}
		}
	}
}

// Texts cut into many chunks, lines straddling every boundary, read the
// same as parsed at once.
func TestReadSmallChunksMatchParseText(t *testing.T) {
	var text strings.Builder
	for i := range 400 {
		text.WriteString(synthRecord(i))
	}
	want, err := ParseTextBytes([]byte(text.String()))
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{1, 300, 1001, 4096} {
		for _, min := range []int{0, 1 << 62} {
			func() {
				defer func(m, c int) { concurrentMin, textChunk = m, c }(concurrentMin, textChunk)
				concurrentMin, textChunk = min, chunk
				idx, err := Read(opaque{bytes.NewReader(rawIndex(t, tarEntry{"APKINDEX", -1, []byte(text.String())}))}, ReadOptions{AllowUntrusted: true, MaxLine: 600})
				if err != nil {
					t.Fatalf("chunk %d: %v", chunk, err)
				}
				if !reflect.DeepEqual(idx.Packages, want) {
					t.Errorf("chunk %d, concurrentMin %d: records differ from ParseText", chunk, min)
				}
			}()
		}
	}
}

// The compressed index is streamed: a large download is not held in
// memory, only the APKINDEX text is.
func TestReadStreamsCompressedInput(t *testing.T) {
	junk := make([]byte, 24<<20)
	rand.Read(junk) // incompressible: 24 MiB compressed as well
	data := rawIndex(t, tarEntry{"junk", -1, junk}, tarEntry{"APKINDEX", -1, []byte(synthRecord(1))})
	junk = nil
	src := opaque{bytes.NewReader(data)}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	idx, err := Read(src, ReadOptions{AllowUntrusted: true})
	runtime.ReadMemStats(&after)
	if err != nil || len(idx.Packages) != 1 {
		t.Fatalf("Read = %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("allocated %d MiB to read a %d MiB index with a one-record text", grew>>20, len(data)>>20)
	}
}
