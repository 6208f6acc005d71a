package sca

import (
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kiln-build/kiln/pkgbuild/internal/elftest"
)

const ver = "1.2.3-r4"

func file(data string, mode fs.FileMode) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte(data), Mode: mode}
}

func link(target string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink | 0o777}
}

func dir() *fstest.MapFile { return &fstest.MapFile{Mode: fs.ModeDir | 0o755} }

func analyze(t *testing.T, in Input) *Result {
	t.Helper()
	if in.Version == "" {
		in.Version = ver
	}
	if in.Name == "" {
		in.Name = "pkg"
	}
	res, err := Analyze(in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestSyntheticLayouts covers everything that needs no ELF file.
func TestSyntheticLayouts(t *testing.T) {
	tests := []struct {
		name         string
		pkg          string
		fs           fstest.MapFS
		declared     []string
		opts         Options
		runtime      []string
		provides     []string
		vendored     []string
		warningAbout string
	}{
		{
			name: "commands in bin directories",
			fs: fstest.MapFS{
				"usr/bin/tool":      file("x", 0o755),
				"usr/sbin/daemon":   file("x", 0o555),
				"bin/sh-thing":      file("x", 0o755),
				"sbin/init":         file("x", 0o755),
				"usr/bin/notexec":   file("x", 0o644),
				"usr/bin/userexec":  file("x", 0o744), // others cannot run it: not a command
				"usr/bin/sub/deep":  file("x", 0o755), // bin directories are matched exactly
				"usr/libexec/thing": file("x", 0o755),
				"usr/bin/alias":     link("tool"), // links are not commands
			},
			provides: []string{"cmd:daemon=" + ver, "cmd:init=" + ver, "cmd:sh-thing=" + ver, "cmd:tool=" + ver},
		},
		{
			name: "no-commands drops cmd provides and depends",
			fs: fstest.MapFS{
				"usr/bin/tool":   file("x", 0o755),
				"usr/bin/script": file("#!/bin/bash\necho\n", 0o755),
			},
			opts:    Options{NoCommands: true},
			runtime: nil, provides: nil,
		},
		{
			name: "no-provides and no-depends",
			fs: fstest.MapFS{
				"usr/bin/script": file("#!/usr/bin/perl -w\n", 0o755),
			},
			opts: Options{NoProvides: true, NoDepends: true},
		},
		{
			name: "shbang interpreters",
			fs: fstest.MapFS{
				"usr/bin/a":            file("#!/bin/bash\n", 0o755),
				"usr/bin/b":            file("#!/usr/bin/env ruby\n", 0o755),
				"usr/bin/c":            file("#!/usr/bin/env -S node --flag\n", 0o755),
				"usr/bin/d":            file("#!/bin/sh\n", 0o755),              // sh is ignored
				"usr/bin/e":            file("#!/usr/bin/env python3\n", 0o755), // so is python3
				"usr/bin/f":            file("#! /usr/bin/perl -w\n", 0o644),    // mode does not matter
				"usr/local/sbin/g":     file("#!/usr/bin/tclsh\n", 0o755),       // local sbin counts
				"usr/bin/sub/h":        file("#!/usr/bin/lua5.4\n", 0o755),      // prefix match
				"usr/share/foo/script": file("#!/usr/bin/zsh\n", 0o755),         // outside the dirs
				"usr/bin/env-only":     file("#!/usr/bin/env\n", 0o755),         // warning only
				"usr/bin/link":         link("/usr/share/foo/script"),
				"usr/bin/binary":       file("\x7fELF not really", 0o755),
				"usr/bin/empty":        file("", 0o755),
			},
			runtime: []string{"cmd:bash", "cmd:lua5.4", "cmd:node", "cmd:perl", "cmd:ruby", "cmd:tclsh"},
			provides: []string{"cmd:a=" + ver, "cmd:b=" + ver, "cmd:binary=" + ver, "cmd:c=" + ver, "cmd:d=" + ver,
				"cmd:e=" + ver, "cmd:empty=" + ver, "cmd:env-only=" + ver},
			warningAbout: "usr/bin/env-only",
		},
		{
			name: "pkg-config provides and requires",
			fs: fstest.MapFS{
				"usr/lib/pkgconfig/foo.pc": file("prefix=/usr\nlibdir=${prefix}/lib\nName: foo\nVersion: 9.9\n"+
					"Requires: bar >= 1.0, baz\nRequires.private: qux<2 gtk+-3.0\nLibs: -L${libdir} -lfoo\n", 0o644),
				"usr/share/pkgconfig/data.pc":     file("Name: data\nVersion: 1\n", 0o644),
				"usr/lib64/pkgconfig/sixty.pc":    file("Name: sixty\nRequires.internal: inner\n", 0o644),
				"opt/foo/lib/pkgconfig/vend.pc":   file("Name: vend\n", 0o644),
				"usr/lib/pkgconfig/alias.pc":      link("foo.pc"),
				"usr/lib/pkgconfig/broken.pc":     file("Requires: >= 1.0\n", 0o644),
				"usr/lib/pkgconfig/sub/nested.pc": file("Name: nested\n", 0o644),
			},
			runtime:      []string{"pc:bar", "pc:baz", "pc:gtk+-3.0", "pc:inner", "pc:qux"},
			provides:     []string{"pc:data=" + ver, "pc:foo=" + ver, "pc:sixty=" + ver},
			vendored:     []string{"pc:nested=" + ver, "pc:vend=" + ver},
			warningAbout: "broken.pc",
		},
		{
			name: "pkg-config requirement provided by the package itself stays (Combine drops it)",
			fs: fstest.MapFS{
				"usr/lib/pkgconfig/a.pc": file("Requires: b\n", 0o644),
				"usr/lib/pkgconfig/b.pc": file("Name: b\n", 0o644),
			},
			runtime:  []string{"pc:b"},
			provides: []string{"pc:a=" + ver, "pc:b=" + ver},
		},
		{
			name: "python module",
			fs: fstest.MapFS{
				"usr/lib/python3.12/site-packages/mod/__init__.py": file("", 0o644),
			},
			runtime: []string{"python-3.12-base"},
		},
		{
			name:     "python module with declared python",
			fs:       fstest.MapFS{"usr/lib/python3.12/site-packages/x.py": file("", 0o644)},
			declared: []string{"python-3.12"},
		},
		{
			name: "perl module",
			fs: fstest.MapFS{
				"usr/lib/perl5/vendor_perl/JSON.pm": file("1;", 0o644),
			},
			runtime: []string{"perl~5"},
		},
		{
			name: "perl module under /lib",
			fs: fstest.MapFS{
				"lib/perl5/site_perl/X.pm": file("1;", 0o644),
			},
			runtime: []string{"perl~5"},
		},
		{
			name:     "perl module with declared perl",
			fs:       fstest.MapFS{"usr/lib/perl5/vendor_perl/JSON.pm": file("1;", 0o644)},
			declared: []string{"perl"},
		},
		{
			name: "ruby gem",
			fs: fstest.MapFS{
				"usr/lib/ruby/gems/3.2.0/gems/base64-0.2.0/lib/base64.rb": file("", 0o644),
			},
			runtime: []string{"ruby-3.2"},
		},
		{
			name:     "ruby gem with declared ruby",
			fs:       fstest.MapFS{"usr/lib/ruby/gems/3.2.0/gems/x/y.rb": file("", 0o644)},
			declared: []string{"ruby-3.2"},
		},
		{
			name: "doc package",
			pkg:  "bash-doc",
			fs: fstest.MapFS{
				"usr/share/man/man1/bash.1": file("", 0o644),
				"usr/share/info/bash.info":  file("", 0o644),
			},
			runtime: []string{"man-db", "texinfo"},
		},
		{
			name: "doc files in a non-doc package",
			fs: fstest.MapFS{
				"usr/share/man/man1/bash.1": file("", 0o644),
			},
		},
		{
			name: "empty package",
			fs:   fstest.MapFS{},
		},
		{
			name: "directories only",
			fs:   fstest.MapFS{"usr/bin": dir(), "etc/conf.d": dir()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := analyze(t, Input{Name: tt.pkg, FS: tt.fs, Declared: tt.declared, Options: tt.opts})
			check(t, "runtime", res.Runtime, tt.runtime)
			check(t, "provides", res.Provides, tt.provides)
			check(t, "vendored", res.Vendored, tt.vendored)
			warned := slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, tt.warningAbout) })
			if tt.warningAbout != "" && !warned {
				t.Errorf("no warning about %s in %q", tt.warningAbout, res.Warnings)
			}
			if tt.warningAbout == "" && len(res.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", res.Warnings)
			}
		})
	}
}

func check(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestCombine(t *testing.T) {
	tests := []struct {
		name                      string
		declRuntime, declProvides []string
		gen                       Result
		wantRuntime, wantProvides []string
	}{
		{
			name:        "self-provided libraries and commands are dropped, the rest sorted",
			declRuntime: []string{"zlib", "busybox"},
			gen: Result{
				Runtime:  []string{"cmd:bash", "cmd:tool", "so:libc.so.6", "so:libfoo.so.1"},
				Provides: []string{"cmd:tool=1-r0", "so-ver:libfoo.so.1=1-r0", "so:libfoo.so.1=1"},
			},
			wantRuntime:  []string{"busybox", "cmd:bash", "so:libc.so.6", "zlib"},
			wantProvides: []string{"cmd:tool=1-r0", "so-ver:libfoo.so.1=1-r0", "so:libfoo.so.1=1"},
		},
		{
			name:        "vendored libraries satisfy generated depends only",
			declRuntime: []string{"so:libvend.so.2"},
			gen: Result{
				Runtime:  []string{"so:libvend.so.2", "so:libother.so.1"},
				Vendored: []string{"so:libvend.so.2=2"},
			},
			wantRuntime: []string{"so:libother.so.1", "so:libvend.so.2"},
		},
		{
			name:         "declared provides also satisfy declared runtime",
			declRuntime:  []string{"virtual-thing", "other"},
			declProvides: []string{"virtual-thing=1.0", "virtual-thing=1.0"},
			wantRuntime:  []string{"other"},
			wantProvides: []string{"virtual-thing=1.0"},
		},
		{
			name:         "versioned so-ver dependency matched by name",
			declRuntime:  []string{"so-ver:libfoo.so.1>=1.0-r0"},
			gen:          Result{Provides: []string{"so-ver:libfoo.so.1=1.1-r0"}},
			wantProvides: []string{"so-ver:libfoo.so.1=1.1-r0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, pv := Combine(tt.declRuntime, tt.declProvides, &tt.gen)
			check(t, "runtime", rt, tt.wantRuntime)
			check(t, "provides", pv, tt.wantProvides)
		})
	}
}

func TestSonameVersion(t *testing.T) {
	for in, want := range map[string]string{
		"libfoo.so.1":     "1",
		"libfoo.so.1.2.3": "1.2.3",
		"libfoo.so":       "0",
		"libfoo.so.":      "0",
		"libfoo-2.0.so.0": "0",
		"libfoo.so.1a":    "0",
		"ld-linux.so.2":   "2",
		"libssl.so.3":     "3",
	} {
		if got := sonameVersion(in); got != want {
			t.Errorf("sonameVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

// realELF builds package trees around compiled objects.
func realELF(t *testing.T) (lib, prog, plugin []byte) {
	o := elftest.Compile(t)
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return read(o.Lib), read(o.Program), read(o.Plugin)
}

func TestCompiledELF(t *testing.T) {
	lib, prog, plugin := realELF(t)
	progInfoRuntime := func(extra ...string) []string {
		// The program's interpreter is the host's loader.
		return append([]string{"so:libc.so.6", "so:" + elftest.SOName}, extra...)
	}
	soProvides := []string{"so-ver:" + elftest.SOName + "=" + ver, "so:" + elftest.SOName + "=1"}
	tests := []struct {
		name      string
		pkg       string
		fs        fstest.MapFS
		relatives []Relative
		runtime   []string // besides the interpreter dependency when hasInterp
		hasInterp bool
		provides  []string
		vendored  []string
	}{
		{
			name:     "library in usr/lib",
			fs:       fstest.MapFS{"usr/lib/" + elftest.SOName: file(string(lib), 0o755)},
			provides: soProvides,
		},
		{
			name:     "library in lib64",
			fs:       fstest.MapFS{"lib64/" + elftest.SOName: file(string(lib), 0o644)},
			provides: soProvides,
		},
		{
			name:     "library in a private directory is vendored",
			fs:       fstest.MapFS{"usr/lib/app/" + elftest.SOName: file(string(lib), 0o644)},
			vendored: soProvides,
		},
		{
			name: "ld.so.conf.d makes a private directory a library directory",
			fs: fstest.MapFS{
				"usr/lib/app/" + elftest.SOName: file(string(lib), 0o644),
				"etc/ld.so.conf.d/app.conf":     file("# app libraries\n/usr/lib/app\n", 0o644),
			},
			provides: soProvides,
		},
		{
			name: "ld.so.conf.d of a sibling counts too",
			fs:   fstest.MapFS{"usr/lib/app/" + elftest.SOName: file(string(lib), 0o644)},
			relatives: []Relative{{Name: "main", FS: fstest.MapFS{
				"etc/ld.so.conf.d/app.conf": file("/usr/lib/app/\n", 0o644),
			}}},
			provides: soProvides,
		},
		{
			name:      "program needs its libraries and loader",
			fs:        fstest.MapFS{"usr/bin/kilntest": file(string(prog), 0o755)},
			runtime:   progInfoRuntime(),
			hasInterp: true,
			provides:  []string{"cmd:kilntest=" + ver},
		},
		{
			name: "program and its library in one package",
			fs: fstest.MapFS{
				"usr/bin/kilntest":          file(string(prog), 0o755),
				"usr/lib/" + elftest.SOName: file(string(lib), 0o755),
			},
			runtime:   progInfoRuntime(),
			hasInterp: true,
			provides:  append([]string{"cmd:kilntest=" + ver}, soProvides...),
		},
		{
			name:    "plugin without soname needs the library, provides nothing",
			fs:      fstest.MapFS{"usr/lib/app/plugin.so": file(string(plugin), 0o755)},
			runtime: []string{"so:" + elftest.SOName},
		},
		{
			name: "dev symlink into a sibling package",
			pkg:  "kilntest-dev",
			fs: fstest.MapFS{
				"usr/lib/libkilntest.so": link(elftest.SOName),
				"usr/include/k.h":        file("", 0o644),
			},
			relatives: []Relative{
				{Name: "kilntest", FS: fstest.MapFS{"usr/lib/" + elftest.SOName: file(string(lib), 0o755)}},
			},
			runtime: []string{"so:" + elftest.SOName},
		},
		{
			name: "dev symlink with an absolute target",
			pkg:  "kilntest-dev",
			fs:   fstest.MapFS{"usr/lib/libkilntest.so": link("/usr/lib/" + elftest.SOName)},
			relatives: []Relative{
				{Name: "kilntest", FS: fstest.MapFS{"lib/" + elftest.SOName: file(string(lib), 0o755)}},
			},
			runtime: []string{"so:" + elftest.SOName},
		},
		{
			name: "dev symlink within the package provides through the link",
			fs: fstest.MapFS{
				"usr/lib/libkilntest.so":    link(elftest.SOName),
				"usr/lib/" + elftest.SOName: file(string(lib), 0o755),
			},
			runtime:  []string{"so:" + elftest.SOName}, // Combine drops it: self-provided
			provides: soProvides,
		},
		{
			name: "dangling dev symlink",
			fs:   fstest.MapFS{"usr/lib/libgone.so": link("libgone.so.1")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := analyze(t, Input{Name: tt.pkg, FS: tt.fs, Relatives: tt.relatives})
			runtime := slices.DeleteFunc(slices.Clone(res.Runtime), func(d string) bool {
				return strings.HasPrefix(d, "so:ld-") || strings.HasPrefix(d, "so:libc.musl")
			})
			if tt.hasInterp && len(runtime) == len(res.Runtime) {
				t.Errorf("no loader dependency in %q", res.Runtime)
			}
			check(t, "runtime", runtime, sortedUnique(tt.runtime))
			check(t, "provides", res.Provides, sortedUnique(tt.provides))
			check(t, "vendored", res.Vendored, sortedUnique(tt.vendored))
		})
	}
}

func TestPkgConfigRequires(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"Requires: a, b,c  d\n", []string{"a", "b", "c", "d"}, false},
		{"Requires: a >= 1.0, b = 2 c<3 d!=4\n", []string{"a", "b", "c", "d"}, false},
		{"Requires: a>=1.0,b\n", []string{"a", "b"}, false},
		{"x=glib-2.0\nRequires: ${x} gio-2.0\n", []string{"glib-2.0", "gio-2.0"}, false},
		{"Requires: a \\\n  b\n", []string{"a", "b"}, false},
		{"# Requires: nope\nRequires: yes # not: this\n", []string{"yes"}, false},
		{"requires: lower-case-is-not-the-field\n", nil, false},
		{"Requires:\nRequires.private:\n", nil, false},
		{"Requires: a >=\n", nil, true},
		{"Requires: a => 1\n", nil, true},
		{"this is not pkg-config\n", nil, true},
		{"Description: price in $$ ${undefined}\n", nil, false},
	}
	for _, tt := range tests {
		got, err := pkgConfigRequires([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !slices.Equal(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
}
