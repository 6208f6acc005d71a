package imagefs

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
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
	files := []apktest.File{benchDir("usr"), benchDir("usr/lib"), benchDir("usr/lib/bulk")}
	spine := "usr/lib/bulk/" + name
	addDir := func(p string) {
		files = append(files, benchDir(p))
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

// benchRepo is a signed repository of packages for the benchmarks and a
// way to lay out install steps over them, each in a run directory of its
// own under dir.
type benchRepo struct {
	b    *testing.B
	dir  string
	keys string
	apk  map[string]step.APKFile
	size int64 // bytes of the packages
	runs int
}

func newBenchRepo(b *testing.B, pkgs []apktest.Package) *benchRepo {
	s, err := apktest.Signer()
	if err != nil {
		b.Fatal(err)
	}
	r := &benchRepo{b: b, dir: b.TempDir(), apk: map[string]step.APKFile{}}
	r.keys = filepath.Join(r.dir, "keys")
	if _, err := apktest.WriteKey(r.keys, s); err != nil {
		b.Fatal(err)
	}
	repo := apktest.NewRepo(filepath.Join(r.dir, "repo"), s)
	for _, p := range pkgs {
		repo.Add("x86_64", p)
	}
	idx, err := repo.Write()
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range idx["x86_64"] {
		r.apk[p.Name] = step.APKFile{Path: filepath.Join(r.dir, "repo", "x86_64", p.Filename()), Checksum: p.Checksum}
		r.size += int64(p.Size)
	}
	return r
}

// batch lays out an install step of one layer per package, over lower.
func (r *benchRepo) batch(names []string, lower string) step.InstallAPK {
	r.runs++
	top := filepath.Join(r.dir, "run", strconv.Itoa(r.runs))
	s := step.InstallAPK{Keyring: r.keys, Lower: lower, Links: filepath.Join(top, "links")}
	for i, n := range names {
		l := step.InstallLayer{Out: filepath.Join(top, "out", strconv.Itoa(i)), Meta: filepath.Join(top, "meta", strconv.Itoa(i)),
			Packages: []step.APKFile{r.apk[n]}}
		s.Layers = append(s.Layers, l)
	}
	for _, p := range []string{s.Links, filepath.Join(top, "out"), filepath.Join(top, "meta")} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			r.b.Fatal(err)
		}
	}
	return s
}

func benchDir(p string) apktest.File { return apktest.File{Path: p, Dir: true} }

// usrMergedBase is a baselayout with /bin and /lib linked into /usr.
var usrMergedBase = apktest.Package{Name: "baselayout", Version: "1-r0", Files: []apktest.File{
	benchDir("usr"), benchDir("usr/bin"), benchDir("usr/lib"), {Path: "bin", Symlink: "usr/bin"}, {Path: "lib", Symlink: "usr/lib"}}}

// BenchmarkInstallBatch runs one install step over a batch of nine
// layers, one deep-tree package each, over a usr-merged baselayout in the
// batch below (seen through its links record), as the large image's
// batches run.
func BenchmarkInstallBatch(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	pkgs := []apktest.Package{usrMergedBase}
	names := []string{}
	for i := range 9 {
		name := fmt.Sprintf("bulk-%02d", i)
		names = append(names, name)
		pkgs = append(pkgs, apktest.Package{Name: name, Version: "1-r0", Files: deepTree(name, rng)})
	}
	r := newBenchRepo(b, pkgs)
	base := r.batch([]string{"baselayout"}, "")
	if err := InstallAPK(base); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(r.size)
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
		s := r.batch(names, base.Links)
		last = filepath.Dir(s.Links)
		b.StartTimer()
		if err := InstallAPK(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImageMeta runs the metadata step over an image shaped like the
// bench's small one: a usr-merged baselayout, busybox with 269 applets in
// /bin, /sbin, /usr/bin and /usr/sbin (a few shipped by other packages,
// so their links are skipped), and 32 small packages, each its own layer,
// installed in four batches side by side over the first (so the step also
// checks the batches).
func BenchmarkImageMeta(b *testing.B) {
	var applets []string
	for i := range 269 {
		dir := []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin"}[i%4]
		applets = append(applets, fmt.Sprintf("%s/applet%03d", dir, i))
	}
	busybox := apktest.Package{Name: "busybox", Version: "1.36.1-r0", Files: []apktest.File{
		benchDir("usr"), benchDir("usr/bin"), {Path: "usr/bin/busybox", Data: []byte("ELF"), Mode: 0o755},
		benchDir("etc"), benchDir("etc/busybox-paths.d"),
		{Path: "etc/busybox-paths.d/busybox", Data: []byte("/bin/busybox\n" + strings.Join(applets, "\n") + "\n")}}}
	pkgs := []apktest.Package{usrMergedBase, busybox}
	var names []string
	for i := range 32 {
		name := fmt.Sprintf("filler-%02d", i)
		names = append(names, name)
		files := []apktest.File{benchDir("usr"), benchDir("usr/share"), benchDir("usr/share/" + name)}
		for f := range 4 {
			files = append(files, apktest.File{Path: fmt.Sprintf("usr/share/%s/f%d", name, f), Data: []byte(name)})
		}
		if i < 8 { // ships one applet's path itself
			files = append(files, benchDir("usr/bin"), apktest.File{Path: "usr/bin/" + path.Base(applets[4*i+2]), Data: []byte(name), Mode: 0o755})
		}
		pkgs = append(pkgs, apktest.Package{Name: name, Version: "1.0-r0", Files: files})
	}
	r := newBenchRepo(b, pkgs)
	first := r.batch([]string{"baselayout", "busybox"}, "")
	batches := []step.InstallAPK{first}
	for i := 0; i < len(names); i += 8 {
		batches = append(batches, r.batch(names[i:i+8], first.Links))
	}
	var layers, metas []string
	var check []step.InstallBatch
	for i, s := range batches {
		if err := InstallAPK(s); err != nil {
			b.Fatal(err)
		}
		for _, l := range s.Layers {
			layers, metas = append(layers, l.Out), append(metas, l.Meta)
		}
		if i > 0 {
			check = append(check, step.InstallBatch{Links: s.Links, Layers: len(s.Layers)})
		}
	}
	world := append([]string{"baselayout", "busybox"}, names...)
	specFile := filepath.Join(r.dir, "spec.json")
	spec, err := json.Marshal(step.ImageSpec{Arch: "x86_64", World: world, Repositories: []string{"/repo"}})
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(specFile, spec, 0o644); err != nil {
		b.Fatal(err)
	}
	run := 0
	for b.Loop() {
		b.StopTimer()
		run++
		out := filepath.Join(r.dir, "meta-out", strconv.Itoa(run))
		if err := os.MkdirAll(out, 0o755); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		err := ImageMeta(step.ImageMeta{Spec: specFile, Keyring: r.keys, Out: out, Layers: layers, Metas: metas,
			Batches: check})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// The benchmark is of the real step: its links are there, /bin's
	// through the usr-merge link.
	for _, p := range []string{"usr/bin/applet000", "sbin/applet001"} {
		if fi, err := os.Lstat(filepath.Join(r.dir, "meta-out", "1", p)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			b.Fatalf("no busybox link /%s in the metadata layer: %v", p, err)
		}
	}
}
