package index

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"runtime"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

func BenchmarkReadAlpine316(b *testing.B) {
	data, err := os.ReadFile(sharedTestdata(b, "alpine-3.16/x86_64/APKINDEX.tar.gz"))
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []struct {
		name string
		min  int
	}{{"concurrent", concurrentMin}, {"sequential", 1 << 62}} {
		b.Run(mode.name, func(b *testing.B) {
			defer func(old int) { concurrentMin = old }(concurrentMin)
			concurrentMin = mode.min
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Read(bytes.NewReader(data), ReadOptions{AllowUntrusted: true}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}

func benchGunzip(b *testing.B, open func(io.Reader) (io.Reader, error)) {
	data, err := os.ReadFile(sharedTestdata(b, "alpine-3.16/x86_64/APKINDEX.tar.gz"))
	if err != nil {
		b.Fatal(err)
	}
	body := data[sigOffset(b, data):]
	out := make([]byte, 4<<20)
	for b.Loop() {
		r, err := open(bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.ReadFull(r, out)
		if err != io.ErrUnexpectedEOF {
			b.Fatal(err)
		}
		b.SetBytes(int64(n))
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

func BenchmarkGunzipStdlib(b *testing.B) {
	benchGunzip(b, func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) })
}

func BenchmarkGunzipKlauspost(b *testing.B) {
	benchGunzip(b, func(r io.Reader) (io.Reader, error) { return kgzip.NewReader(r) })
}

// synthRecord is one record shaped like Alpine's: so: dependencies, a few
// provides, now and then a provider priority or install_if.
func synthRecord(i int) string {
	s := fmt.Sprintf("C:Q1%027d=\nP:pkg-%05d\nV:%d.%d.%d-r%d\nA:x86_64\nS:%d\nI:%d\n"+
		"T:Synthetic package number %d with a description about as long as real ones\nU:https://example.org/pkg-%05d\nL:MIT AND BSD-3-Clause\n"+
		"o:origin-%05d\nm:Some Maintainer <maint@example.org>\nt:%d\nc:%040d\n"+
		"D:so:libc.musl-x86_64.so.1 pkg-%05d>=1.0 so:libpkg%05d.so.1 cmd:sh\n"+
		"p:so:libpkg%05d.so.1=1.0.0 cmd:pkg%05d=1.0-r0 pc:pkg%05d=1.0\n",
		i, i, i%7, i%13, i%101, i%5, 10000+i*37, 40000+i*91, i, i, i/3, 1667000000+i, i, (i+1)%50000, (i+7)%50000, i, i, i)
	if i%10 == 0 {
		s += fmt.Sprintf("k:%d\ni:pkg-%05d pkg-%05d\n", i%100, i/2, i/3)
	}
	return s + "\n"
}

func BenchmarkParse50k(b *testing.B) {
	var buf bytes.Buffer
	for i := range 50000 {
		buf.WriteString(synthRecord(i))
	}
	text := buf.Bytes()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		pkgs, err := ParseTextBytes(text)
		runtime.ReadMemStats(&after)
		if err != nil || len(pkgs) != 50000 {
			b.Fatal(err, len(pkgs))
		}
		// Everything allocated during the parse bounds the heap's growth;
		// the input is live throughout, so it counts as well.
		peak = max(peak, after.TotalAlloc-before.TotalAlloc+uint64(len(text)))
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// BenchmarkParseOneRecord parses the text of one package, as the
// metadata step parses each layer's installed database fragment.
func BenchmarkParseOneRecord(b *testing.B) {
	text := []byte(synthRecord(7))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if pkgs, err := ParseTextBytes(text); err != nil || len(pkgs) != 1 {
			b.Fatal(err, len(pkgs))
		}
	}
}
