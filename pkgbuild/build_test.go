package pkgbuild

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kiln-build/kiln/apk/install"
	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/sbom"
)

// richTree has every kind of entry a package may hold.
func richTree(t testing.TB) string {
	return makeTree(t,
		entry{path: "usr/bin/hello", mode: 0o755, data: "#!/bin/bash\necho hello\n"},
		entry{path: "usr/bin/hello-again", hardlink: "usr/bin/hello"},
		entry{path: "usr/bin/hi", symlink: "hello"},
		entry{path: "usr/bin/suid", mode: 0o4755, data: "setuid tool"},
		entry{path: "usr/bin/sgid", mode: 0o2711, data: "setgid tool"},
		entry{path: "var/tmp/shared", dir: true, mode: 0o1777},
		entry{path: "etc/hello/empty.conf", data: ""},
		entry{path: "etc/hello/private", mode: 0o600, data: "secret-ish", uid: 1000, gid: 1000},
		entry{path: "srv/www/index.html", data: "<p>hi</p>", uid: 33, gid: 33},
		entry{path: "etc/localtime", symlink: "/usr/share/zoneinfo/UTC"},
		entry{path: "etc/escape", symlink: "../../../../../etc/passwd"},
		entry{path: "usr/share/empty-dir", dir: true},
		entry{path: "usr/lib/pkgconfig/hello.pc", data: "Name: hello\nVersion: 2.12\nRequires: glib-2.0 >= 2.0\n"},
		entry{path: "usr/share/a-b", data: "sorts after the a directory"},
		entry{path: "usr/share/a/file", data: "in a"},
	)
}

func TestRoundTrip(t *testing.T) {
	s := signer(t)
	dir := richTree(t)
	p := basePackage()
	p.Origin = "hello-src"
	p.Commit = "0123456789abcdef"
	p.Namespace = "wolfi"
	p.Dependencies = Dependencies{Runtime: []string{"busybox"}, Provides: []string{"greeting=2.12"}, Replaces: []string{"hello-legacy"},
		ProviderPriority: "10", ReplacesPriority: "5"}
	p.Scriptlets = Scriptlets{PostInstall: "#!/bin/sh\necho installed\n", Trigger: Trigger{Script: "#!/bin/sh\n", Paths: []string{"/usr/share/hello", "/etc/hello"}}}
	p.Config = []byte("package:\n  name: hello\n")
	opts := Options{Signer: s, SourceDateEpoch: 1700000000, UIDMap: map[int]int{1000: 0}, GIDMap: map[int]int{1000: 0}}
	apk, res := buildBytes(t, dir, p, opts)
	o := openVerified(t, apk, s)

	// Signature: melange's RSA-SHA256 under the key's name.
	if len(o.r.Signatures) != 1 || o.r.Signatures[0].MemberName() != ".SIGN.RSA256.melange.rsa.pub" {
		t.Errorf("signatures %+v", o.r.Signatures)
	}
	info := o.r.Info
	if info.Name != "hello" || info.Version != "2.12-r1" || info.Arch != "x86_64" || info.Origin != "hello-src" ||
		info.Commit != p.Commit || info.Maintainer != "wolfi" || info.BuildTime != 1700000000 || info.License != "GPL-3.0-or-later" ||
		info.ProviderPriority != 10 || info.ReplacesPriority != 5 || !slices.Equal(info.Replaces, []string{"hello-legacy"}) {
		t.Errorf("package info %+v", info)
	}
	for _, want := range []string{"busybox", "cmd:bash", "pc:glib-2.0"} {
		if !slices.Contains(info.Dependencies, want) {
			t.Errorf("depends %v lacks %s", info.Dependencies, want)
		}
	}
	for _, want := range []string{"greeting=2.12", "cmd:hello=2.12-r1", "cmd:hello-again=2.12-r1", "cmd:suid=2.12-r1", "pc:hello=2.12-r1"} {
		if !slices.Contains(info.Provides, want) {
			t.Errorf("provides %v lacks %s", info.Provides, want)
		}
	}
	if slices.Contains(info.Provides, "cmd:sgid=2.12-r1") {
		t.Error("0711 file provides a command (melange wants r-x for everyone)")
	}
	if !slices.Equal(o.r.Triggers, []string{"/usr/share/hello", "/etc/hello"}) {
		t.Errorf("triggers %v", o.r.Triggers)
	}
	if string(o.r.Scripts[".post-install"]) != p.Scriptlets.PostInstall || string(o.r.Scripts[".trigger"]) != "#!/bin/sh\n" {
		t.Errorf("scripts %q", o.r.Scripts)
	}
	// The result's record is what an index built from the file says.
	if res.Record.Checksum != o.r.ControlChecksum || res.Record.Size != uint64(len(apk)) || res.Record.InstalledSize != info.InstalledSize {
		t.Errorf("record %+v, package checksum %s size %d", res.Record, o.r.ControlChecksum, len(apk))
	}
	sum := sha256.Sum256(apk)
	if res.SHA256 != hex.EncodeToString(sum[:]) || res.DataHash != o.r.DataHash {
		t.Errorf("result sha256 %s datahash %s", res.SHA256, res.DataHash)
	}

	// Entries: order, types, modes, owners, links.
	sbomPath := "var/lib/db/sbom/hello-2.12-r1.spdx.json"
	wantOrder := []string{"etc", "etc/escape", "etc/hello", "etc/hello/empty.conf", "etc/hello/private", "etc/localtime",
		"srv", "srv/www", "srv/www/index.html",
		"usr", "usr/bin", "usr/bin/hello", "usr/bin/hello-again", "usr/bin/hi", "usr/bin/sgid", "usr/bin/suid",
		"usr/lib", "usr/lib/pkgconfig", "usr/lib/pkgconfig/hello.pc",
		"usr/share", "usr/share/a", "usr/share/a/file", "usr/share/a-b", "usr/share/empty-dir",
		"var", "var/lib", "var/lib/db", "var/lib/db/sbom", sbomPath, "var/tmp", "var/tmp/shared"}
	if !slices.Equal(o.order, wantOrder) {
		t.Errorf("entry order\n got %q\nwant %q", o.order, wantOrder)
	}
	root := os.Geteuid() == 0
	tests := []struct {
		name     string
		typ      byte
		mode     int64
		link     string
		uid, gid int
	}{
		{"usr/bin/hello", tar.TypeReg, 0o755, "", 0, 0},
		{"usr/bin/hello-again", tar.TypeLink, 0o755, "usr/bin/hello", 0, 0},
		{"usr/bin/hi", tar.TypeSymlink, 0o777, "hello", 0, 0},
		{"usr/bin/suid", tar.TypeReg, 0o4755, "", 0, 0},
		{"usr/bin/sgid", tar.TypeReg, 0o2711, "", 0, 0},
		{"var/tmp/shared", tar.TypeDir, 0o1777, "", 0, 0},
		{"etc/hello/private", tar.TypeReg, 0o600, "", 0, 0}, // 1000 is mapped to root
		{"srv/www/index.html", tar.TypeReg, 0o644, "", 33, 33},
		{"etc/localtime", tar.TypeSymlink, 0o777, "/usr/share/zoneinfo/UTC", 0, 0},
		{"etc/escape", tar.TypeSymlink, 0o777, "../../../../../etc/passwd", 0, 0},
		{"usr/share/empty-dir", tar.TypeDir, 0o755, "", 0, 0},
		{sbomPath, tar.TypeReg, 0o644, "", 0, 0},
		{"var/lib/db/sbom", tar.TypeDir, 0o755, "", 0, 0},
	}
	for _, tt := range tests {
		h := o.headers[tt.name]
		if h == nil {
			t.Errorf("%s missing", tt.name)
			continue
		}
		if h.Typeflag != tt.typ || h.Mode != tt.mode || h.Linkname != tt.link {
			t.Errorf("%s: type %q mode %o link %q, want %q %o %q", tt.name, h.Typeflag, h.Mode, h.Linkname, tt.typ, tt.mode, tt.link)
		}
		if root && (h.Uid != tt.uid || h.Gid != tt.gid) {
			t.Errorf("%s: owner %d:%d, want %d:%d", tt.name, h.Uid, h.Gid, tt.uid, tt.gid)
		}
		if h.ModTime.Unix() != 1700000000 {
			t.Errorf("%s: mtime %v", tt.name, h.ModTime)
		}
		if (h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeSymlink) && h.PAXRecords[pkg.PAXChecksum] == "" {
			t.Errorf("%s: no %s", tt.name, pkg.PAXChecksum)
		}
	}

	// The SBOM lists every regular file (hard links too) with its checksums.
	doc := o.data[sbomPath]
	for _, f := range []string{"/usr/bin/hello", "/usr/bin/hello-again", "/etc/hello/empty.conf", "/usr/share/a-b"} {
		if !bytes.Contains(doc, []byte(`"fileName": "`+f+`"`)) {
			t.Errorf("SBOM does not list %s", f)
		}
	}
	if bytes.Contains(doc, []byte(`"/usr/bin/hi"`)) || bytes.Contains(doc, []byte(sbomPath)) {
		t.Error("SBOM lists a symlink or itself")
	}
	if !bytes.Contains(doc, []byte("pkg:apk/wolfi/hello@2.12-r1?arch=x86_64&distro=wolfi")) {
		t.Error("SBOM lacks melange's purl")
	}
	if !bytes.Contains(doc, []byte(`"created": "2023-11-14T22:13:20Z"`)) {
		t.Error("SBOM creation time is not SOURCE_DATE_EPOCH")
	}
}

// TestInstall extracts a built package with kiln's installer, which
// verifies it again, and checks what lands on disk.
func TestInstall(t *testing.T) {
	s := signer(t)
	apk, _ := buildBytes(t, richTree(t), basePackage(), Options{Signer: s, SourceDateEpoch: 1})
	root := t.TempDir()
	in, err := install.New(root, install.Options{SourceDateEpoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	rec, err := in.InstallAPK(bytes.NewReader(apk), pkg.ReadOptions{Keyring: keyring(t, s)})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Name != "hello" {
		t.Fatalf("installed %+v", rec)
	}
	if b, err := os.ReadFile(filepath.Join(root, "usr/bin/hello")); err != nil || string(b) != "#!/bin/bash\necho hello\n" {
		t.Errorf("usr/bin/hello: %q %v", b, err)
	}
	a, errA := os.Stat(filepath.Join(root, "usr/bin/hello"))
	b, errB := os.Stat(filepath.Join(root, "usr/bin/hello-again"))
	if errA != nil || errB != nil || !os.SameFile(a, b) {
		t.Errorf("hard link not kept: %v %v", errA, errB)
	}
	if l, err := os.Readlink(filepath.Join(root, "usr/bin/hi")); err != nil || l != "hello" {
		t.Errorf("symlink: %q %v", l, err)
	}
	if fi, err := os.Stat(filepath.Join(root, "usr/bin/suid")); err != nil || fi.Mode()&fs.ModeSetuid == 0 {
		t.Errorf("setuid lost: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Join(root, "var/tmp/shared")); err != nil || fi.Mode()&fs.ModeSticky == 0 {
		t.Errorf("sticky bit lost: %v %v", fi.Mode(), err)
	}
	if _, err := os.Stat(filepath.Join(root, sbom.PackageDocumentPath("hello", "2.12-r1"))); err != nil {
		t.Errorf("SBOM not installed: %v", err)
	}
}

// TestDeterministic builds the same content twice from trees made at
// different times and in a different order: the bytes must not differ.
func TestDeterministic(t *testing.T) {
	s := signer(t)
	entries := []entry{
		{path: "usr/bin/a", mode: 0o755, data: "a"},
		{path: "usr/share/doc/b", data: strings.Repeat("several blocks of data ", 150000)}, // > 3 MiB
		{path: "usr/lib/c", data: "c"},
		{path: "usr/lib/c.link", hardlink: "usr/lib/c"},
		{path: "usr/lib/d", symlink: "c"},
	}
	dir1 := makeTree(t, entries...)
	reversed := slices.Clone(entries)
	slices.Reverse(reversed)
	// Hard links need their target first.
	reversed = append(slices.DeleteFunc(reversed, func(e entry) bool { return e.hardlink != "" }), entries[3])
	dir2 := makeTree(t, reversed...)
	if err := os.Chtimes(filepath.Join(dir2, "usr/lib/c"), time.Unix(5, 0), time.Unix(5, 0)); err != nil {
		t.Fatal(err)
	}
	opts := Options{Signer: s, SourceDateEpoch: 42}
	a, _ := buildBytes(t, dir1, basePackage(), opts)
	b, _ := buildBytes(t, dir2, basePackage(), opts)
	if !bytes.Equal(a, b) {
		t.Fatal("same content gave different packages")
	}
	c, _ := buildBytes(t, dir1, basePackage(), opts)
	if !bytes.Equal(a, c) {
		t.Fatal("same directory gave different packages")
	}
	// The data section is compressed on every core: one core must give
	// the same bytes.
	prev := runtime.GOMAXPROCS(1)
	one, _ := buildBytes(t, dir1, basePackage(), opts)
	runtime.GOMAXPROCS(prev)
	if !bytes.Equal(a, one) {
		t.Fatal("the number of cores changes the package")
	}
	opts.SourceDateEpoch = 43
	d, _ := buildBytes(t, dir1, basePackage(), opts)
	if bytes.Equal(a, d) {
		t.Fatal("SOURCE_DATE_EPOCH does not reach the package")
	}
}

func TestUnsigned(t *testing.T) {
	apk, _ := buildBytes(t, makeTree(t, entry{path: "x", data: "x"}), basePackage(), Options{})
	if _, err := pkg.Open(bytes.NewReader(apk), pkg.ReadOptions{}); !errors.Is(err, sign.ErrUnsigned) {
		t.Fatalf("unsigned package opened with %v, want ErrUnsigned", err)
	}
	if _, err := pkg.Open(bytes.NewReader(apk), pkg.ReadOptions{AllowUntrusted: true}); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyPackage(t *testing.T) {
	s := signer(t)
	p := basePackage()
	p.Name = "hello-meta"
	apk, res := buildBytes(t, t.TempDir(), p, Options{Signer: s})
	o := openVerified(t, apk, s)
	want := []string{"var", "var/lib", "var/lib/db", "var/lib/db/sbom", "var/lib/db/sbom/hello-meta-2.12-r1.spdx.json"}
	if !slices.Equal(o.order, want) {
		t.Errorf("empty package holds %q, want only its SBOM", o.order)
	}
	if len(res.Record.Dependencies) != 0 || len(res.Record.Provides) != 0 {
		t.Errorf("empty package has depends %v provides %v", res.Record.Dependencies, res.Record.Provides)
	}
	// builddate is left out for SOURCE_DATE_EPOCH 0, as melange does.
	if res.Record.BuildTime != 0 {
		t.Errorf("builddate %d", res.Record.BuildTime)
	}
}

func TestInstalledSize(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
		want    uint64 // besides the root and the SBOM with its directories
	}{
		{"empty", nil, 0},
		{"one file", []entry{{path: "f", data: "12345"}}, 5},
		{"file in directories", []entry{{path: "a/b/f", data: "123"}}, 2*dirSize + 3},
		{"symlink counts its target's length", []entry{{path: "l", symlink: "../target"}}, 9},
		{"hard link counts again", []entry{{path: "f", data: "1234"}, {path: "g", hardlink: "f"}}, 8},
		{"sbom directory already there", []entry{{path: "var/lib/db", dir: true}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, res := buildBytes(t, makeTree(t, tt.entries...), basePackage(), Options{})
			o := openVerified(t, mustBuildSigned(t, makeTree(t, tt.entries...)), signer(t))
			sbomSize := uint64(len(o.data["var/lib/db/sbom/hello-2.12-r1.spdx.json"]))
			want := dirSize + tt.want + 4*dirSize + sbomSize
			if res.Record.InstalledSize != want {
				t.Errorf("installed size %d, want %d", res.Record.InstalledSize, want)
			}
		})
	}
}

func mustBuildSigned(t *testing.T, dir string) []byte {
	apk, _ := buildBytes(t, dir, basePackage(), Options{Signer: signer(t)})
	return apk
}

func TestRejects(t *testing.T) {
	ok := func(t *testing.T) string { return makeTree(t, entry{path: "x", data: "x"}) }
	tests := []struct {
		name string
		dir  func(t *testing.T) string
		edit func(*Package, *Options)
		want string
	}{
		{"missing directory", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, nil, "no such file"},
		{"named pipe", func(t *testing.T) string {
			d := t.TempDir()
			if err := syscall.Mkfifo(filepath.Join(d, "fifo"), 0o644); err != nil {
				t.Skip(err)
			}
			return d
		}, nil, "named pipe"},
		{"socket-free device", func(t *testing.T) string {
			d := t.TempDir()
			if err := syscall.Mknod(filepath.Join(d, "null"), syscall.S_IFCHR|0o666, 0x103); err != nil {
				t.Skipf("mknod: %v", err)
			}
			return d
		}, nil, "character device"},
		{"control character in a name", func(t *testing.T) string {
			return makeTree(t, entry{path: "etc/bad\nname", data: "x"})
		}, nil, "control character"},
		{"SBOM path is a directory", func(t *testing.T) string {
			return makeTree(t, entry{path: "var/lib/db/sbom/hello-2.12-r1.spdx.json/x", data: "x"})
		}, nil, "not a regular file"},
		{"SBOM directory is a symlink", func(t *testing.T) string {
			return makeTree(t, entry{path: "var/lib/db/sbom", symlink: "/tmp"})
		}, nil, "must be a directory"},
		{"bad name", ok, func(p *Package, _ *Options) { p.Name = "a b" }, "invalid package name"},
		{"bad version", ok, func(p *Package, _ *Options) { p.Version = "1.0" }, "invalid package version"},
		{"bad arch", ok, func(p *Package, _ *Options) { p.Arch = "" }, "invalid architecture"},
		{"bad priority", ok, func(p *Package, _ *Options) { p.Dependencies.ProviderPriority = "high" }, "not an integer"},
		{"dependency with space", ok, func(p *Package, _ *Options) { p.Dependencies.Runtime = []string{"a b"} }, "whitespace"},
		{"description with newline", ok, func(p *Package, _ *Options) { p.Description = "a\nb" }, "line break"},
		{"negative epoch", ok, func(_ *Package, o *Options) { o.SourceDateEpoch = -1 }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, opts := basePackage(), Options{}
			if tt.edit != nil {
				tt.edit(&p, &opts)
			}
			var buf bytes.Buffer
			_, err := Build(context.Background(), &buf, tt.dir(t), p, opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

// A symlinked directory in the output must be packaged as a symlink, and
// dependency analysis must not read through it out of the directory.
func TestSymlinksNotFollowed(t *testing.T) {
	outside := makeTree(t, entry{path: "bin/secret", mode: 0o755, data: "#!/usr/bin/zsh\n"})
	dir := makeTree(t,
		entry{path: "usr/bin", symlink: filepath.Join(outside, "bin")},
		entry{path: "usr/lib/libout.so", symlink: filepath.Join(outside, "bin/secret")},
		entry{path: "usr/lib/librel.so", symlink: "../../../../../../../" + outside + "/bin/secret"},
		entry{path: "etc/ld.so.conf.d", symlink: "/etc/ld.so.conf.d"},
	)
	s := signer(t)
	apk, res := buildBytes(t, dir, basePackage(), Options{Signer: s})
	o := openVerified(t, apk, s)
	if h := o.headers["usr/bin"]; h == nil || h.Typeflag != tar.TypeSymlink {
		t.Fatalf("usr/bin packaged as %+v", h)
	}
	if _, ok := o.headers["usr/bin/secret"]; ok {
		t.Error("packaged a file from outside the directory")
	}
	if slices.Contains(res.Record.Dependencies, "cmd:zsh") {
		t.Error("analysis read a file outside the directory")
	}
}

func TestBuildFile(t *testing.T) {
	out := t.TempDir()
	s := signer(t)
	path, res, err := BuildFile(context.Background(), out, makeTree(t, entry{path: "x", data: "x"}), basePackage(), Options{Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(out, "hello-2.12-r1.apk") {
		t.Errorf("path %s", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(b)) != res.Record.Size {
		t.Errorf("file %d bytes, record says %d", len(b), res.Record.Size)
	}
	openVerified(t, b, s)
	if left, _ := filepath.Glob(filepath.Join(out, ".kiln-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	if _, err := Build(ctx, &buf, makeTree(t, entry{path: "x", data: "x"}), basePackage(), Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestXattrsKept(t *testing.T) {
	dir := makeTree(t, entry{path: "usr/bin/ping", mode: 0o755, data: "ping", xattrs: map[string]string{"user.kiln": "yes"}})
	s := signer(t)
	apk, _ := buildBytes(t, dir, basePackage(), Options{Signer: s})
	o := openVerified(t, apk, s)
	if got := o.headers["usr/bin/ping"].PAXRecords["SCHILY.xattr.user.kiln"]; got != "yes" {
		t.Errorf("xattr %q, want yes", got)
	}
}
