package pkgbuild

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchTree writes about 50 MB shaped like a real package: large files
// half incompressible (like stripped binaries and compressed assets),
// half text-like, and many small files.
func benchTree(b *testing.B) (string, int64) {
	b.Helper()
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the quick brown fox jumps over a lazy dog while kiln packages melange output into apk files")
	var total int64
	write := func(p string, data []byte, mode os.FileMode) {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, data, mode); err != nil {
			b.Fatal(err)
		}
		total += int64(len(data))
	}
	for i := range 20 {
		data := make([]byte, 1<<20)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		write(fmt.Sprintf("usr/bin/tool%02d", i), data, 0o755)
	}
	for i := range 20 {
		var sb strings.Builder
		for sb.Len() < 1<<20 {
			sb.WriteString(words[rng.IntN(len(words))])
			sb.WriteByte(" \n"[rng.IntN(2)])
		}
		write(fmt.Sprintf("usr/share/doc/pkg/text%02d.txt", i), []byte(sb.String()[:1<<20]), 0o644)
	}
	for i := range 2500 {
		data := make([]byte, 4096)
		for j := range data {
			data[j] = byte('a' + rng.IntN(16))
		}
		write(fmt.Sprintf("usr/lib/pkg/mod%02d/file%04d.py", i%50, i), data, 0o644)
	}
	return dir, total
}

// BenchmarkBuild packages a ~50 MB output directory, signed, with the
// dependency analysis and SBOM; SetBytes reports input MB/s.
func BenchmarkBuild(b *testing.B) {
	dir, total := benchTree(b)
	s := signer(b)
	p := basePackage()
	b.SetBytes(total)
	b.ResetTimer()
	cpu0 := cpuTime()
	var size int64
	for range b.N {
		res, err := Build(context.Background(), io.Discard, dir, p, Options{Signer: s, SourceDateEpoch: 1})
		if err != nil {
			b.Fatal(err)
		}
		size = int64(res.Record.Size)
	}
	b.ReportMetric(float64(size)/(1<<20), "apk-MB")
	// CPU time is what a busy builder cannot inflate, unlike ns/op.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the process's user plus system time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
