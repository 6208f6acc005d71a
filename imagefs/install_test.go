package imagefs

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/step"
)

// usrMergeRepo writes a repository with a usr-merged baselayout, a library
// with a soname link, and a package that still ships /bin and /sbin paths.
func usrMergeRepo(t *testing.T) (dir string, pkgs map[string]*index.Package) {
	t.Helper()
	s, err := apktest.Signer()
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	if _, err := apktest.WriteKey(filepath.Join(dir, "keys"), s); err != nil {
		t.Fatal(err)
	}
	d := func(p string) apktest.File { return apktest.File{Path: p, Dir: true} }
	r := apktest.NewRepo(filepath.Join(dir, "repo"), s)
	r.Add("x86_64",
		apktest.Package{Name: "baselayout", Version: "1-r0", Files: []apktest.File{
			d("usr"), d("usr/bin"), d("usr/lib"), {Path: "usr/sbin", Dir: true, Mode: 0o750},
			{Path: "bin", Symlink: "usr/bin"}, {Path: "sbin", Symlink: "usr/sbin"}, {Path: "lib", Symlink: "usr/lib"}}},
		apktest.Package{Name: "libfoo", Version: "1.2-r0", Files: []apktest.File{
			d("usr"), d("usr/lib"), {Path: "usr/lib/libfoo.so.1.2", Data: []byte("lib")},
			{Path: "usr/lib/libfoo.so.1", Symlink: "libfoo.so.1.2"}}},
		apktest.Package{Name: "legacy", Version: "3-r0", Files: []apktest.File{
			d("bin"), {Path: "bin/legacy", Mode: 0o755, Data: []byte("#!/bin/sh\n")},
			d("sbin"), {Path: "sbin/legacyd", Mode: 0o755, Data: []byte("#!/bin/sh\n")}}},
	)
	idx, err := r.Write()
	if err != nil {
		t.Fatal(err)
	}
	pkgs = map[string]*index.Package{}
	for _, p := range idx["x86_64"] {
		pkgs[p.Name] = p
	}
	return dir, pkgs
}

func TestInstallBatchesFollowLowerSymlinks(t *testing.T) {
	dir, pkgs := usrMergeRepo(t)
	layer := func(name string) step.InstallLayer {
		out, meta := filepath.Join(dir, "out", name), filepath.Join(dir, "meta", name)
		os.MkdirAll(out, 0o755)
		os.MkdirAll(meta, 0o755)
		return step.InstallLayer{Out: out, Meta: meta, Packages: []step.APKFile{
			{Path: filepath.Join(dir, "repo", "x86_64", pkgs[name].Filename()), Checksum: pkgs[name].Checksum}}}
	}
	links := func(name string) string {
		p := filepath.Join(dir, "links", name)
		os.MkdirAll(p, 0o755)
		return p
	}
	keys := filepath.Join(dir, "keys")
	// Batch 1: the baselayout and the library; batch 2: the legacy
	// package, which sees batch 1 only through its links record.
	first := step.InstallAPK{Keyring: keys, Links: links("1"), Layers: []step.InstallLayer{layer("baselayout"), layer("libfoo")}}
	if err := InstallAPK(first); err != nil {
		t.Fatal(err)
	}
	var rec []step.Link
	data, _ := os.ReadFile(filepath.Join(first.Links, step.LinksFile))
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	want := []step.Link{{Path: "bin", Target: "usr/bin"}, {Path: "lib", Target: "usr/lib"}, {Path: "sbin", Target: "usr/sbin"}}
	if !reflect.DeepEqual(rec, want) {
		t.Errorf("links record %+v, want %+v (the soname link leads to a file and stays out)", rec, want)
	}
	second := step.InstallAPK{Keyring: keys, Lower: first.Links, Links: links("2"), Layers: []step.InstallLayer{layer("legacy")}}
	if err := InstallAPK(second); err != nil {
		t.Fatal(err)
	}
	out := second.Layers[0].Out
	for _, p := range []string{"usr/bin/legacy", "usr/sbin/legacyd"} {
		if fi, err := os.Lstat(filepath.Join(out, p)); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: %v, want the file placed through the lower symlink", p, err)
		}
	}
	for _, p := range []string{"bin", "sbin"} {
		if _, err := os.Lstat(filepath.Join(out, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is in the legacy layer, shadowing the usr-merge link", p)
		}
	}
	// The second batch says what it asked of the first's links record:
	// the legacy package's bin and sbin, which it found there.
	var looked []string
	data, _ = os.ReadFile(filepath.Join(second.Links, step.LookupsFile))
	if err := json.Unmarshal(data, &looked); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"bin", "sbin"} {
		if !slices.Contains(looked, p) {
			t.Errorf("lookups %v lack %s", looked, p)
		}
	}
	if _, err := os.Stat(filepath.Join(first.Links, step.LookupsFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the first batch, with nothing below, wrote %s: %v", step.LookupsFile, err)
	}
	// The installed database names the paths as the package does.
	db, err := os.ReadFile(filepath.Join(second.Layers[0].Meta, "usr/lib/apk/db/installed"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"F:bin\nR:legacy\n", "F:sbin\nR:legacyd\n"} {
		if !strings.Contains(string(db), line) {
			t.Errorf("database lacks %q:\n%s", line, db)
		}
	}
	// Within one batch the lower layers are seen whole.
	one := step.InstallAPK{Keyring: keys, Links: links("3"), Layers: []step.InstallLayer{layer("baselayout"), layer("legacy")}}
	os.RemoveAll(one.Layers[0].Out)
	os.MkdirAll(one.Layers[0].Out, 0o755)
	os.RemoveAll(one.Layers[1].Out)
	os.MkdirAll(one.Layers[1].Out, 0o755)
	if err := InstallAPK(one); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(one.Layers[1].Out, "usr/sbin")); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("usr/sbin in the legacy layer: %v %v, want the baselayout's 0750", fi, err)
	}
}
