package install_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/install"
	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
)

// buildHello writes a signed package with every entry type, a script and
// its index record.
func buildHello(t *testing.T) ([]byte, *index.Package, *sign.Keyring) {
	t.Helper()
	signer, keys := apktest.TrustedSigner(t)
	repo := apktest.NewRepo(t.TempDir(), signer)
	repo.SourceDateEpoch = 1700000000
	data, rec, err := repo.Build("x86_64", apktest.Package{
		Name: "hello", Version: "1.0-r0",
		Files: []apktest.File{
			{Path: "usr", Dir: true},
			{Path: "usr/bin", Dir: true},
			{Path: "usr/bin/hello", Data: []byte("#!/bin/sh\necho hello\n"), Mode: 0o755 | fs.ModeSetuid},
			{Path: "usr/bin/hi", Symlink: "hello"},
			{Path: "usr/bin/hello2", Hardlink: "usr/bin/hello", Mode: 0o755 | fs.ModeSetuid},
			{Path: "etc", Dir: true},
			{Path: "etc/hello.conf", Data: []byte("greeting=hi\n"), Uid: 0, Gid: 42, Mode: 0o640},
		},
		Scripts: map[string][]byte{".post-install": []byte("#!/bin/sh\ntrue\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return data, rec, keys
}

func newRoot(t *testing.T) (string, *install.Installer) {
	t.Helper()
	root := t.TempDir()
	in, err := install.New(root, install.Options{SourceDateEpoch: 1700000000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return root, in
}

func TestInstallAPK(t *testing.T) {
	data, rec, keys := buildHello(t)
	root, in := newRoot(t)
	info, err := in.InstallAPK(bytes.NewReader(data), pkg.ReadOptions{Keyring: keys, ExpectedChecksum: rec.Checksum, Name: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "hello" || info.Checksum != rec.Checksum || info.Size != uint64(len(data)) {
		t.Errorf("installed record %s checksum %s size %d, want checksum %s size %d", info, info.Checksum, info.Size, rec.Checksum, len(data))
	}
	b, err := os.ReadFile(filepath.Join(root, "usr/bin/hello"))
	if err != nil || string(b) != "#!/bin/sh\necho hello\n" {
		t.Fatalf("usr/bin/hello = %q, %v", b, err)
	}
	if err := in.WriteDatabase(install.DatabaseFiles{World: []string{"hello"}}); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(filepath.Join(root, "usr/lib/apk/db/installed"))
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := install.ReadDatabase(bytes.NewReader(db))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || pkgs[0].Size != uint64(len(data)) || pkgs[0].Checksum != rec.Checksum {
		t.Fatalf("database: %+v", pkgs)
	}
	files := map[string]install.FileRecord{}
	for _, f := range pkgs[0].Files() {
		files[f.Path] = f
	}
	if f := files["etc/hello.conf"]; f.GID != 42 || f.Mode != 0o640 {
		t.Errorf("etc/hello.conf record %+v", f)
	}
	if f := files["usr/bin/hello"]; f.Mode != 0o4755 || f.Checksum != files["usr/bin/hello2"].Checksum {
		t.Errorf("usr/bin/hello %+v, hello2 %+v", f, files["usr/bin/hello2"])
	}
	scripts, err := os.ReadFile(filepath.Join(root, "usr/lib/apk/db/scripts.tar"))
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := tar.NewReader(bytes.NewReader(scripts)).Next()
	if err != nil || !strings.HasPrefix(hdr.Name, "hello-1.0-r0.X1") || !strings.HasSuffix(hdr.Name, ".post-install") {
		t.Errorf("scripts.tar first entry %+v, %v", hdr, err)
	}
}

// A package that fails verification before its data section writes
// nothing; one whose data is corrupt fails the install.
func TestInstallAPKRejects(t *testing.T) {
	data, rec, keys := buildHello(t)
	corrupt := bytes.Clone(data)
	corrupt[len(corrupt)-40] ^= 0xff // inside the data member
	tests := []struct {
		name       string
		data       []byte
		opts       pkg.ReadOptions
		emptyAfter bool
	}{
		{"untrusted signer", data, pkg.ReadOptions{Keyring: sign.NewKeyring()}, true},
		{"index checksum differs", data, pkg.ReadOptions{Keyring: keys, ExpectedChecksum: "Q1AAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, true},
		{"corrupt data", corrupt, pkg.ReadOptions{Keyring: keys, ExpectedChecksum: rec.Checksum}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root, in := newRoot(t)
			if _, err := in.InstallAPK(bytes.NewReader(tc.data), tc.opts); err == nil {
				t.Fatal("InstallAPK succeeded")
			}
			if len(in.Packages()) != 0 {
				t.Error("a failed package was recorded")
			}
			if tc.emptyAfter {
				if es, _ := os.ReadDir(root); len(es) != 0 {
					t.Errorf("root holds %d entries", len(es))
				}
			}
		})
	}
}

func TestInstallAPKRealWolfi(t *testing.T) {
	path := filepath.Join(moduleRoot(t), "..", "shared", "testdata", "packages", "hello-wolfi-2.12.1-r0.apk")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("real test data %s not present", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	root, in := newRoot(t)
	// The melange key that signed it is not in the test data.
	info, err := in.InstallAPK(f, pkg.ReadOptions{AllowUntrusted: true, Name: "hello-wolfi"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "hello-wolfi" || info.Version != "2.12.1-r0" || info.Size != uint64(st.Size()) {
		t.Errorf("record %s size %d, file size %d", info, info.Size, st.Size())
	}
	if _, err := os.Stat(filepath.Join(root, "usr/bin/hello")); err != nil {
		t.Error(err)
	}
	if n := len(in.Files("hello-wolfi")); n < 10 {
		t.Errorf("%d files recorded", n)
	}
}

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("module root not found")
		}
		dir = parent
	}
}

var _ io.Reader = (*pkg.Reader)(nil)

// An unsigned package installs when the caller pins its control section
// with the checksum from a verified index, as apk and apko do, and only
// then.
func TestInstallAPKPinnedUnsigned(t *testing.T) {
	_, _, keys := buildHello(t)
	repo := apktest.NewRepo(t.TempDir(), nil)
	data, rec, err := repo.Build("x86_64", apktest.Package{Name: "plain", Version: "1.0-r0", Files: []apktest.File{
		{Path: "etc", Dir: true},
		{Path: "etc/plain.conf", Data: []byte("plain=yes\n")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		opts   pkg.ReadOptions
		wantOK bool
	}{
		{"pinned by the index", pkg.ReadOptions{Keyring: keys, ExpectedChecksum: rec.Checksum, Name: "plain.apk"}, true},
		{"no index checksum", pkg.ReadOptions{Keyring: keys, Name: "plain.apk"}, false},
		{"another package's checksum", pkg.ReadOptions{Keyring: keys, ExpectedChecksum: "Q1AAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", Name: "plain.apk"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root, in := newRoot(t)
			_, err := in.InstallAPK(bytes.NewReader(data), tc.opts)
			if tc.wantOK != (err == nil) {
				t.Fatalf("InstallAPK = %v, want success %v", err, tc.wantOK)
			}
			b, rerr := os.ReadFile(filepath.Join(root, "etc/plain.conf"))
			if tc.wantOK && string(b) != "plain=yes\n" {
				t.Errorf("etc/plain.conf = %q, %v", b, rerr)
			}
			if !tc.wantOK && rerr == nil {
				t.Error("a refused package was extracted")
			}
		})
	}
}

// Through the package reader, which hashes each file to check it, the
// installer records the reader's sum: a file whose contents differ from
// its header's checksum is still refused with the installer's words and
// never placed, and a file without one is hashed for its record.
func TestInstallAPKFileChecksums(t *testing.T) {
	signer, keys := apktest.TrustedSigner(t)
	file := func(name, data string, pax map[string]string, noSum bool) apktest.RawEntry {
		return apktest.RawEntry{Header: tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, PAXRecords: pax}, Data: []byte(data), NoChecksum: noSum}
	}
	sumQ1 := func(s string) string {
		h := sha1.Sum([]byte(s))
		return "Q1" + base64.StdEncoding.EncodeToString(h[:])
	}
	bad := strings.Repeat("0", 40)
	tests := []struct {
		name    string
		entry   apktest.RawEntry
		wantErr string
	}{
		{"checksum in the header", file("good", "good", nil, false), ""},
		{"no checksum in the header", file("nosum", "nosum", nil, true), ""},
		{"contents differ", file("bad", "bad", map[string]string{"APK-TOOLS.checksum.SHA1": bad}, false),
			fmt.Sprintf(`"bad": contents have checksum %s, header says Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=`, sumQ1("bad"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, rec, err := apktest.Raw{Name: "a", Version: "1.0-r0", Arch: "x86_64", Signer: signer, Alg: sign.SHA256,
				Entries: []apktest.RawEntry{tc.entry}}.Build()
			if err != nil {
				t.Fatal(err)
			}
			root, in := newRoot(t)
			_, err = in.InstallAPK(bytes.NewReader(data), pkg.ReadOptions{Keyring: keys, ExpectedChecksum: rec.Checksum, Name: "a"})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("InstallAPK = %v, want %q", err, tc.wantErr)
				}
				if _, err := os.Lstat(filepath.Join(root, tc.entry.Header.Name)); !os.IsNotExist(err) {
					t.Errorf("the refused file was placed: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			files := in.Packages()[0].Files()
			if want := sumQ1(string(tc.entry.Data)); len(files) != 1 || files[0].Checksum != want {
				t.Errorf("recorded %+v, want checksum %s", files, want)
			}
		})
	}
}
