package pkg

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
)

// fixtureInfo sets every field .PKGINFO can carry.
func fixtureInfo() *index.Package {
	return &index.Package{
		Name: "hello", Version: "2.12.1-r3", Arch: "x86_64",
		Description: "the GNU hello world program", URL: "https://www.gnu.org/software/hello/",
		License: "GPL-3.0-or-later", Origin: "hello-src", Maintainer: "Kiln Test <test@example.org>",
		Commit:           "0123456789abcdef0123456789abcdef01234567",
		Dependencies:     []string{"so:libc.musl-x86_64.so.1", "busybox>=1.36", "!hello-old"},
		Provides:         []string{"cmd:hello=2.12.1-r3", "so:libhello.so.1=1"},
		InstallIf:        []string{"hello-base", "docs"},
		Replaces:         []string{"hello-legacy", "hello-compat"},
		ProviderPriority: 10, HasProviderPrio: true,
		ReplacesPriority: 5,
	}
}

var fixtureScripts = map[string][]byte{
	".post-install": []byte("#!/bin/sh\necho installed\n"),
	"pre-deinstall": []byte("#!/bin/sh\nexit 0\n"),
	".trigger":      []byte("#!/bin/sh\necho \"$@\"\n"),
}

var fixtureTriggers = []string{"/usr/share/fonts/*", "/usr/lib/gdk-pixbuf-2.0/*"}

func hdr(typ byte, name string, mode int64) tar.Header {
	return tar.Header{Typeflag: typ, Name: name, Mode: mode}
}

// fixtureEntries covers every entry type and the header details Write
// must keep. It is deliberately unsorted.
func fixtureEntries() []Entry {
	long := "usr/share/doc/" + strings.Repeat("very-long-directory-name/", 5) + "README"
	xattr := hdr(tar.TypeReg, "usr/bin/ping", 0o755)
	xattr.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": "\x01\x00\x00\x02\x00\x20\x00\x00"}
	owned := hdr(tar.TypeReg, "var/lib/hello/state", 0o640)
	owned.Uid, owned.Gid = 1000, 1001
	link := hdr(tar.TypeSymlink, "usr/bin/hi", 0o777)
	link.Linkname = "hello"
	abs := hdr(tar.TypeSymlink, "var/run", 0o777)
	abs.Linkname = "/run"
	// The hard link sorts before the file it names, so Write must make it
	// the one that carries the contents.
	hl := hdr(tar.TypeLink, "usr/bin/aa-hello", 0)
	hl.Linkname = "usr/bin/hello"
	return []Entry{
		{Header: hdr(tar.TypeReg, "usr/bin/hello", 0o4755), Data: []byte("\x7fELF hello binary")},
		{Header: hdr(tar.TypeDir, "usr/", 0o755)},
		{Header: hdr(tar.TypeDir, "usr/bin", 0o755)},
		{Header: link},
		{Header: hl},
		{Header: xattr, Data: []byte("ping")},
		{Header: hdr(tar.TypeDir, "tmp", 0o1777)},
		{Header: hdr(tar.TypeDir, "var", 0o755)},
		{Header: hdr(tar.TypeDir, "var/run-extra", 0o2755)},
		{Header: abs},
		{Header: owned, Data: []byte("state\n")},
		{Header: hdr(tar.TypeReg, "usr/share/empty", 0o644)},
		{Header: hdr(tar.TypeReg, long, 0o644), Data: bytes.Repeat([]byte("docs "), 3000)},
	}
}

// writeFixture writes the fixture package.
func writeFixture(t testing.TB, opts WriteOptions) ([]byte, *index.Package) {
	t.Helper()
	if opts.Scripts == nil {
		opts.Scripts = fixtureScripts
	}
	if opts.Triggers == nil {
		opts.Triggers = fixtureTriggers
	}
	var buf bytes.Buffer
	rec, err := Write(&buf, fixtureInfo(), fixtureEntries(), opts)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes(), rec
}
