package apktest

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
)

func TestRepoRoundTrip(t *testing.T) {
	s, err := Signer()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyPath, err := WriteKey(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRepo(dir, s)
	r.Add("x86_64",
		Package{Name: "a", Version: "1.0-r0", Depends: []string{"so:libb.so.1"}, Files: []File{
			{Path: "usr", Dir: true}, {Path: "usr/bin", Dir: true},
			{Path: "usr/bin/a", Mode: 0o755 | fs.ModeSetuid, Data: []byte("#!/bin/sh\n")},
			{Path: "usr/bin/a-link", Symlink: "a"},
		}},
		Package{Name: "b", Version: "2.0-r1", Provides: []string{"so:libb.so.1=2.0"}, Files: []File{
			{Path: "lib", Dir: true}, {Path: "lib/libb.so.1", Data: []byte("lib"), Uid: 1000, Gid: 1000},
		}},
	)
	r.Add("aarch64", Package{Name: "a", Version: "1.0-r0"})
	recs, err := r.Write()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs["x86_64"]) != 2 || len(recs["aarch64"]) != 1 {
		t.Fatalf("records %v", recs)
	}
	kr, err := sign.LoadKeyring(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(filepath.Join(dir, "x86_64", "APKINDEX.tar.gz"))
	idx, err := index.Read(f, index.ReadOptions{Keyring: kr})
	f.Close()
	if err != nil {
		t.Fatalf("signed index does not verify: %v", err)
	}
	for _, p := range idx.Packages {
		data, err := os.ReadFile(filepath.Join(dir, "x86_64", p.Filename()))
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(data)) != p.Size {
			t.Errorf("%s: index S:%d, file %d bytes", p, p.Size, len(data))
		}
		pr, err := pkg.Open(bytes.NewReader(data), pkg.ReadOptions{Keyring: kr, ExpectedChecksum: p.Checksum})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		files := map[string]*tar.Header{}
		for {
			h, err := pr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			files[h.Name] = h
		}
		if p.Name == "a" {
			if h := files["usr/bin/a"]; h == nil || h.Mode&0o4000 == 0 {
				t.Errorf("setuid lost: %+v", h)
			}
			if h := files["usr/bin/a-link"]; h == nil || h.Linkname != "a" {
				t.Errorf("symlink: %+v", h)
			}
		}
		if p.Name == "b" {
			if h := files["lib/libb.so.1"]; h == nil || h.Uid != 1000 || h.Gid != 1000 {
				t.Errorf("owner: %+v", h)
			}
		}
	}
	// Same input, same bytes.
	again := t.TempDir()
	r2 := NewRepo(again, s)
	r2.pkgs = r.pkgs
	if _, err := r2.Write(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"x86_64/APKINDEX.tar.gz", "x86_64/a-1.0-r0.apk", "x86_64/b-2.0-r1.apk"} {
		x, _ := os.ReadFile(filepath.Join(dir, name))
		y, _ := os.ReadFile(filepath.Join(again, name))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two writes", name)
		}
	}
}

func TestBusyboxPackage(t *testing.T) {
	if _, err := os.Stat(HostBusybox); err != nil {
		t.Skipf("no static busybox at %s (Debian busybox-static): %v", HostBusybox, err)
	}
	p, err := BusyboxPackage(HostBusybox, "", "1.36.1-r0")
	if err != nil {
		t.Fatal(err)
	}
	var list string
	for _, f := range p.Files {
		if f.Path == "etc/busybox-paths.d/busybox" {
			list = string(f.Data)
		}
	}
	if !bytes.Contains([]byte(list), []byte("/bin/sh\n")) {
		t.Fatalf("applet list lacks /bin/sh: %.200q", list)
	}
}
