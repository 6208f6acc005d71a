// Package sca derives a package's automatic dependencies from its files,
// as melange's software composition analysis does: so: and so-ver:
// provides for shared libraries in library directories, so: depends for
// the libraries and interpreter ELF files need, cmd: provides for
// executables in bin directories, pc: provides and depends for
// pkg-config files, cmd: depends for #! interpreters, and the language
// runtime a package's modules need (perl, python, ruby), man-db and
// texinfo for -doc packages, and the OpenSSL FIPS configuration Go FIPS
// binaries load.
//
// It reads the package tree through an fs.FS, so a real output directory
// (os.Root.FS) and a synthetic one (fstest.MapFS) are analysed alike;
// symlinks are followed only within the tree they are in.
package sca

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/kiln-build/kiln/pkgbuild/elfinfo"
)

// Directories melange treats specially, relative to the package root. A
// trailing "/" is a directory matched exactly (not its subdirectories).
var (
	libDirs       = []string{"lib/", "usr/lib/", "lib64/", "usr/lib64/"}
	binDirs       = []string{"bin/", "sbin/", "usr/bin/", "usr/sbin/"}
	pkgConfigDirs = []string{"usr/local/lib/pkgconfig/", "usr/local/share/pkgconfig/", "usr/lib/pkgconfig/", "usr/lib64/pkgconfig/", "usr/share/pkgconfig/"}
	shbangDirs    = []string{"usr/bin/", "usr/local/bin/", "usr/local/sbin/"} // prefixes: subdirectories too
)

// hostLibraries are injected into containers by the host's GPU driver: a
// package must neither provide nor depend on them.
var hostLibraries = map[string]bool{
	"libEGL_nvidia.so.1": true, "libGLESv1_CM_nvidia.so.1": true, "libGLESv2_nvidia.so.1": true,
	"libGLX_nvidia.so.1": true, "libcuda.so.1": true, "libcudadebugger.so.1": true, "libnvcuvid.so.1": true,
	"libnvidia-allocator.so.1": true, "libnvidia-cfg.so.1": true, "libnvidia-eglcore.so.1": true,
	"libnvidia-encode.so.1": true, "libnvidia-fbc.so.1": true, "libnvidia-glcore.so.1": true,
	"libnvidia-glsi.so.1": true, "libnvidia-glvkspirv.so.1": true, "libnvidia-gpucomp.so.1": true,
	"libnvidia-ml.so.1": true, "libnvidia-ngx.so.1": true, "libnvidia-nvvm.so.1": true,
	"libnvidia-opencl.so.1": true, "libnvidia-opticalflow.so.1": true, "libnvidia-pkcs11-openssl3.so.1": true,
	"libnvidia-pkcs11.so.1": true, "libnvidia-ptxjitcompiler.so.1": true, "libnvidia-rtcore.so.1": true,
	"libnvidia-tls.so.1": true, "libnvoptix.so.1": true,
}

// goFIPSExperiments mark a Go toolchain whose crypto calls OpenSSL.
var goFIPSExperiments = []string{"boringcrypto", "systemcrypto", "opensslcrypto"}

// Options are the melange package options that switch analysis off.
type Options struct {
	NoProvides bool // no generated provides
	NoDepends  bool // no generated runtime dependencies
	NoCommands bool // no cmd: provides or depends
}

// Relative is another package of the same build, whose tree a symlink or
// an ld.so.conf.d file may point into.
type Relative struct {
	Name string
	FS   fs.FS
}

// Input is one package to analyse.
type Input struct {
	Name    string // package name ("-doc" suffix matters)
	Version string // full version, <version>-r<epoch>
	FS      fs.FS  // the package tree; symlinks need fs.ReadLinkFS
	// Relatives are all packages of the build, the main package first,
	// in configuration order; Name is added (with FS) when absent.
	Relatives []Relative
	// Declared are the configured runtime dependencies: a declared
	// perl, python or ruby dependency keeps the generated one out.
	Declared []string
	Options  Options
	// ELFFiles, when not nil, are the regular files known to start with
	// the ELF magic (a packager that has read every file knows): only
	// these are opened as ELF. nil opens every regular file to look.
	ELFFiles map[string]bool
}

// Result is what the analysis generated, each list sorted and without
// duplicates.
type Result struct {
	Runtime  []string
	Provides []string
	// Vendored are sonames and pkg-config modules the package ships
	// outside the standard directories: its own dependencies on them are
	// satisfied internally, but it does not provide them.
	Vendored []string
	// Warnings are files the analysis could not read as melange expects
	// (a library without SONAME, a malformed .pc, an unclear #! line).
	Warnings []string
}

type analysis struct {
	in        Input
	libDirs   []string
	res       Result
	pythonVer string
}

// Analyze walks a package tree and returns its generated dependencies.
func Analyze(in Input) (*Result, error) {
	if in.FS == nil {
		return nil, errors.New("sca: no package tree")
	}
	if !slices.ContainsFunc(in.Relatives, func(r Relative) bool { return r.Name == in.Name }) {
		in.Relatives = append(slices.Clone(in.Relatives), Relative{Name: in.Name, FS: in.FS})
	}
	a := &analysis{in: in}
	extra, err := ldSoConfDirs(in.Relatives)
	if err != nil {
		return nil, fmt.Errorf("sca: %w", err)
	}
	a.libDirs = append(slices.Clone(libDirs), extra...)
	if err := fs.WalkDir(in.FS, ".", a.visit); err != nil {
		return nil, fmt.Errorf("sca: %w", err)
	}
	if err := a.languageRuntimes(); err != nil {
		return nil, fmt.Errorf("sca: %w", err)
	}
	a.finish()
	return &a.res, nil
}

func (a *analysis) warnf(format string, args ...any) {
	a.res.Warnings = append(a.res.Warnings, fmt.Sprintf(format, args...))
}

// visit looks at one entry of the tree; only unreadable directories are
// errors, as in melange, where a file that is not what its name suggests
// is simply not a dependency.
func (a *analysis) visit(p string, d fs.DirEntry, err error) error {
	if err != nil {
		return err
	}
	if p == "." {
		return nil
	}
	a.docDeps(p)
	switch t := d.Type(); {
	case t.IsDir():
		a.pythonDir(p)
	case t&fs.ModeSymlink != 0:
		if strings.Contains(p, ".so") {
			a.crossPackageSymlink(p)
		}
		a.elf(p) // through the link, as melange opens it
	case t.IsRegular():
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o555 == 0o555 && inDir(p, binDirs) {
			a.res.Provides = append(a.res.Provides, "cmd:"+path.Base(p)+"="+a.in.Version)
		}
		if a.in.ELFFiles == nil || a.in.ELFFiles[p] {
			a.elf(p)
		}
		if strings.HasSuffix(p, ".pc") {
			a.pkgConfig(p)
		}
		if slices.ContainsFunc(shbangDirs, func(dir string) bool { return strings.HasPrefix(p, dir) }) {
			a.shbang(p)
		}
	}
	return nil
}

// inDir reports whether p's directory is one of dirs; a dir ending in
// "/..." also matches its subdirectories.
func inDir(p string, dirs []string) bool {
	dir := path.Dir(p)
	for _, d := range dirs {
		if prefix, ok := strings.CutSuffix(d, "/..."); ok {
			if dir == prefix || strings.HasPrefix(dir, prefix+"/") {
				return true
			}
		} else if dir == d || dir+"/" == d {
			return true
		}
	}
	return false
}

// readELF opens p in fsys (following symlinks inside it) and parses it;
// nil when it is not a readable ELF file.
func readELF(fsys fs.FS, p string) (*elfinfo.Info, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	if !ok || !elfinfo.IsELF(ra) {
		return nil, nil
	}
	return elfinfo.Read(ra)
}

func (a *analysis) elf(p string) {
	info, err := readELF(a.in.FS, p)
	if err != nil {
		a.warnf("%s: %v", p, err)
		return
	}
	if info == nil {
		return
	}
	if info.Interpreter != "" {
		// musl's loader is a symlink to libc, which is what provides it.
		dep := "so:" + path.Base(info.Interpreter)
		dep = strings.Replace(dep, "so:ld-musl", "so:libc.musl", 1)
		a.res.Runtime = append(a.res.Runtime, dep)
	}
	for _, lib := range info.Needed {
		if !hostLibraries[lib] && strings.Contains(lib, ".so.") {
			a.res.Runtime = append(a.res.Runtime, "so:"+lib)
		}
	}
	// Executables have an interpreter; libraries that are also runnable
	// (libc, libcap) still count as libraries by their name.
	base := path.Base(p)
	if info.Interpreter == "" || strings.Contains(base, ".so.") || strings.HasSuffix(base, ".so") {
		if len(info.SONames) == 0 && strings.Contains(base, ".so") {
			a.warnf("%s: shared library without SONAME", p)
		}
		for _, soname := range info.SONames {
			if hostLibraries[soname] {
				continue
			}
			deps := []string{"so:" + soname + "=" + sonameVersion(soname), "so-ver:" + soname + "=" + a.in.Version}
			if inDir(p, a.libDirs) {
				a.res.Provides = append(a.res.Provides, deps...)
			} else {
				a.res.Vendored = append(a.res.Vendored, deps...)
			}
		}
	}
	if info.GoSettings != nil && goFIPS(info) {
		a.res.Runtime = append(a.res.Runtime, "openssl-config-fipshardened", "so:libcrypto.so.3")
	}
}

// goFIPS reports a cgo Go binary built with an OpenSSL-backed crypto
// experiment: it loads libcrypto and the FIPS configuration at run time.
func goFIPS(info *elfinfo.Info) bool {
	if v, _ := info.GoSetting("CGO_ENABLED"); v != "1" {
		return false
	}
	if v, _ := info.GoSetting("GOEXPERIMENT"); slices.Contains(goFIPSExperiments, v) {
		return true
	}
	v, _ := info.GoSetting("microsoft_systemcrypto")
	return v == "1"
}

// sonameVersion is the numeric part after ".so." ("1.2" for
// libfoo.so.1.2), or "0" when there is none or it is not numeric.
func sonameVersion(soname string) string {
	_, v, ok := strings.Cut(soname, ".so.")
	if !ok || v == "" {
		return "0"
	}
	if strings.IndexFunc(v, func(r rune) bool { return r != '.' && !unicode.IsDigit(r) }) >= 0 {
		return "0"
	}
	return v
}

// crossPackageSymlink handles a development symlink (libfoo.so ->
// libfoo.so.1) whose target lives in a library directory of this or a
// sibling package: the package depends on the target's soname.
func (a *analysis) crossPackageSymlink(p string) {
	target, err := fs.ReadLink(a.in.FS, p)
	if err != nil {
		return
	}
	base := path.Base(target)
	for _, rel := range a.in.Relatives {
		for _, dir := range a.libDirs {
			candidate := path.Join(dir, base)
			if _, err := fs.Stat(rel.FS, candidate); err != nil {
				continue
			}
			info, err := readELF(rel.FS, candidate)
			if err != nil || info == nil {
				return
			}
			for _, soname := range info.SONames {
				if !hostLibraries[soname] {
					a.res.Runtime = append(a.res.Runtime, "so:"+soname)
				}
			}
			return
		}
	}
}

func (a *analysis) pkgConfig(p string) {
	data, err := fs.ReadFile(a.in.FS, p)
	if err != nil {
		return
	}
	requires, err := pkgConfigRequires(data)
	if err != nil {
		a.warnf("%s: %v", p, err)
		return
	}
	name := strings.TrimSuffix(path.Base(p), ".pc")
	if !inDir(p, pkgConfigDirs) {
		a.res.Vendored = append(a.res.Vendored, "pc:"+name+"="+a.in.Version)
		return
	}
	a.res.Provides = append(a.res.Provides, "pc:"+name+"="+a.in.Version)
	for _, r := range requires {
		a.res.Runtime = append(a.res.Runtime, "pc:"+r)
	}
}

func (a *analysis) shbang(p string) {
	f, err := a.in.FS.Open(p)
	if err != nil {
		return
	}
	defer f.Close()
	bin, err := shbangInterpreter(f)
	if err != nil {
		a.warnf("%s: %v", p, err)
		return
	}
	if bin != "" {
		a.res.Runtime = append(a.res.Runtime, "cmd:"+path.Base(bin))
	}
}

func (a *analysis) docDeps(p string) {
	if !strings.HasSuffix(a.in.Name, "-doc") {
		return
	}
	switch path.Dir(p) {
	case "usr/share/man":
		a.res.Runtime = append(a.res.Runtime, "man-db")
	case "usr/share/info":
		a.res.Runtime = append(a.res.Runtime, "texinfo")
	}
}

// pythonDir notes pythonX.Y/site-packages directories; the last one seen
// decides the python-X.Y-base dependency.
func (a *analysis) pythonDir(p string) {
	if path.Base(p) != "site-packages" {
		return
	}
	if parent := path.Base(path.Dir(p)); strings.HasPrefix(parent, "python") {
		a.pythonVer = strings.TrimPrefix(parent, "python")
	}
}

// languageRuntimes adds the perl, python and ruby dependencies unless the
// configuration already names one.
func (a *analysis) languageRuntimes() error {
	declared := func(match func(string) bool) bool { return slices.ContainsFunc(a.in.Declared, match) }

	var perl []string
	for _, pattern := range []string{"usr/lib/perl[0-9]*/*_perl", "lib/perl[0-9]*/*_perl"} {
		m, err := fs.Glob(a.in.FS, pattern)
		if err != nil {
			return err
		}
		perl = append(perl, m...)
	}
	if len(perl) > 0 && !declared(func(d string) bool { return d == "perl" }) {
		// The perlN directory is the second-to-last element of the match.
		dir := path.Base(path.Dir(perl[0]))
		a.res.Runtime = append(a.res.Runtime, "perl~"+strings.TrimPrefix(dir, "perl"))
	}

	if a.pythonVer != "" && !declared(func(d string) bool { return strings.HasPrefix(d, "python") }) {
		a.res.Runtime = append(a.res.Runtime, "python-"+a.pythonVer+"-base")
	}

	var ruby []string
	for _, pattern := range []string{"usr/lib/ruby/gems/[0-9]*.[0-9]*.[0.9]*/gems", "lib/ruby/gems/[0-9]*.[0-9]*.[0.9]*/gems"} {
		m, err := fs.Glob(a.in.FS, pattern)
		if err != nil {
			return err
		}
		ruby = append(ruby, m...)
	}
	if len(ruby) > 0 && !declared(func(d string) bool { return strings.HasPrefix(d, "ruby-") || d == "ruby" }) {
		full := path.Base(path.Dir(ruby[0])) // X.Y.Z
		if v := strings.TrimSuffix(full, path.Ext(full)); v != "" {
			a.res.Runtime = append(a.res.Runtime, "ruby-"+v)
		}
	}
	return nil
}

// finish sorts the lists and applies the package options.
func (a *analysis) finish() {
	r := &a.res
	r.Runtime = sortedUnique(r.Runtime)
	r.Provides = sortedUnique(r.Provides)
	r.Vendored = sortedUnique(r.Vendored)
	if a.in.Options.NoCommands {
		isCmd := func(s string) bool { return strings.HasPrefix(s, "cmd:") }
		r.Provides = slices.DeleteFunc(r.Provides, isCmd)
		r.Runtime = slices.DeleteFunc(r.Runtime, isCmd)
	}
	if a.in.Options.NoDepends {
		r.Runtime = nil
	}
	if a.in.Options.NoProvides {
		r.Provides = nil
	}
}

func sortedUnique(s []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(s)))
}

// ldSoConfDirs reads etc/ld.so.conf.d/*.conf of every package of the
// build: each absolute directory listed there is a library directory too.
func ldSoConfDirs(rels []Relative) ([]string, error) {
	var dirs []string
	for _, rel := range rels {
		err := fs.WalkDir(rel.FS, "etc/ld.so.conf.d", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				// Missing, or a symlink out of the tree: nothing to read.
				if p == "etc/ld.so.conf.d" || errors.Is(err, fs.ErrNotExist) {
					return fs.SkipAll
				}
				return err
			}
			if !strings.HasSuffix(p, ".conf") || !d.Type().IsRegular() {
				return nil
			}
			f, err := rel.FS.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if line := sc.Text(); strings.HasPrefix(line, "/") {
					dirs = append(dirs, line[1:])
				}
			}
			return sc.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("package %s: ld.so.conf.d: %w", rel.Name, err)
		}
	}
	return dirs, nil
}

// Combine merges generated dependencies into the configured ones as
// melange does: runtime dependencies on vendored libraries are dropped,
// both lists are sorted without duplicates, and runtime dependencies the
// package provides itself are dropped.
func Combine(declaredRuntime, declaredProvides []string, gen *Result) (runtime, provides []string) {
	unvendored := withoutProvided(gen.Runtime, gen.Vendored)
	runtime = sortedUnique(append(slices.Clone(declaredRuntime), unvendored...))
	provides = sortedUnique(append(slices.Clone(declaredProvides), gen.Provides...))
	return withoutProvided(runtime, provides), provides
}

// withoutProvided drops every dependency whose name (a so-ver: one
// without its ">=" bound) one of provided names.
func withoutProvided(deps, provided []string) []string {
	names := map[string]bool{}
	for _, p := range provided {
		name, _, _ := strings.Cut(p, "=")
		names[name] = true
	}
	out := []string{}
	for _, d := range deps {
		name := d
		if strings.HasPrefix(d, "so-ver:") {
			name, _, _ = strings.Cut(d, ">=")
		}
		if !names[name] {
			out = append(out, d)
		}
	}
	return out
}
