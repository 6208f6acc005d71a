package imagefs

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/step"
)

// deepTree is a package shaped like a slice of a toolchain's source: a
// spine of nested directories 12 deep below usr/lib/bulk/<name>, two
// leaf directories beside each level, three 4 KiB files in each
// directory (about 110 files in 37 directories).
func deepTree(name string, rng *rand.Rand) []apktest.File {
	d := func(p string) apktest.File { return apktest.File{Path: p, Dir: true} }
	files := []apktest.File{d("usr"), d("usr/lib"), d("usr/lib/bulk")}
	spine := "usr/lib/bulk/" + name
	addDir := func(p string) {
		files = append(files, d(p))
		for f := range 3 {
			data := make([]byte, 4096)
			for i := range data {
				data[i] = "abcdefghijklmnopqrstuvwxyz \n"[rng.IntN(28)]
			}
			files = append(files, apktest.File{Path: p + "/f" + strconv.Itoa(f) + ".go", Data: data})
		}
	}
	addDir(spine)
	for level := range 12 {
		for leaf := range 2 {
			addDir(fmt.Sprintf("%s/leaf%d", spine, leaf))
		}
		spine += "/level" + strconv.Itoa(level)
		addDir(spine)
	}
	return files
}

// BenchmarkInstallBatch runs one install step over a batch of nine
// layers, one deep-tree package each, over a usr-merged baselayout in the
// batch below (seen through its links record), as the large image's
// batches run.
func BenchmarkInstallBatch(b *testing.B) {
	s, err := apktest.Signer()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	keys := filepath.Join(dir, "keys")
	if _, err := apktest.WriteKey(keys, s); err != nil {
		b.Fatal(err)
	}
	r := apktest.NewRepo(filepath.Join(dir, "repo"), s)
	d := func(p string) apktest.File { return apktest.File{Path: p, Dir: true} }
	r.Add("x86_64", apktest.Package{Name: "baselayout", Version: "1-r0", Files: []apktest.File{
		d("usr"), d("usr/bin"), d("usr/lib"), {Path: "bin", Symlink: "usr/bin"}, {Path: "lib", Symlink: "usr/lib"}}})
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{}
	for i := range 9 {
		name := fmt.Sprintf("bulk-%02d", i)
		names = append(names, name)
		r.Add("x86_64", apktest.Package{Name: name, Version: "1-r0", Files: deepTree(name, rng)})
	}
	idx, err := r.Write()
	if err != nil {
		b.Fatal(err)
	}
	apk := map[string]step.APKFile{}
	var size int64
	for _, p := range idx["x86_64"] {
		apk[p.Name] = step.APKFile{Path: filepath.Join(dir, "repo", "x86_64", p.Filename()), Checksum: p.Checksum}
		size += int64(p.Size)
	}
	run := 0
	batch := func(names []string, lower string) step.InstallAPK {
		run++
		top := filepath.Join(dir, "run", strconv.Itoa(run))
		s := step.InstallAPK{Keyring: keys, Lower: lower, Links: filepath.Join(top, "links")}
		for i, n := range names {
			l := step.InstallLayer{Out: filepath.Join(top, "out", strconv.Itoa(i)), Meta: filepath.Join(top, "meta", strconv.Itoa(i)),
				Packages: []step.APKFile{apk[n]}}
			s.Layers = append(s.Layers, l)
		}
		for _, p := range []string{s.Links, filepath.Join(top, "out"), filepath.Join(top, "meta")} {
			if err := os.MkdirAll(p, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		return s
	}
	base := batch([]string{"baselayout"}, "")
	if err := InstallAPK(base); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	var last string
	for b.Loop() {
		b.StopTimer()
		// Each run starts on a quiet disk: the last run's tree removed
		// and everything written back, so runs do not queue behind the
		// writeback of the ones before.
		if last != "" {
			if err := os.RemoveAll(last); err != nil {
				b.Fatal(err)
			}
		}
		syscall.Sync()
		s := batch(names, base.Links)
		last = filepath.Dir(s.Links)
		b.StartTimer()
		if err := InstallAPK(s); err != nil {
			b.Fatal(err)
		}
	}
}
