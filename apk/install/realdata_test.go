package install

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha1"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/internal/testkit"
)

// sharedTestdata locates ../shared/testdata/rel, or skips.
func sharedTestdata(t testing.TB, rel string) string {
	t.Helper()
	return testkit.SharedTestdata(t, rel)
}

// rawAPK opens an .apk as one tar stream: its gzip members decompress
// back to back and abuild cuts the end-of-archive blocks between them, so
// the signature and control entries come first, which Install skips.
func rawAPK(t testing.TB, path string) *tar.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return tar.NewReader(zr)
}

func TestRealAlpineBaselayout(t *testing.T) {
	apk := sharedTestdata(t, "packages/alpine-baselayout-3.2.0-r23.apk")
	s := newSandbox(t)
	in := newInstaller(t, s.root, Options{SourceDateEpoch: 1})
	p := pkgInfo("alpine-baselayout", ver("3.2.0-r23"), origin("alpine-baselayout"))
	if err := in.Install(p, rawAPK(t, apk), Control{}); err != nil {
		t.Fatal(err)
	}
	if err := in.WriteDatabase(DatabaseFiles{World: []string{"alpine-baselayout"}}); err != nil {
		t.Fatal(err)
	}
	s.checkOutside(t)
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{
		{"tmp", os.ModeDir | os.ModeSticky | 0o777},
		{"root", os.ModeDir | 0o700},
		{"var/empty", os.ModeDir | 0o555},
		{"etc/crontabs/root", 0o600},
		{"sbin/mkmntdirs", 0o755},
		{"var/run", os.ModeSymlink | 0o777},
	} {
		if fi := lstat(t, s.root, c.path); fi.Mode() != c.mode {
			t.Errorf("%s: mode %v, want %v", c.path, fi.Mode(), c.mode)
		}
	}
	if got := readLink(t, s.root, "var/spool/mail"); got != "/var/mail" {
		t.Errorf("var/spool/mail -> %q", got)
	}
	// Lines as apk-tools wrote them for these same files in a real Alpine
	// installed database (alpine-baselayout 3.2.0-r22, identical contents).
	db := readFile(t, s.root, "usr/lib/apk/db/installed")
	for _, frag := range []string{
		"F:etc/crontabs\nR:root\na:0:0:600\nZ:Q1vfk1apUWI4yLJGhhNRd0kJixfvY=\n",
		"F:etc/profile.d\nR:README\nZ:Q135OWsCzzvnB2fmFx62kbqm1Ax1k=\n",
		"F:root\nM:0:0:700\n",
		"F:sbin\nR:mkmntdirs\na:0:0:755\nZ:Q1Yz4VxhO2EVju3t6SmUoDtmTSK+U=\n",
		"F:tmp\nM:0:0:1777\n",
		"F:var\nR:run\na:0:0:777\nZ:Q11/SNZz/8cK2dSKK+cJpVrZIuF4Q=\n",
		"F:var/empty\nM:0:0:555\n",
		"F:var/spool\nR:mail\na:0:0:777\nZ:Q1dzbdazYZA2nTzSIG3YyNw7d4Juc=\n",
		"F:var/spool/cron\nR:crontabs\na:0:0:777\nZ:Q1OFZt+ZMp7j0Gny0rqSKuWJyqYmA=\n",
		"F:var/tmp\nM:0:0:1777\n\n",
	} {
		if !strings.Contains(db, frag) {
			t.Errorf("installed database lacks %q", frag)
		}
	}
	checkChecksumsOnDisk(t, s.root, in.Files("alpine-baselayout"))
}

func TestRealWolfiHello(t *testing.T) {
	apk := sharedTestdata(t, "packages/hello-wolfi-2.12.1-r0.apk")
	s := newSandbox(t)
	in := newInstaller(t, s.root, Options{})
	if err := in.Install(pkgInfo("hello-wolfi", ver("2.12.1-r0")), rawAPK(t, apk), Control{}); err != nil {
		t.Fatal(err)
	}
	if fi := lstat(t, s.root, "usr/bin/hello"); fi.Mode() != 0o755 {
		t.Errorf("usr/bin/hello mode %v", fi.Mode())
	}
	files := in.Files("hello-wolfi")
	if len(files) < 10 {
		t.Fatalf("only %d files recorded", len(files))
	}
	checkChecksumsOnDisk(t, s.root, files)
}

// checkChecksumsOnDisk compares each regular file's Z: with a SHA-1 of
// what landed on disk.
func checkChecksumsOnDisk(t *testing.T, root string, files []FileRecord) {
	t.Helper()
	for _, f := range files {
		fi := lstat(t, root, f.Path)
		if !fi.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(b)
		if want := "Q1" + base64.StdEncoding.EncodeToString(sum[:]); f.Checksum != want {
			t.Errorf("%s: Z %s, file on disk %s", f.Path, f.Checksum, want)
		}
	}
}
