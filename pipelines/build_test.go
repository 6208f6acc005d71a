package pipelines

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/kiln-build/kiln/internal/testkit"
	"github.com/kiln-build/kiln/plan/melange"
)

// cc compiles C source into out (under the build environment's root)
// with the given flags, skipping the test without a C compiler.
func (s *sandbox) cc(out, src string, flags ...string) {
	s.t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		s.t.Skip("no C compiler")
	}
	dir := s.t.TempDir()
	c := filepath.Join(dir, "src.c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		s.t.Fatal(err)
	}
	p := s.path(out)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		s.t.Fatal(err)
	}
	args := append(append([]string{}, flags...), "-o", p, c)
	if msg, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		s.t.Skipf("cc %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
}

// sections lists the section names of an ELF file of the build
// environment.
func (s *sandbox) sections(p string) []string {
	s.t.Helper()
	f, err := elf.Open(s.path(p))
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	var out []string
	for _, sec := range f.Sections {
		out = append(out, sec.Name)
	}
	return out
}

// setMachine rewrites an ELF file's e_machine, making it a file for
// another architecture.
func (s *sandbox) setMachine(p string, m elf.Machine) {
	s.t.Helper()
	data, err := os.ReadFile(s.path(p))
	if err != nil {
		s.t.Fatal(err)
	}
	binary.LittleEndian.PutUint16(data[18:], uint16(m))
	if err := os.WriteFile(s.path(p), data, 0o755); err != nil {
		s.t.Fatal(err)
	}
}

const cMain = "int main(void) { return 0; }\n"
const cLib = "int answer(void) { return 42; }\n"

// foreignMachine is an architecture strip must leave alone here.
func foreignMachine() elf.Machine {
	if hostArch() == "arm64" {
		return elf.EM_X86_64
	}
	return elf.EM_AARCH64
}

func TestStrip(t *testing.T) {
	for _, tt := range []struct {
		name, with string
		// Sections the native binaries must not have, and must keep.
		gone, kept []string
	}{
		{name: "default", gone: []string{".debug_info"}, kept: []string{".symtab"}},
		{name: "all", with: "    with:\n      opts: --strip-all\n", gone: []string{".debug_info", ".symtab"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t, "scanelf", "strip")
			out := melange.OutDir + "/hello"
			s.cc(out+"/usr/bin/prog", cMain, "-g")
			s.cc(out+"/usr/lib/libx.so.1", cLib, "-g", "-shared", "-fPIC")
			s.cc(out+"/usr/lib/with space/liby.so.1", cLib, "-g", "-shared", "-fPIC")
			s.cc(out+"/usr/lib/foreign.so", cLib, "-g", "-shared", "-fPIC")
			s.setMachine(out+"/usr/lib/foreign.so", foreignMachine())
			s.files(out, "usr/share/doc/README")
			before := s.tree(melange.OutDir)

			if _, err := s.run(steps(compile(t, doc("pipeline:\n  - uses: strip\n"+tt.with)))); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"usr/bin/prog", "usr/lib/libx.so.1", "usr/lib/with space/liby.so.1"} {
				secs := s.sections(out + "/" + f)
				for _, g := range tt.gone {
					if slices.Contains(secs, g) {
						t.Errorf("%s still has %s", f, g)
					}
				}
				for _, k := range tt.kept {
					if !slices.Contains(secs, k) {
						t.Errorf("%s lost %s", f, k)
					}
				}
			}
			if secs := s.sections(out + "/usr/lib/foreign.so"); !slices.Contains(secs, ".debug_info") {
				t.Errorf("the binary for another architecture was stripped: %q", secs)
			}
			if after := s.tree(melange.OutDir); !slices.Equal(before, after) {
				t.Errorf("files changed:\n got: %q\nwant: %q", after, before)
			}
		})
	}
}

func TestSplitDebug(t *testing.T) {
	s := newSandbox(t, "scanelf", "objcopy")
	out := melange.OutDir + "/hello"
	s.cc(out+"/usr/bin/prog", cMain, "-g", "-fPIE", "-pie")
	s.cc(out+"/usr/lib/libx.so.1", cLib, "-g", "-shared", "-fPIC")
	if err := os.Link(s.path(out+"/usr/lib/libx.so.1"), s.path(out+"/usr/lib/libx-same.so.1")); err != nil {
		t.Fatal(err)
	}
	s.files(out, "usr/lib/libx.so -> libx.so.1", "usr/share/doc/README")
	if err := os.Chmod(s.path(out+"/usr/lib/libx.so.1"), 0o751); err != nil {
		t.Fatal(err)
	}

	p := compile(t, doc(sub("hello-dbg", "      - uses: split/debug\n")))
	if _, err := s.run(steps(p)); err != nil {
		t.Fatal(err)
	}
	// Of two hard links, the one scanelf lists first names the debug
	// file; the other gets none.
	lib := "usr/lib/libx.so.1"
	if _, err := os.Stat(s.path(melange.OutDir + "/hello-dbg/usr/lib/debug/usr/lib/libx-same.so.1.debug")); err == nil {
		lib = "usr/lib/libx-same.so.1"
	}
	want := []string{
		"hello-dbg/usr/lib/debug/usr/bin/prog.debug",
		"hello-dbg/usr/lib/debug/" + lib + ".debug",
		"hello/usr/bin/prog", "hello/usr/lib/libx-same.so.1", "hello/usr/lib/libx.so -> libx.so.1", "hello/usr/lib/libx.so.1",
		"hello/usr/share/doc/README",
	}
	slices.Sort(want)
	if got := s.tree(melange.OutDir); !slices.Equal(got, want) {
		t.Fatalf("melange-out:\n got: %q\nwant: %q", got, want)
	}
	for _, f := range []string{"usr/bin/prog", lib} {
		secs := s.sections(out + "/" + f)
		if slices.Contains(secs, ".debug_info") || !slices.Contains(secs, ".gnu_debuglink") {
			t.Errorf("%s: sections %q, want no .debug_info and a .gnu_debuglink", f, secs)
		}
		if secs := s.sections("/home/build/melange-out/hello-dbg/usr/lib/debug/" + f + ".debug"); !slices.Contains(secs, ".debug_info") {
			t.Errorf("%s.debug: no .debug_info in %q", f, secs)
		}
	}
	// The binary was rewritten in place: mode and hard link kept.
	a, err := os.Stat(s.path(out + "/usr/lib/libx.so.1"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.Stat(s.path(out + "/usr/lib/libx-same.so.1"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Mode().Perm() != 0o751 || !os.SameFile(a, b) || a.Sys().(*syscall.Stat_t).Nlink != 2 {
		t.Errorf("libx.so.1: mode %v, same file as its link %v", a.Mode(), os.SameFile(a, b))
	}
}

// triplet is ${{host.triplet.gnu}} for the machine.
func triplet(t *testing.T) string {
	t.Helper()
	p := compile(t, doc("pipeline:\n  - runs: ${{host.triplet.gnu}}\n"))
	return strings.TrimSpace(p.Pipeline[0].(*melange.Run).Script)
}

func TestAutoconf(t *testing.T) {
	host := triplet(t)
	configure := "configure --host=" + host + " --build=" + host +
		" --prefix=/usr --sysconfdir=/etc --libdir=/usr/lib --mandir=/usr/share/man --infodir=/usr/share/info --localstatedir=/var"
	makefile := "all:\n\techo \"all V=$(V) X=$(X)\" >> $(LOG)\nother: all\n\techo other >> $(LOG)\n" +
		"install:\n\tmkdir -p $(DESTDIR)/usr/lib\n\techo lib > $(DESTDIR)/usr/lib/libfoo.so.1\n" +
		"\techo la > $(DESTDIR)/usr/lib/libfoo.la\n\tln -s libfoo.la $(DESTDIR)/usr/lib/liblink.la\n" +
		"\techo \"install V=$(V) PREFIX=$(PREFIX)\" >> $(LOG)\n"
	tests := []struct {
		name  string
		steps string
		setup func(s *sandbox)
		calls []string
		tree  []string // melange-out afterwards
		err   string
	}{
		{
			name:  "configure",
			steps: "  - uses: autoconf/configure\n    with:\n      opts: |\n        --enable-foo \\\n        --with-bar=\"a b\"\n",
			setup: func(s *sandbox) { s.recorder("configure"); s.copyToWork("configure", "configure") },
			calls: []string{configure + " --enable-foo '--with-bar=a b'"},
		},
		{
			name:  "configure generated from configure.ac",
			steps: "  - uses: autoconf/configure\n    with:\n      dir: src\n      host: aarch64-linux-gnu\n",
			setup: func(s *sandbox) {
				s.files(melange.WorkDir, "src/configure.ac")
				s.recorder("configure")
				s.recorder("autoreconf", `cp "$(command -v configure)" ./configure`)
			},
			calls: []string{"autoreconf --verbose --force --install",
				strings.Replace(configure, "--host="+host, "--host=aarch64-linux-gnu", 1)},
		},
		{
			name:  "configure without a configure script",
			steps: "  - uses: autoconf/configure\n",
			err:   "./configure: not found",
		},
		{
			name:  "make",
			steps: "  - uses: autoconf/make\n    with:\n      opts: X=1\n      targets: all other\n",
			setup: func(s *sandbox) { s.write(melange.WorkDir+"/Makefile", makefile) },
			calls: []string{"all V=1 X=1", "other"},
		},
		{
			name:  "make-install removes libtool archives",
			steps: "  - uses: autoconf/make-install\n    with:\n      dir: build\n      opts: PREFIX=/usr\n",
			setup: func(s *sandbox) { s.write(melange.WorkDir+"/build/Makefile", makefile) },
			calls: []string{"install V=1 PREFIX=/usr"},
			tree:  []string{"hello/usr/lib/libfoo.so.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t, "make")
			if tt.setup != nil {
				tt.setup(s)
			}
			_, err := s.run(steps(compile(t, doc("pipeline:\n"+tt.steps))))
			if testkit.ErrorCase(t, err, tt.err) {
				return
			}
			if got := s.calls(); !slices.Equal(got, tt.calls) {
				t.Errorf("calls:\n got: %q\nwant: %q", got, tt.calls)
			}
			if got := s.tree(melange.OutDir); !slices.Equal(got, tt.tree) {
				t.Errorf("melange-out:\n got: %q\nwant: %q", got, tt.tree)
			}
		})
	}
}

// write creates a file of the build environment.
func (s *sandbox) write(p, content string) {
	s.t.Helper()
	if err := os.MkdirAll(filepath.Dir(s.path(p)), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(s.path(p), []byte(content), 0o755); err != nil {
		s.t.Fatal(err)
	}
}

// read returns a file of the build environment ("" when absent).
func (s *sandbox) read(p string) string {
	data, _ := os.ReadFile(s.path(p))
	return string(data)
}

// copyToWork copies a fake program into the workspace as rel.
func (s *sandbox) copyToWork(name, rel string) {
	s.t.Helper()
	data, err := os.ReadFile(filepath.Join(s.bin, name))
	if err != nil {
		s.t.Fatal(err)
	}
	s.write(melange.WorkDir+"/"+rel, string(data))
}

func TestPatch(t *testing.T) {
	const orig = "one\ntwo\nthree\n"
	// first turns two into 2; second, made against first's result, three
	// into 3.
	first := "--- a/file.txt\n+++ b/file.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n"
	second := "--- a/file.txt\n+++ b/file.txt\n@@ -1,3 +1,3 @@\n one\n 2\n-three\n+3\n"
	bad := "--- a/file.txt\n+++ b/file.txt\n@@ -1,3 +1,3 @@\n one\n two\n-four\n+4\n"
	noPrefix := "--- file.txt\n+++ file.txt\n@@ -1,3 +1,3 @@\n-one\n+1\n two\n three\n"
	tests := []struct {
		name  string
		with  string
		files map[string]string // in the workspace
		want  string            // file.txt afterwards
		err   string
	}{
		{name: "patches in order", with: "patches: first.patch it's-second.patch",
			files: map[string]string{"first.patch": first, "it's-second.patch": second}, want: "one\n2\n3\n"},
		{name: "patches on lines", with: "patches: |\n        first.patch\n\n        it's-second.patch\n",
			files: map[string]string{"first.patch": first, "it's-second.patch": second}, want: "one\n2\n3\n"},
		{name: "series", with: "series: patches/series",
			files: map[string]string{"patches/series": "# applied in order\n\nfirst.patch\n  patches/second.patch  \n",
				"first.patch": first, "patches/second.patch": second},
			want: "one\n2\n3\n"},
		{name: "series wins over patches", with: "series: series\n      patches: missing.patch",
			files: map[string]string{"series": "first.patch\n", "first.patch": first}, want: "one\n2\nthree\n"},
		{name: "strip-components", with: "strip-components: 0\n      patches: plain.patch",
			files: map[string]string{"plain.patch": noPrefix}, want: "1\ntwo\nthree\n"},
		{name: "nothing to apply", with: "fuzz: 3", err: "nothing to apply"},
		{name: "series of comments only", with: "series: series", files: map[string]string{"series": "# none\n"}, err: "nothing to apply"},
		{name: "missing series", with: "series: nope", err: "series file 'nope' not found"},
		{name: "bad fuzz", with: "fuzz: two\n      patches: first.patch", files: map[string]string{"first.patch": first}, err: "fuzz must be a whole number"},
		{name: "bad strip-components", with: "strip-components: -1\n      patches: first.patch", files: map[string]string{"first.patch": first},
			err: "strip-components must be a whole number"},
		{name: "missing patch", with: "patches: first.patch gone.patch", files: map[string]string{"first.patch": first}, err: "gone.patch"},
		{name: "patch that does not apply", with: "patches: bad.patch", files: map[string]string{"bad.patch": bad}, err: "applying bad.patch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t, "patch")
			s.write(melange.WorkDir+"/file.txt", orig)
			for name, content := range tt.files {
				s.write(melange.WorkDir+"/"+name, content)
			}
			_, err := s.run(steps(compile(t, doc("pipeline:\n  - uses: patch\n    with:\n      "+tt.with+"\n"))))
			if testkit.ErrorCase(t, err, tt.err) {
				return
			}
			if got := s.read(melange.WorkDir + "/file.txt"); got != tt.want {
				t.Errorf("file.txt: got %q, want %q", got, tt.want)
			}
		})
	}
}

// goSandbox is a sandbox with the host's go and a module in the
// workspace; builds share the host's build cache and download nothing.
func goSandbox(t *testing.T, tools ...string) *sandbox {
	t.Helper()
	s := newSandbox(t, append([]string{"go"}, tools...)...)
	cache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Skipf("go env GOCACHE: %v", err)
	}
	s.env = append(s.env, "GOCACHE="+strings.TrimSpace(string(cache)), "GOTOOLCHAIN=local", "GOPROXY=off",
		"GOFLAGS=", "CGO_ENABLED=0", "GOPATH="+s.path("/gopath"))
	s.write(melange.WorkDir+"/go.mod", "module example.com/hello\n\ngo 1.21\n")
	s.write(melange.WorkDir+"/main.go", "package main\n\nimport \"fmt\"\n\nvar version = \"dev\"\n\nfunc main() { fmt.Println(\"hello\", version) }\n")
	return s
}

// exec runs a program of the build environment and returns its output.
func (s *sandbox) exec(p string) string {
	s.t.Helper()
	out, err := exec.Command(s.path(p)).CombinedOutput()
	if err != nil {
		s.t.Fatalf("%s: %v\n%s", p, err, out)
	}
	return string(out)
}

func TestGoBuild(t *testing.T) {
	for _, tt := range []struct {
		name, with string
		ignore     string // ~/.config/git/ignore before the build
		binary     string
		err        string
	}{
		{name: "defaults", with: "packages: .\n      output: hello\n      ldflags: -X main.version=${{package.version}}",
			binary: "usr/bin/hello"},
		{name: "prefix, install-dir and a user's git ignore", with: "packages: ./\n      output: hi\n      prefix: usr/local\n      install-dir: libexec/hello\n" +
			"      ldflags: -X main.version=$(echo shell-$((1+1)))",
			ignore: "*.o\n", binary: "usr/local/libexec/hello/hi"},
		{name: "modroot without go.mod", with: "packages: .\n      output: hello\n      modroot: sub", err: "no go.mod in sub"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := goSandbox(t)
			s.files(melange.WorkDir, "sub/")
			ignore := melange.WorkDir + "/.config/git/ignore"
			if tt.ignore != "" {
				s.write(ignore, tt.ignore)
			}
			_, err := s.run(steps(compile(t, doc("pipeline:\n  - uses: go/build\n    with:\n      "+tt.with+"\n"))))
			if testkit.ErrorCase(t, err, tt.err) {
				return
			}
			want := "hello 1.2.3\n"
			if strings.Contains(tt.with, "shell-") {
				want = "hello shell-2\n"
			}
			if got := s.exec(melange.OutDir + "/hello/" + tt.binary); got != want {
				t.Errorf("the binary says %q, want %q", got, want)
			}
			if got := s.tree(melange.OutDir); !slices.Equal(got, []string{"hello/" + tt.binary}) {
				t.Errorf("melange-out: %q", got)
			}
			if got := s.read(ignore); got != tt.ignore {
				t.Errorf("git ignore file after the build: %q, want %q", got, tt.ignore)
			}
		})
	}
}

func TestGoBuildV2(t *testing.T) {
	// v2 names the binary after the package and strips it with the strip
	// pipeline.
	s := goSandbox(t, "scanelf", "strip")
	p := compile(t, doc("pipeline:\n  - uses: go/build/v2\n    with:\n      ldflags: -X main.version=${{package.version}}\n"))
	if len(p.Pipeline) != 2 {
		t.Fatalf("%d steps, want the build and strip", len(p.Pipeline))
	}
	if _, err := s.run(steps(p)); err != nil {
		t.Fatal(err)
	}
	if got := s.exec(melange.OutDir + "/hello/usr/bin/hello"); got != "hello 1.2.3\n" {
		t.Errorf("the binary says %q", got)
	}
	if got := s.read(melange.WorkDir + "/.config/git/ignore"); got != "" {
		t.Errorf("git ignore file left: %q", got)
	}
}
