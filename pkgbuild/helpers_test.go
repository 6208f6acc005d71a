package pkgbuild

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kiln-build/kiln/apk/install"
	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
)

// entry is one file of a test output directory.
type entry struct {
	path     string
	mode     uint32 // Unix permission bits with setuid/setgid/sticky (04755); 0: 0644 files, 0755 dirs
	data     string
	dir      bool
	symlink  string
	hardlink string // path of an earlier entry
	uid, gid int    // set when running as root
	xattrs   map[string]string
}

// makeTree writes entries under a new directory and returns it.
func makeTree(t testing.TB, entries ...entry) string {
	t.Helper()
	root := t.TempDir()
	writeTree(t, root, entries...)
	return root
}

func writeTree(t testing.TB, root string, entries ...entry) {
	t.Helper()
	for _, e := range entries {
		p := filepath.Join(root, e.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case e.dir:
			err = os.MkdirAll(p, 0o755)
		case e.symlink != "":
			err = os.Symlink(e.symlink, p)
		case e.hardlink != "":
			err = os.Link(filepath.Join(root, e.hardlink), p)
		default:
			err = os.WriteFile(p, []byte(e.data), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.symlink != "" || e.hardlink != "" {
			continue
		}
		mode := install.FileMode(uint32(e.mode))
		if e.mode == 0 {
			mode = 0o644
			if e.dir {
				mode = 0o755
			}
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if (e.uid != 0 || e.gid != 0) && os.Geteuid() == 0 {
			if err := os.Lchown(p, e.uid, e.gid); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, mode); err != nil { // chown clears setuid
				t.Fatal(err)
			}
		}
		for k, v := range e.xattrs {
			if err := setXattr(p, k, v); err != nil {
				t.Skipf("extended attributes unsupported here: %v", err)
			}
		}
	}
}

var (
	signerOnce sync.Once
	testSigner *sign.Signer
)

func signer(t testing.TB) *sign.Signer {
	t.Helper()
	signerOnce.Do(func() {
		s, err := sign.GenerateSigner("melange.rsa.pub", 2048)
		if err != nil {
			t.Fatal(err)
		}
		testSigner = s
	})
	return testSigner
}

func keyring(t testing.TB, s *sign.Signer) *sign.Keyring {
	t.Helper()
	pub, err := s.PublicKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	k := sign.NewKeyring()
	if err := k.Add(s.KeyName, pub); err != nil {
		t.Fatal(err)
	}
	return k
}

func basePackage() Package {
	return Package{Name: "hello", Version: "2.12-r1", Arch: "x86_64", Licenses: []string{"GPL-3.0-or-later"},
		Description: "the GNU hello program", URL: "https://www.gnu.org/software/hello/"}
}

func buildBytes(t testing.TB, dir string, p Package, opts Options) ([]byte, *Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Build(context.Background(), &buf, dir, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), res
}

// opened is a package read back with full verification.
type opened struct {
	r       *pkg.Reader
	headers map[string]*tar.Header
	order   []string
	data    map[string][]byte
}

func openVerified(t testing.TB, apk []byte, s *sign.Signer) *opened {
	t.Helper()
	pr, err := pkg.Open(bytes.NewReader(apk), pkg.ReadOptions{Keyring: keyring(t, s)})
	if err != nil {
		t.Fatal(err)
	}
	o := &opened{r: pr, headers: map[string]*tar.Header{}, data: map[string][]byte{}}
	for {
		h, err := pr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(pr)
		if err != nil {
			t.Fatal(err)
		}
		o.headers[h.Name] = h
		o.order = append(o.order, h.Name)
		o.data[h.Name] = b
	}
	return o
}
