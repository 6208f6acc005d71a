package pkg

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/sign"
)

// benchEntries is 32 MiB in 64 files, half random and half text, so the
// compressed size is realistic.
func benchEntries() []Entry {
	rng := rand.New(rand.NewPCG(7, 7))
	entries := []Entry{{Header: hdr(tar.TypeDir, "usr", 0o755)}}
	for i := range 64 {
		data := make([]byte, 512<<10)
		if i%2 == 0 {
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
		} else {
			for j := range data {
				data[j] = "abcdefgh ijk\n"[rng.IntN(13)]
			}
		}
		entries = append(entries, Entry{Header: hdr(tar.TypeReg, fmt.Sprintf("usr/file%02d", i), 0o644), Data: data})
	}
	return entries
}

func BenchmarkWrite(b *testing.B) {
	a, _ := testSigners(b)
	entries := benchEntries()
	b.SetBytes(32 << 20)
	for b.Loop() {
		if _, err := Write(io.Discard, &index.Package{Name: "bench", Version: "1-r0"}, entries, WriteOptions{Signer: a, Alg: sign.SHA256}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead reads the synthetic package: half its bytes are random,
// which deflate stores, so it mostly measures copying and hashing.
func BenchmarkRead(b *testing.B) { benchmarkRead(b, benchEntries()) }

// BenchmarkReadGoTree reads a package of real files that deflate
// compresses as it does a distribution's: the Go toolchain's compiler
// sources and its compiler binary (about 40 MB), as the bench's large
// image ships them.
func BenchmarkReadGoTree(b *testing.B) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skipf("no Go tree to read: %v", err)
	}
	goroot := strings.TrimSpace(string(out))
	var files []string
	err = filepath.WalkDir(filepath.Join(goroot, "src/cmd/compile/internal/ssa"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		b.Skipf("no Go tree to read: %v", err)
	}
	files = append(files, filepath.Join(goroot, "pkg/tool", runtime.GOOS+"_"+runtime.GOARCH, "compile"))
	var entries []Entry
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Skipf("no Go tree to read: %v", err)
		}
		rel, _ := filepath.Rel(goroot, p)
		entries = append(entries, Entry{Header: hdr(tar.TypeReg, "usr/lib/go/"+filepath.ToSlash(rel), 0o644), Data: data})
	}
	benchmarkRead(b, entries)
}

func benchmarkRead(b *testing.B, entries []Entry) {
	a, _ := testSigners(b)
	var buf bytes.Buffer
	if _, err := Write(&buf, &index.Package{Name: "bench", Version: "1-r0"}, entries, WriteOptions{Signer: a, Alg: sign.SHA256}); err != nil {
		b.Fatal(err)
	}
	var size int64
	for _, e := range entries {
		size += int64(len(e.Data))
	}
	kr := keyringOf(b, a)
	b.SetBytes(size)
	for b.Loop() {
		r, err := Open(bytes.NewReader(buf.Bytes()), ReadOptions{Keyring: kr})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				b.Fatal(err)
			}
		}
	}
}
