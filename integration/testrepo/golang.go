package testrepo

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/apk/arch"
)

// GoPackage makes a real Go toolchain package from the host's GOROOT (the
// go command, the compiler, linker and assembler, and the standard
// library's sources), installed as /usr/lib/go with /usr/bin/go, as
// distributions package it. Tests, testdata and the toolchain's own
// sources are left out: building programs needs none of them. The host's
// toolchain runs only on the host's architecture, so the package is for
// that one.
func GoPackage(goroot string) (apktest.Package, error) {
	version, err := os.ReadFile(filepath.Join(goroot, "VERSION"))
	if err != nil {
		return apktest.Package{}, fmt.Errorf("go package: %w", err)
	}
	v := strings.TrimPrefix(strings.SplitN(string(version), "\n", 2)[0], "go")
	p := apktest.Package{Name: "go", Version: v + "-r0", License: "BSD-3-Clause", Description: "the Go toolchain (the host's)",
		Provides: []string{"cmd:go=" + v + "-r0"}}
	dirs := map[string]bool{}
	addDirs := func(rel string) {
		var chain []string
		for d := filepath.Dir(rel); d != "." && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
			chain = append(chain, d)
		}
		for i := len(chain) - 1; i >= 0; i-- {
			p.Files = append(p.Files, apktest.File{Path: chain[i], Dir: true})
		}
	}
	add := func(src, rel string, mode fs.FileMode) error {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		addDirs(rel)
		p.Files = append(p.Files, apktest.File{Path: rel, Mode: mode, Data: data})
		return nil
	}
	tools := filepath.Join("pkg", "tool", runtime.GOOS+"_"+runtime.GOARCH)
	for _, f := range []string{"VERSION", "go.env", "bin/go", tools + "/compile", tools + "/link", tools + "/asm", tools + "/cgo", tools + "/buildid"} {
		mode := fs.FileMode(0o644)
		if strings.HasPrefix(f, "bin/") || strings.HasPrefix(f, tools) {
			mode = 0o755
		}
		if _, err := os.Stat(filepath.Join(goroot, f)); err != nil && strings.HasSuffix(f, "/buildid") {
			continue
		}
		if err := add(filepath.Join(goroot, f), "usr/lib/go/"+f, mode); err != nil {
			return apktest.Package{}, fmt.Errorf("go package: %w", err)
		}
	}
	for _, tree := range []string{"src", "pkg/include"} {
		err := filepath.WalkDir(filepath.Join(goroot, tree), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(goroot, path)
			switch {
			case d.IsDir() && (d.Name() == "testdata" || rel == filepath.Join("src", "cmd")):
				return filepath.SkipDir
			case d.IsDir() || !d.Type().IsRegular() || strings.HasSuffix(d.Name(), "_test.go"):
				return nil
			}
			return add(path, "usr/lib/go/"+filepath.ToSlash(rel), 0o644)
		})
		if err != nil {
			return apktest.Package{}, fmt.Errorf("go package: %w", err)
		}
	}
	addDirs("usr/bin/go")
	p.Files = append(p.Files, apktest.File{Path: "usr/bin/go", Symlink: "../lib/go/bin/go"})
	return p, nil
}

// buildBase is the metapackage melange's compile pipelines need; the
// test repository's toolchains are self-contained, so it holds nothing.
func buildBase(o Options) apktest.Package {
	return apktest.Package{Name: "build-base", Version: o.version("build-base", "1-r0"), License: "MIT",
		Description: "build tools (empty in the test repository)"}
}

// hostArch is the apk architecture of the host's Go toolchain.
func hostArch() string { return arch.Host() }

// bulkTotal is about how many bytes the bulk packages hold together.
const bulkTotal = 110 << 20

// bulkPackages split real binaries and sources (a GOROOT's files, in path
// order) into n packages bulk-NN of about equal size, for the large
// benchmark image. Each holds a BULK-VERSION file, so a bump changes bytes
// (not VERSION: the Go tree has its own, which would land beside it).
func bulkPackages(o Options) ([]apktest.Package, error) {
	if o.Bulk == 0 {
		return nil, nil
	}
	type file struct {
		rel  string
		size int64
	}
	var files []file
	var total int64
	err := filepath.WalkDir(o.BulkFrom, func(path string, d fs.DirEntry, err error) error {
		if err != nil || total >= bulkTotal {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(o.BulkFrom, path)
		files = append(files, file{filepath.ToSlash(rel), fi.Size()})
		total += fi.Size()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bulk packages: %w", err)
	}
	// Every package exists (a bump needs its name) and gets its run of
	// files (splitShares).
	out := make([]apktest.Package, o.Bulk)
	dirs := make([]map[string]bool, o.Bulk)
	for n := range out {
		name := fmt.Sprintf("bulk-%02d", n)
		v := o.version(name, "1.0-r0")
		out[n] = apktest.Package{Name: name, Version: v, License: "BSD-3-Clause",
			Files: []apktest.File{{Path: "usr", Dir: true}, {Path: "usr/lib", Dir: true}, {Path: "usr/lib/bulk", Dir: true},
				{Path: "usr/lib/bulk/" + name, Dir: true}, {Path: "usr/lib/bulk/" + name + "/BULK-VERSION", Data: []byte(v + "\n")}}}
		dirs[n] = map[string]bool{}
	}
	sizes := make([]int64, len(files))
	for i, f := range files {
		sizes[i] = f.size
	}
	owner := splitShares(sizes, o.Bulk)
	for i, f := range files {
		n := owner[i]
		cur := &out[n]
		data, err := os.ReadFile(filepath.Join(o.BulkFrom, f.rel))
		if err != nil {
			return nil, err
		}
		rel := "usr/lib/bulk/" + cur.Name + "/" + f.rel
		var chain []string
		for d := filepath.ToSlash(filepath.Dir(rel)); d != "usr/lib/bulk/"+cur.Name && !dirs[n][d]; d = filepath.ToSlash(filepath.Dir(d)) {
			dirs[n][d] = true
			chain = append(chain, d)
		}
		for i := len(chain) - 1; i >= 0; i-- {
			cur.Files = append(cur.Files, apktest.File{Path: chain[i], Dir: true})
		}
		cur.Files = append(cur.Files, apktest.File{Path: rel, Mode: 0o755, Data: data})
	}
	return out, nil
}

// splitShares gives each of a run of files (their sizes, in order) one of
// n packages, in order, so that each package holds about the bytes still
// unplaced divided by the packages still empty (a file goes to the next
// package when that leaves this one nearer its share), and none is empty
// while files remain: a file larger than a share fills a package of its
// own. A package's share comes from what is left rather than a fixed
// total/n, or every package after a large file would start inside it and
// get nothing.
func splitShares(sizes []int64, n int) []int {
	owner := make([]int, len(sizes))
	var left int64
	for _, s := range sizes {
		left += s
	}
	pkg, held := 0, int64(0)
	share := left / int64(max(n, 1))
	for i, s := range sizes {
		filesLeft := len(sizes) - i // this one included
		if held > 0 && pkg < n-1 && (held+s/2 >= share || filesLeft < n-pkg) {
			left -= held
			pkg, held = pkg+1, 0
			share = left / int64(n-pkg)
		}
		owner[i] = pkg
		held += s
	}
	return owner
}
