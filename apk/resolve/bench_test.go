package resolve

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
)

// synthetic builds a repository of about n packages shaped like a large
// distribution: a libc, shells providing /bin/sh with priorities, 50 core
// libraries, layers of libraries each needing a few from the layer below
// by so: name (some in three versions, the newest needing a newer
// dependency), applications needing libraries, /bin/sh and other
// applications' cmd: names, -doc subpackages installed by install_if, and
// -legacy variants that conflict with their application.
func synthetic(n int) []Repository {
	rng := rand.New(rand.NewPCG(1, 2))
	var pkgs []*index.Package
	add := func(p *index.Package) { p.Arch = "x86_64"; pkgs = append(pkgs, p) }
	add(&index.Package{Name: "musl", Version: "1.2.4-r2", Provides: []string{"so:libc.musl-x86_64.so.1=1"}})
	add(&index.Package{Name: "busybox", Version: "1.36.1-r5", Dependencies: []string{"so:libc.musl-x86_64.so.1"},
		Provides: []string{"/bin/sh", "cmd:busybox=1.36.1-r5"}, ProviderPriority: 100, HasProviderPrio: true})
	add(&index.Package{Name: "dash", Version: "0.5.12-r0", Dependencies: []string{"so:libc.musl-x86_64.so.1"},
		Provides: []string{"/bin/sh", "cmd:dash=0.5.12-r0"}, ProviderPriority: 10, HasProviderPrio: true})
	add(&index.Package{Name: "docs", Version: "0.2-r6"})

	type lib struct{ so, ver string }
	var layers [][]lib
	pick := func(layer []lib) lib { return layer[rng.IntN(len(layer))] }
	libPkg := func(name string, major, minor int, deps []string) {
		ver := fmt.Sprintf("%d.%d.0-r%d", major, minor, rng.IntN(4))
		add(&index.Package{Name: name, Version: ver, Dependencies: deps,
			Provides: []string{fmt.Sprintf("so:%s.so.%d=%d.%d.0", name, major, major, minor), fmt.Sprintf("pc:%s=%d.%d.0", name, major, minor)}})
	}
	sizes := []int{50, 500, 5000}
	for l, size := range sizes {
		var layer []lib
		for i := 0; i < size; i++ {
			name := fmt.Sprintf("lib%d-%d", l, i)
			major := 1 + rng.IntN(3)
			deps := []string{"so:libc.musl-x86_64.so.1"}
			if l > 0 {
				for k := 0; k < 1+rng.IntN(3); k++ {
					deps = append(deps, "so:"+pick(layers[l-1]).so)
				}
			}
			libPkg(name, major, 0, deps)
			if i%7 == 0 { // two newer versions; the newest wants a newer pc: of a lower layer
				libPkg(name, major, 1, deps)
				newest := append([]string{}, deps...)
				if l > 0 {
					newest = append(newest, "pc:"+pick(layers[l-1]).ver+">=0")
				}
				libPkg(name, major, 2, newest)
			}
			layer = append(layer, lib{so: fmt.Sprintf("%s.so.%d", name, major), ver: name})
		}
		layers = append(layers, layer)
	}
	var apps []string
	for i := 0; len(pkgs) < n; i++ {
		name := fmt.Sprintf("app%d", i)
		ver := fmt.Sprintf("%d.%d-r%d", 1+rng.IntN(9), rng.IntN(20), rng.IntN(3))
		deps := []string{"so:libc.musl-x86_64.so.1"}
		for k := 0; k < 2+rng.IntN(4); k++ {
			deps = append(deps, "so:"+pick(layers[1+rng.IntN(2)]).so)
		}
		if rng.IntN(4) == 0 {
			deps = append(deps, "/bin/sh")
		}
		if len(apps) > 0 && rng.IntN(10) == 0 {
			deps = append(deps, "cmd:"+apps[rng.IntN(len(apps))])
		}
		add(&index.Package{Name: name, Version: ver, Dependencies: deps, Provides: []string{"cmd:" + name + "=" + ver}})
		add(&index.Package{Name: name + "-doc", Version: ver, InstallIf: []string{"docs", name + "=" + ver}})
		if i%20 == 0 {
			add(&index.Package{Name: name + "-legacy", Version: ver, Dependencies: []string{"!" + name}})
		}
		apps = append(apps, name)
	}
	return []Repository{{Name: "synthetic", Arch: "x86_64", Packages: pkgs}}
}

var synth50k = sync.OnceValue(func() []Repository { return synthetic(50000) })

var synthWorld = []string{"app20000", "app12345", "app3000", "app7", "docs"}

// TestSynthetic checks the benchmark's repository resolves to a valid
// set, so the benchmark measures real work.
func TestSynthetic(t *testing.T) {
	rs := synthetic(15000)
	r, err := New(rs)
	if err != nil {
		t.Fatal(err)
	}
	world := []string{"app2000", "app1234", "app300", "app7", "docs"}
	sol, err := r.Resolve(world)
	if err != nil {
		t.Fatal(err)
	}
	checkSolution(t, world, sol)
	docs := 0
	for _, p := range sol.Packages {
		if len(p.Package.InstallIf) > 0 {
			docs++
		}
	}
	if len(sol.Packages) < 20 || docs < 4 {
		t.Errorf("%d packages, %d install_if: the repository is too thin", len(sol.Packages), docs)
	}
	t.Logf("%d packages in the index, %d resolved", len(rs[0].Packages), len(sol.Packages))
}

func BenchmarkNewAlpine316(b *testing.B) {
	r, _ := alpineResolver(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(r.repos); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolveAlpine316(b *testing.B) {
	r, _ := alpineResolver(b)
	for _, w := range alpineWorlds {
		b.Run(w, func(b *testing.B) {
			world := []string{w}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Resolve(world); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNew50k(b *testing.B) {
	rs := synth50k()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(rs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolve50k(b *testing.B) {
	r, err := New(synth50k())
	if err != nil {
		b.Fatal(err)
	}
	sol, err := r.Resolve(synthWorld)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Resolve(synthWorld); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(sol.Packages)), "pkgs/op")
}

// longProvidesRepo is a repository whose one package provides n distinct
// names on one p: line (a hostile index, or one generated from a huge
// library directory), with a few duplicates.
func longProvidesRepo(n int) []Repository {
	provides := make([]string, 0, n+2)
	for i := range n {
		provides = append(provides, fmt.Sprintf("so:libx%07d.so.1=1.0", i))
	}
	provides = append(provides, provides[0], "big")
	return []Repository{{Name: "long", Arch: "x86_64", Packages: []*index.Package{
		{Name: "big", Version: "1.0-r0", Arch: "x86_64", Provides: provides},
		{Name: "user", Version: "1.0-r0", Arch: "x86_64", Dependencies: []string{fmt.Sprintf("so:libx%07d.so.1", n-1)}},
	}}}
}

// BenchmarkNewLongProvides builds the tables for one package with a long
// p: line; the cost must grow linearly with the line.
func BenchmarkNewLongProvides(b *testing.B) {
	for _, n := range []int{1000, 10000, 50000} {
		rs := longProvidesRepo(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := New(rs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
