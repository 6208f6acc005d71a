// Package testrepo writes the signed apk repository that kiln's examples
// and end-to-end tests install from: a real busybox (Debian's static
// binary) and small packages that exercise what images need: a
// baselayout with accounts, a shared library and a binary that links it
// by so: name, setuid and non-root files, symlinks and hard links.
package testrepo

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/sign"
)

// Options says what to write.
type Options struct {
	Dir      string            // repository directory (gets <arch>/ and the key)
	Signer   *sign.Signer      // signs packages and indexes
	Busybox  map[string]string // apk arch -> static busybox binary for that arch
	ListWith string            // a busybox this host runs, to list applets
	// Versions overrides package versions (name -> version), so a test can
	// bump one package and rebuild.
	Versions map[string]string
	// Filler adds this many extra leaf packages (filler-NN), for the
	// 30+ package benchmark image.
	Filler int
}

// Write writes the repository and returns the index records per arch.
func Write(o Options) (map[string][]*index.Package, error) {
	if _, err := apktest.WriteKey(o.Dir, o.Signer); err != nil {
		return nil, err
	}
	r := apktest.NewRepo(o.Dir, o.Signer)
	for arch, bin := range o.Busybox {
		bb, err := apktest.BusyboxPackage(bin, o.ListWith, o.version("busybox", "1.36.1-r0"))
		if err != nil {
			return nil, err
		}
		pkgs := append([]apktest.Package{bb}, o.packages(arch)...)
		r.Add(arch, pkgs...)
	}
	return r.Write()
}

func (o Options) version(name, def string) string {
	if v, ok := o.Versions[name]; ok {
		return v
	}
	return def
}

func (o Options) packages(arch string) []apktest.Package {
	dir := func(p string, mode fs.FileMode) apktest.File { return apktest.File{Path: p, Dir: true, Mode: mode} }
	pkgs := []apktest.Package{
		{
			Name: "kiln-baselayout", Version: o.version("kiln-baselayout", "1.0-r0"), License: "MIT",
			Files: []apktest.File{
				dir("etc", 0o755), dir("home", 0o755), dir("root", 0o700), dir("tmp", 0o777|fs.ModeSticky),
				dir("usr", 0o755), dir("usr/bin", 0o755), dir("usr/lib", 0o755), dir("var", 0o755),
				{Path: "etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n")},
				{Path: "etc/group", Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
				{Path: "etc/os-release", Data: []byte("ID=kiln-test\nNAME=\"kiln test\"\n")},
			},
		},
		{
			Name: "libhello", Version: o.version("libhello", "1.0-r0"), License: "Apache-2.0",
			Provides: []string{"so:libhello.so.1=1.0"},
			Files: []apktest.File{
				dir("usr", 0o755), dir("usr/lib", 0o755),
				{Path: "usr/lib/libhello.so.1.0", Mode: 0o755, Data: []byte("not really an ELF, but bytes with a name\n")},
				{Path: "usr/lib/libhello.so.1", Symlink: "libhello.so.1.0"},
			},
		},
		{
			Name: "hello", Version: o.version("hello", "2.12-r0"), License: "GPL-3.0-or-later",
			Depends: []string{"so:libhello.so.1", "kiln-baselayout"},
			Files: []apktest.File{
				dir("usr", 0o755), dir("usr/bin", 0o755),
				// Contents carry the version, as a rebuilt binary's would.
				{Path: "usr/bin/hello", Mode: 0o755, Data: []byte("#!/bin/sh\necho hello from kiln " + o.version("hello", "2.12-r0") + "\n")},
				{Path: "usr/bin/hi", Hardlink: "usr/bin/hello"},
			},
		},
		{
			Name: "suid-tool", Version: o.version("suid-tool", "0.3-r1"), License: "BSD-2-Clause",
			Files: []apktest.File{
				dir("usr", 0o755), dir("usr/bin", 0o755), dir("var", 0o755),
				{Path: "var/lib", Dir: true, Mode: 0o755},
				{Path: "var/lib/suid-tool", Dir: true, Mode: 0o750, Uid: 1000, Gid: 1000},
				{Path: "var/lib/suid-tool/state", Mode: 0o640, Uid: 1000, Gid: 1000, Data: []byte("owned by 1000\n")},
				{Path: "usr/bin/suid-tool", Mode: 0o755 | fs.ModeSetuid, Data: []byte("#!/bin/sh\nid -u\n")},
			},
		},
	}
	for i := 0; i < o.Filler; i++ {
		name := fmt.Sprintf("filler-%02d", i)
		data := make([]byte, 4096*(i%8+1))
		for j := range data {
			data[j] = byte(i*31 + j*7)
		}
		copy(data, name+"-"+o.version(name, "1.0-r0")) // a bump changes bytes
		pkgs = append(pkgs, apktest.Package{
			Name: name, Version: o.version(name, "1.0-r0"), License: "MIT",
			Files: []apktest.File{dir("usr", 0o755), dir("usr/share", 0o755), dir("usr/share/"+name, 0o755),
				{Path: "usr/share/" + name + "/data.bin", Data: data}},
		})
	}
	return pkgs
}

// HostBusybox returns the static busybox Debian's busybox-static
// installs, or "" when it is not there.
func HostBusybox() string {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			abs, _ := filepath.Abs(p)
			return abs
		}
	}
	return ""
}
