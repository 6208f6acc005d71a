package install_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/apk/install"
	"github.com/kiln-build/kiln/apk/pkg"
)

// apkXattrDigest computes, apart from the code under test, the digest
// apk-tools records for a set of xattrs: SHA-1 over each name and value in
// name order, each preceded by its big-endian 32-bit length.
func apkXattrDigest(xs map[string]string) string {
	names := make([]string, 0, len(xs))
	for n := range xs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha1.New()
	for _, n := range names {
		binary.Write(h, binary.BigEndian, uint32(len(n)))
		h.Write([]byte(n))
		binary.Write(h, binary.BigEndian, uint32(len(xs[n])))
		h.Write([]byte(xs[n]))
	}
	return "Q1" + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// canSetXattrs probes whether the filesystem under dir takes user.* and,
// when running as root, security.* xattrs.
func canSetXattrs(t *testing.T, dir string, name string) bool {
	p := filepath.Join(dir, "probe")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(p)
	return unix.Setxattr(p, name, []byte("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), 0) == nil
}

// Extended attributes a package carries (melange's setcap step writes
// security.capability) reach the installed files, and the installed
// database records them the way apk does.
func TestXattrsFromAPK(t *testing.T) {
	// cap_net_raw+ep in the VFS_CAP_REVISION_2 layout setcap writes.
	capNetRaw := "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	probeDir := t.TempDir()
	if !canSetXattrs(t, probeDir, "user.kiln-probe") {
		t.Skip("filesystem refuses user.* xattrs")
	}
	withCaps := os.Geteuid() == 0 && canSetXattrs(t, probeDir, "security.capability")

	files := []struct {
		path, symlink string
		dir           bool
		xattrs        map[string]string
	}{
		{path: "usr", dir: true},
		{path: "usr/sbin", dir: true, xattrs: map[string]string{"user.dir": "tagged"}},
		{path: "usr/sbin/ping", xattrs: map[string]string{"user.note": "raw sockets", "user.empty": ""}},
		{path: "usr/sbin/plain"},
		// Linux refuses user.* on a symlink; apk records it and moves on.
		{path: "usr/sbin/ping6", symlink: "ping", xattrs: map[string]string{"user.link": "x"}},
	}
	if withCaps {
		files[2].xattrs["security.capability"] = capNetRaw
	} else {
		t.Log("not root or no security.* xattrs here: security.capability not checked")
	}
	var af []apktest.File
	for _, f := range files {
		e := apktest.File{Path: f.path, Dir: f.dir, Symlink: f.symlink, Xattrs: f.xattrs, Mode: 0o755}
		if !f.dir && f.symlink == "" {
			e.Data = []byte(f.path)
		}
		if f.path == "usr/sbin/plain" {
			e.Mode = 0o644 // the default: no a: line unless xattrs add one
		}
		af = append(af, e)
	}
	signer, keys := apktest.TrustedSigner(t)
	data, rec, err := apktest.NewRepo(t.TempDir(), signer).Build("x86_64", apktest.Package{Name: "iputils", Version: "1.0-r0", Files: af})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	in, err := install.New(root, install.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := in.InstallAPK(bytes.NewReader(data), pkg.ReadOptions{Keyring: keys, ExpectedChecksum: rec.Checksum}); err != nil {
		t.Fatal(err)
	}

	get := func(p, name string) (string, error) {
		buf := make([]byte, 256)
		n, err := unix.Lgetxattr(filepath.Join(root, p), name, buf)
		if err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	for _, f := range files {
		for name, want := range f.xattrs {
			got, err := get(f.path, name)
			switch {
			case f.symlink != "" && err == nil:
				t.Errorf("%s: %s set on a symlink", f.path, name)
			case f.symlink == "" && (err != nil || got != want):
				t.Errorf("%s: %s = %q, %v; want %q", f.path, name, got, err, want)
			}
		}
	}

	// The database: digests on M: (directories) and a: (files) lines.
	if err := in.WriteDatabase(install.DatabaseFiles{}); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(filepath.Join(root, install.DefaultDBPath))
	if err != nil {
		t.Fatal(err)
	}
	text := string(db)
	wantLines := []string{
		"F:usr/sbin\nM:0:0:755:" + apkXattrDigest(files[1].xattrs) + "\n",
		"R:ping\na:0:0:755:" + apkXattrDigest(files[2].xattrs) + "\n",
		"R:ping6\na:0:0:777:" + apkXattrDigest(files[4].xattrs) + "\n",
	}
	for _, w := range wantLines {
		if !strings.Contains(text, w) {
			t.Errorf("installed database lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "R:plain\na:") {
		t.Errorf("a file without xattrs or special mode got an a: line:\n%s", text)
	}
	// Read back (as the image-meta step reads the layers' fragments), the
	// digests survive and are written again unchanged.
	pkgs, err := install.ReadDatabase(bytes.NewReader(db))
	if err != nil {
		t.Fatal(err)
	}
	if again := string(install.EncodeInstalled(pkgs)); again != text {
		t.Errorf("database read back and encoded differs:\n%s\nwant\n%s", again, text)
	}
}
