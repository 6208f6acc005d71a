package repoindex

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/pkgbuild"
	"github.com/kiln-build/kiln/pkgbuild/signkey"
)

var testSigner, otherSigner = mustSigner("melange.rsa"), mustSigner("other.rsa")

func mustSigner(name string) *sign.Signer {
	s, err := signkey.Generate(name, signkey.MinBits)
	if err != nil {
		panic(err)
	}
	return s
}

func keyringOf(t *testing.T, s *sign.Signer) *sign.Keyring {
	t.Helper()
	name, pub, err := signkey.PublicKey(s)
	if err != nil {
		t.Fatal(err)
	}
	k := sign.NewKeyring()
	if err := k.Add(name, pub); err != nil {
		t.Fatal(err)
	}
	return k
}

// repo builds packages into a new directory.
func repo(t *testing.T, s *sign.Signer, pkgs ...pkgbuild.Package) (string, []*index.Package) {
	t.Helper()
	out := t.TempDir()
	var recs []*index.Package
	for _, p := range pkgs {
		src := t.TempDir()
		if err := os.MkdirAll(filepath.Join(src, "usr/share", p.Name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, "usr/share", p.Name, "data"), []byte(p.Name), 0o644); err != nil {
			t.Fatal(err)
		}
		_, res, err := pkgbuild.BuildFile(context.Background(), out, src, p, pkgbuild.Options{Signer: s, SourceDateEpoch: 99})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, res.Record)
	}
	return out, recs
}

func pkgs(arch string, names ...string) []pkgbuild.Package {
	var out []pkgbuild.Package
	for _, n := range names {
		out = append(out, pkgbuild.Package{Name: n, Version: "1.0-r0", Arch: arch, Origin: "main", Licenses: []string{"MIT"}})
	}
	return out
}

func TestWriteFile(t *testing.T) {
	dir, built := repo(t, testSigner, pkgs("aarch64", "main", "main-dev", "main-doc")...)
	opts := Options{Arch: "aarch64", Signer: testSigner, Description: "kiln test", SourceDateEpoch: 99}
	path, recs, err := WriteFile(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := index.Read(bytes.NewReader(b), index.ReadOptions{Keyring: keyringOf(t, testSigner)})
	if err != nil {
		t.Fatal(err)
	}
	if idx.Description != "kiln test" || len(idx.Packages) != 3 || len(recs) != 3 {
		t.Fatalf("index %q with %d packages", idx.Description, len(idx.Packages))
	}
	byName := map[string]*index.Package{}
	for _, p := range idx.Packages {
		byName[p.Name] = p
	}
	for _, want := range built {
		got := byName[want.Name]
		if got == nil || got.Checksum != want.Checksum || got.Size != want.Size || got.InstalledSize != want.InstalledSize ||
			got.Origin != "main" || got.Arch != "aarch64" {
			t.Errorf("record %+v, built %+v", got, want)
		}
	}
	if !bytes.HasPrefix(gunzipFirst(t, b), []byte(".SIGN.RSA256.melange.rsa.pub")) {
		t.Error("index not signed with RSA-SHA256 by melange.rsa.pub")
	}
	var again bytes.Buffer
	if _, err := Write(&again, dir, opts); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), b) {
		t.Error("the same packages gave a different index")
	}
}

func TestRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) (string, Options)
		want  string
		is    error
	}{
		{"package by an untrusted key", func(t *testing.T) (string, Options) {
			dir, _ := repo(t, otherSigner, pkgs("x86_64", "a")...)
			return dir, Options{Arch: "x86_64", Signer: testSigner}
		}, "", sign.ErrUntrusted},
		{"unsigned package when signing", func(t *testing.T) (string, Options) {
			dir, _ := repo(t, nil, pkgs("x86_64", "a")...)
			return dir, Options{Arch: "x86_64", Signer: testSigner}
		}, "", sign.ErrUnsigned},
		{"other architecture", func(t *testing.T) (string, Options) {
			dir, _ := repo(t, testSigner, pkgs("aarch64", "a")...)
			return dir, Options{Arch: "x86_64", Signer: testSigner}
		}, "is for aarch64", nil},
		{"tampered data", func(t *testing.T) (string, Options) {
			dir, _ := repo(t, testSigner, pkgs("x86_64", "a")...)
			p := filepath.Join(dir, "a-1.0-r0.apk")
			b, _ := os.ReadFile(p)
			b[len(b)-20] ^= 0xff // inside the data section's compressed bytes or trailer
			os.WriteFile(p, b, 0o644)
			return dir, Options{Arch: "x86_64", Signer: testSigner}
		}, "a-1.0-r0.apk", nil},
		{"renamed package", func(t *testing.T) (string, Options) {
			dir, _ := repo(t, testSigner, pkgs("x86_64", "a")...)
			os.Rename(filepath.Join(dir, "a-1.0-r0.apk"), filepath.Join(dir, "b-1.0-r0.apk"))
			return dir, Options{Arch: "x86_64", Signer: testSigner}
		}, "apk would fetch as a-1.0-r0.apk", nil},
		{"symlinked package", func(t *testing.T) (string, Options) {
			dir, _ := repo(t, testSigner, pkgs("x86_64", "a")...)
			os.Symlink("a-1.0-r0.apk", filepath.Join(dir, "c-1.0-r0.apk"))
			return dir, Options{Arch: "x86_64", Signer: testSigner}
		}, "not a regular file", nil},
		{"no arch", func(t *testing.T) (string, Options) { return t.TempDir(), Options{} }, "no architecture", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, opts := tt.setup(t)
			var buf bytes.Buffer
			_, err := Write(&buf, dir, opts)
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q / %v", err, tt.want, tt.is)
			}
		})
	}
}

func TestAccepts(t *testing.T) {
	t.Run("unsigned packages, unsigned index", func(t *testing.T) {
		dir, _ := repo(t, nil, pkgs("x86_64", "a", "b")...)
		var buf bytes.Buffer
		recs, err := Write(&buf, dir, Options{Arch: "x86_64"})
		if err != nil || len(recs) != 2 {
			t.Fatalf("%v, %d records", err, len(recs))
		}
		if _, err := index.Read(bytes.NewReader(buf.Bytes()), index.ReadOptions{}); !errors.Is(err, sign.ErrUnsigned) {
			t.Errorf("index read with %v, want ErrUnsigned", err)
		}
	})
	t.Run("noarch and foreign files next to the packages", func(t *testing.T) {
		dir, _ := repo(t, testSigner, append(pkgs("noarch", "data"), pkgs("riscv64", "tool")...)...)
		os.WriteFile(filepath.Join(dir, "melange.rsa.pub"), []byte("key"), 0o644)
		os.WriteFile(filepath.Join(dir, ".kiln-x-1.apk"), []byte("half-written"), 0o644)
		var buf bytes.Buffer
		recs, err := Write(&buf, dir, Options{Arch: "riscv64", Keyring: keyringOf(t, testSigner), Signer: otherSigner})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range recs {
			names = append(names, r.Name)
		}
		if !slices.Equal(names, []string{"data", "tool"}) {
			t.Errorf("indexed %v", names)
		}
	})
	t.Run("empty directory", func(t *testing.T) {
		var buf bytes.Buffer
		if recs, err := Write(&buf, t.TempDir(), Options{Arch: "x86_64", Signer: testSigner}); err != nil || len(recs) != 0 {
			t.Fatalf("%v, %d records", err, len(recs))
		}
	})
}

// gunzipFirst returns the decompressed first gzip member (the signature).
func gunzipFirst(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
