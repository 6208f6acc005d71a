package sca

import (
	"archive/tar"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/internal/testkit"
)

// TestMelangeBuiltPackage analyses the files of a real melange-built
// package and expects the dependencies melange wrote into its .PKGINFO.
func TestMelangeBuiltPackage(t *testing.T) {
	p := testkit.SharedTestdata(t, "packages/hello-wolfi-2.12.1-r0.apk")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, err := pkg.Open(f, pkg.ReadOptions{AllowUntrusted: true, Name: p})
	if err != nil {
		t.Fatal(err)
	}
	tree := fstest.MapFS{}
	for {
		h, err := pr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(pr)
		if err != nil {
			t.Fatal(err)
		}
		mode := fs.FileMode(h.Mode & 0o777)
		switch h.Typeflag {
		case tar.TypeDir:
			mode |= fs.ModeDir
		case tar.TypeSymlink:
			mode, data = fs.ModeSymlink|0o777, []byte(h.Linkname)
		}
		tree[h.Name] = &fstest.MapFile{Data: data, Mode: mode}
	}
	res, err := Analyze(Input{Name: pr.Info.Name, Version: pr.Info.Version, FS: tree})
	if err != nil {
		t.Fatal(err)
	}
	runtime, provides := Combine(nil, nil, res)
	if !slices.Equal(runtime, pr.Info.Dependencies) {
		t.Errorf("depends %q, melange wrote %q", runtime, pr.Info.Dependencies)
	}
	if !slices.Equal(provides, pr.Info.Provides) {
		t.Errorf("provides %q, melange wrote %q", provides, pr.Info.Provides)
	}
}
