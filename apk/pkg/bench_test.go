package pkg

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
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

func BenchmarkRead(b *testing.B) {
	a, _ := testSigners(b)
	var buf bytes.Buffer
	if _, err := Write(&buf, &index.Package{Name: "bench", Version: "1-r0"}, benchEntries(), WriteOptions{Signer: a, Alg: sign.SHA256}); err != nil {
		b.Fatal(err)
	}
	kr := keyringOf(b, a)
	b.SetBytes(32 << 20)
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
