package pkgsteps

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/kiln-build/kiln/internal/testkit"
	"github.com/kiln-build/kiln/step"
)

type entry struct {
	name, body, link string
	typ              byte
}

func tarOf(t *testing.T, ents ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: e.typ, Linkname: e.link, Size: int64(len(e.body))}
		switch e.typ {
		case 0:
			h.Typeflag = tar.TypeReg
		case tar.TypeDir:
			h.Mode = 0o755
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	return b.Bytes()
}

func compress(t *testing.T, kind string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	switch kind {
	case "gzip":
		w := gzip.NewWriter(&b)
		w.Write(data)
		w.Close()
	case "xz":
		w, err := xz.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		w.Close()
	case "zstd":
		w, err := zstd.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		w.Close()
	default:
		return data
	}
	return b.Bytes()
}

func TestExtract(t *testing.T) {
	src := tarOf(t,
		entry{name: "hello-1.0/", typ: tar.TypeDir},
		entry{name: "hello-1.0/README", body: "read me\n"},
		entry{name: "hello-1.0/src/main.c", body: "int main(){}\n"},
		entry{name: "hello-1.0/LINK", link: "README", typ: tar.TypeSymlink},
	)
	for _, kind := range []string{"plain", "gzip", "xz", "zstd"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			archive := filepath.Join(dir, "hello.tar")
			data := compress(t, kind, src)
			os.WriteFile(archive, data, 0o644)
			sum := sha256.Sum256(data)
			ws := filepath.Join(dir, "ws")
			s := step.MelangeExtract{Archive: archive, Dir: ws, SHA256: hex.EncodeToString(sum[:]), StripComponents: 1,
				Keep: filepath.Join(ws, "hello.tar")}
			if err := Extract(s); err != nil {
				t.Fatal(err)
			}
			for p, want := range map[string]string{"README": "read me\n", "src/main.c": "int main(){}\n", "hello.tar": string(data)} {
				got, err := os.ReadFile(filepath.Join(ws, p))
				if err != nil || string(got) != want {
					t.Errorf("%s = %q, %v", p, got, err)
				}
			}
			if l, _ := os.Readlink(filepath.Join(ws, "LINK")); l != "README" {
				t.Errorf("LINK -> %q", l)
			}
		})
	}
}

func TestExtractRefuses(t *testing.T) {
	good := tarOf(t, entry{name: "a/x", body: "x"})
	sha512sum := sha512.Sum512(good)
	tests := []struct {
		name    string
		data    []byte
		s       step.MelangeExtract
		wantErr string
	}{
		{"sha256 mismatch", good, step.MelangeExtract{SHA256: strings.Repeat("0", 64)}, "sha256 is"},
		{"sha512 mismatch", good, step.MelangeExtract{SHA512: strings.Repeat("0", 128)}, "sha512 is"},
		{"sha512 match", good, step.MelangeExtract{SHA512: hex.EncodeToString(sha512sum[:])}, ""},
		{"dot-dot", tarOf(t, entry{name: "a/../../escape", body: "x"}), step.MelangeExtract{}, "leads outside"},
		{"absolute made relative", tarOf(t, entry{name: "/abs/file", body: "x"}), step.MelangeExtract{}, ""},
		{"write through a symlink out", tarOf(t, entry{name: "a/link", link: "../../..", typ: tar.TypeSymlink}, entry{name: "a/link/escape", body: "x"}), step.MelangeExtract{}, "escapes"},
		{"hard link out", tarOf(t, entry{name: "a/h", link: "../../etc/passwd", typ: tar.TypeLink}), step.MelangeExtract{}, "leads outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.s.Archive = filepath.Join(dir, "src.tar")
			tt.s.Dir = filepath.Join(dir, "ws", "sub")
			os.WriteFile(tt.s.Archive, tt.data, 0o644)
			err := Extract(tt.s)
			if testkit.ErrorCase(t, err, tt.wantErr) {
				return
			}
		})
	}
}
