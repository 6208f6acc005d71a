package install

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkInstall extracts a package of 1000 1 KiB files in 20
// directories and writes the database.
func BenchmarkInstall(b *testing.B) {
	ents := []ent{dir("usr/"), dir("usr/share/")}
	body := strings.Repeat("x", 1024)
	for d := range 20 {
		ents = append(ents, dir(fmt.Sprintf("usr/share/d%d/", d)))
		for f := range 50 {
			ents = append(ents, file(fmt.Sprintf("usr/share/d%d/f%d", d, f), body))
		}
	}
	data := tarBytes(b, ents...)
	top := b.TempDir()
	b.SetBytes(int64(len(data)))
	i := 0
	for b.Loop() {
		b.StopTimer()
		root := filepath.Join(top, fmt.Sprint(i))
		i++
		if err := os.Mkdir(root, 0o755); err != nil {
			b.Fatal(err)
		}
		in, err := New(root, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := in.Install(pkgInfo("bench"), tar.NewReader(bytes.NewReader(data)), Control{}); err != nil {
			b.Fatal(err)
		}
		if err := in.WriteDatabase(DatabaseFiles{}); err != nil {
			b.Fatal(err)
		}
		in.Close()
	}
}

// benchRecords are 200 packages of 100 files in 5 directories each.
func benchRecords() []InstalledPackage {
	var pkgs []InstalledPackage
	for p := range 200 {
		ip := InstalledPackage{Package: *pkgInfo(fmt.Sprintf("pkg%d", p))}
		for d := range 5 {
			dr := DirRecord{Path: fmt.Sprintf("usr/lib/p%d/d%d", p, d), Mode: 0o755}
			for f := range 20 {
				dr.Files = append(dr.Files, FileRecord{Path: fmt.Sprintf("%s/f%d", dr.Path, f), Mode: 0o644, Checksum: sha1Of(dr.Path)})
			}
			ip.Dirs = append(ip.Dirs, dr)
		}
		pkgs = append(pkgs, ip)
	}
	return pkgs
}

func BenchmarkReadDatabase(b *testing.B) {
	pkgs := benchRecords()
	data := EncodeInstalled(pkgs)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadDatabase(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadRecord loads an install record's database (200 packages
// of 100 files, none of them in the root), as the metadata step does for
// each layer: with DatabaseOnly and without.
func BenchmarkLoadRecord(b *testing.B) {
	pkgs := benchRecords()
	root := b.TempDir()
	w, err := New(root, Options{DatabaseOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := w.AddInstalled(pkgs); err != nil {
		b.Fatal(err)
	}
	if err := w.WriteDatabase(DatabaseFiles{}); err != nil {
		b.Fatal(err)
	}
	w.Close()
	for _, only := range []bool{false, true} {
		b.Run(fmt.Sprintf("DatabaseOnly=%v", only), func(b *testing.B) {
			for b.Loop() {
				in, err := New(root, Options{DatabaseOnly: only})
				if err != nil {
					b.Fatal(err)
				}
				if err := in.LoadDatabase(); err != nil {
					b.Fatal(err)
				}
				in.Close()
			}
		})
	}
}
