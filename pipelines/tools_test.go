package pipelines

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/internal/testkit"
	"github.com/kiln-build/kiln/plan/melange"
)

// nproc is what busybox nproc says, as the scripts see it.
func nproc(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(busybox(t), "nproc").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// TestTools runs the pipelines that drive a build tool against fakes of
// the tool, checking the command lines they get and the files left in
// melange-out.
func TestTools(t *testing.T) {
	const dest = melange.OutDir + "/hello"
	jobs := nproc(t)
	gemDir := func(s *sandbox) {
		s.fake("ruby", `if [ "$1" = -e ]; then echo /usr/lib/ruby/gems/3.3.0; fi`)
	}
	tests := []struct {
		name     string
		tools    []string // host tools to use
		setup    func(s *sandbox)
		pipeline string // the main package's steps
		calls    []string
		tree     []string          // melange-out afterwards
		output   string            // in what the steps print
		contents map[string]string // files of the build environment afterwards
		err      string
	}{
		{
			name:  "cmake",
			setup: func(s *sandbox) { s.recorder("cmake", `echo "  VERBOSE=$VERBOSE DESTDIR=$DESTDIR" >> "$LOG"`) },
			pipeline: "  - uses: cmake/configure\n    with:\n      output-dir: build\n      opts: |\n        -DFOO=1 \\\n        -DBAR=\"x y\"\n" +
				"  - uses: cmake/build\n    with:\n      output-dir: build\n      opts: --target all\n" +
				"  - uses: cmake/install\n    with:\n      output-dir: build\n",
			calls: []string{
				"cmake -B build -G Ninja -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_BUILD_TYPE=Release -DCMAKE_VERBOSE_MAKEFILE=ON -DFOO=1 '-DBAR=x y'",
				"  VERBOSE= DESTDIR=",
				"cmake --build build --target all", "  VERBOSE=1 DESTDIR=",
				"cmake --install build", "  VERBOSE= DESTDIR=" + dest,
			},
		},
		{
			name:     "meson",
			setup:    func(s *sandbox) { s.recorder("meson", `echo "  DESTDIR=$DESTDIR" >> "$LOG"`) },
			pipeline: "  - uses: meson/configure\n    with:\n      opts: -Dman=true\n  - uses: meson/compile\n  - uses: meson/install\n",
			calls: []string{
				"meson setup . output --prefix=/usr --wrap-mode=nodownload -Dman=true", "  DESTDIR=",
				"meson compile -j " + jobs + " -C output", "  DESTDIR=",
				"meson install -C output", "  DESTDIR=" + dest,
			},
		},
		{
			name:  "cargo/build of one binary",
			tools: []string{"install"},
			setup: func(s *sandbox) {
				s.recorder("cargo", `echo "  RUSTFLAGS=$RUSTFLAGS in ${PWD##*/}" >> "$LOG"`,
					`mkdir -p target/release/build && for b in foo bar; do echo "$b" > target/release/$b; chmod +x target/release/$b; done`,
					`echo dep > target/release/foo.d`)
				s.files(melange.WorkDir, "crate/")
			},
			pipeline: "  - uses: cargo/build\n    with:\n      modroot: crate\n      output: foo\n      jobs: 3\n      rustflags: -C opt-level=2\n",
			calls:    []string{"cargo auditable build --target-dir target --release --jobs 3", "  RUSTFLAGS=-C opt-level=2 in crate"},
			tree:     []string{"hello/usr/bin/foo"},
		},
		{
			name:  "cargo/build of every binary",
			tools: []string{"install"},
			setup: func(s *sandbox) {
				s.recorder("cargo", `mkdir -p target/opt/build && for b in foo bar; do echo "$b" > target/opt/$b; chmod +x target/opt/$b; done`,
					`echo dep > target/opt/foo.d`)
			},
			pipeline: "  - uses: cargo/build\n    with:\n      opts: --profile opt\n      output-dir: target/opt\n      install-dir: libexec\n",
			calls:    []string{"cargo auditable build --target-dir target --profile opt"},
			tree:     []string{"hello/usr/libexec/bar", "hello/usr/libexec/foo"},
		},
		{
			name: "pecl",
			setup: func(s *sandbox) {
				s.recorder("phpize")
				s.recorder("configure")
				s.copyToWork("configure", "configure")
				s.recorder("make")
			},
			pipeline: "  - uses: pecl/phpize\n  - uses: pecl/install\n    with:\n      extension: http\n",
			calls:    []string{"phpize", "configure --prefix=/usr --with-php-config=php-config", "make INSTALL_ROOT=" + dest + " install"},
			tree:     []string{"hello/etc/php/conf.d/http.ini"},
			contents: map[string]string{dest + "/etc/php/conf.d/http.ini": "extension=http.so\n"},
		},
		{
			name: "perl",
			setup: func(s *sandbox) {
				s.fake("perl", `if [ "$1" = -MConfig ]; then printf '%s' '-O2 -pipe'; exit; fi; echo "perl $* CFLAGS=$CFLAGS PERL_CFLAGS=$PERL_CFLAGS PERL_MM_USE_DEFAULT=$PERL_MM_USE_DEFAULT" >> "$LOG"`)
				s.env = append(s.env, "CFLAGS=-g")
				s.files(dest, "usr/lib/perl5/vendor_perl/Foo.pm", "usr/lib/perl5/vendor_perl/auto/Foo/.packlist",
					"usr/lib/perl5/core_perl/perllocal.pod")
			},
			pipeline: "  - uses: perl/make\n  - uses: perl/cleanup\n",
			calls:    []string{"perl -I. Makefile.PL INSTALLDIRS=vendor CFLAGS=-g -O2 -pipe PERL_CFLAGS=-O2 -pipe PERL_MM_USE_DEFAULT=1"},
			tree:     []string{"hello/usr/lib/perl5/core_perl/", "hello/usr/lib/perl5/vendor_perl/Foo.pm", "hello/usr/lib/perl5/vendor_perl/auto/Foo/"},
		},
		{
			name: "ruby/build",
			setup: func(s *sandbox) {
				s.fake("ruby", "")
				s.recorder("gem")
				s.write(melange.WorkDir+"/gems/foo/foo.gemspec", "s.name = 'foo'\ns.signing_key = 'key.pem'\n")
			},
			pipeline: "  - uses: ruby/build\n    with:\n      dir: gems/foo\n      gem: foo\n      output: out.gem\n      opts: --strict\n",
			calls:    []string{"gem build foo.gemspec --output out.gem --strict"},
			contents: map[string]string{melange.WorkDir + "/gems/foo/foo.gemspec": "s.name = 'foo'\n"},
		},
		{
			name:     "ruby/build without ruby",
			pipeline: "  - uses: ruby/build\n    with:\n      gem: foo\n",
			err:      "no ruby",
		},
		{
			name: "ruby/install",
			setup: func(s *sandbox) {
				gemDir(s)
				s.recorder("gem")
				s.env = append(s.env, "GEM_VERSION=1.0")
			},
			// Versions may name shell variables, as some configurations do.
			pipeline: "  - uses: ruby/install\n    with:\n      gem: foo\n      gem-file: ignored.gem\n      version: ${GEM_VERSION}\n      opts: -n /x\n",
			calls: []string{"gem install foo-1.0.gem --install-dir " + dest + "/usr/lib/ruby/gems/3.3.0/ --bindir " + dest +
				"/usr/bin --version 1.0 --ignore-dependencies --no-document --verbose --local -n /x"},
			tree: []string{"hello/usr/bin/", "hello/usr/lib/ruby/gems/3.3.0/"},
		},
		{
			name:     "ruby/install of a gem file",
			setup:    func(s *sandbox) { gemDir(s); s.recorder("gem") },
			pipeline: "  - uses: ruby/install\n    with:\n      gem-file: foo-java.gem\n      version: 2.0\n",
			calls: []string{"gem install foo-java.gem --install-dir " + dest + "/usr/lib/ruby/gems/3.3.0/ --bindir " + dest +
				"/usr/bin --version 2.0 --ignore-dependencies --no-document --verbose --local"},
			tree: []string{"hello/usr/bin/", "hello/usr/lib/ruby/gems/3.3.0/"},
		},
		{
			name:     "ruby/install of nothing",
			setup:    gemDir,
			pipeline: "  - uses: ruby/install\n    with:\n      version: 2.0\n",
			err:      "set gem or gem-file",
		},
		{
			name: "ruby/clean",
			setup: func(s *sandbox) {
				gemDir(s)
				s.files(dest+"/usr/lib/ruby/gems/3.3.0", "cache/foo-1.0.gem", "build_info/foo.info", "gems/foo-1.0/lib/foo.rb",
					"gems/foo-1.0/ext/gem_make.out", "gems/foo-1.0/ext/mkmf.log", "extensions/x/foo/gem_make.out")
			},
			pipeline: "  - uses: ruby/clean\n",
			tree: []string{"hello/usr/lib/ruby/gems/3.3.0/extensions/x/foo/", "hello/usr/lib/ruby/gems/3.3.0/gems/foo-1.0/ext/",
				"hello/usr/lib/ruby/gems/3.3.0/gems/foo-1.0/lib/foo.rb"},
		},
		{
			name:  "python/import of statements",
			setup: fakePython,
			pipeline: "  - uses: python/import\n    with:\n      python: python3.12\n      imports: |\n        import foo  # the module\n" +
				"        # a comment line\n\n        from   foo import  bar\n",
			calls: []string{"python3.12 -c 'import foo'", "python3.12 -c 'from foo import bar'"},
		},
		{
			name:     "python/import tries every statement",
			setup:    fakePython,
			pipeline: "  - uses: python/import\n    with:\n      python: python3.12\n      imports: |\n        import missing\n        import foo\n",
			calls:    []string{"python3.12 -c 'import missing'", "python3.12 -c 'import foo'"},
			err:      "FAILED: import missing",
		},
		{
			name:     "python/import from",
			setup:    fakePython,
			pipeline: "  - uses: python/import\n    with:\n      python: python3.12\n      import: bar\n      from: foo\n",
			calls:    []string{"python3.12 -c 'from foo import bar'"},
		},
		{
			name:     "python/import of one module",
			setup:    fakePython,
			pipeline: "  - uses: python/import\n    with:\n      python: python3.12\n      import: foo\n",
			calls:    []string{"python3.12 -c 'import foo'"},
		},
		{
			name:     "python/import of nothing",
			setup:    fakePython,
			pipeline: "  - uses: python/import\n    with:\n      python: python3.12\n",
			err:      "nothing to import",
		},
		{
			name:     "python/import of both kinds",
			setup:    fakePython,
			pipeline: "  - uses: python/import\n    with:\n      python: python3.12\n      import: foo\n      imports: import bar\n",
			err:      "set imports or import, not both",
		},
		{
			name:     "python/import with a venv and a python",
			setup:    fakePython,
			pipeline: "  - uses: python/import\n    with:\n      python: python3.12\n      venv: /venv\n      import: foo\n",
			err:      "python and venv cannot both be set",
		},
		{
			name:     "python/install through the python link",
			setup:    fakePython,
			pipeline: "  - uses: python/install\n",
			calls:    []string{"python3.12 setup.py install --prefix=/usr --root=" + dest},
		},
		{
			name:     "python/build",
			setup:    fakePython,
			pipeline: "  - uses: python/build\n",
			calls:    []string{"python3.12 setup.py build"},
		},
		{
			name: "python/build-wheel",
			setup: func(s *sandbox) {
				fakePython(s)
				s.recorder("python3.12", `if [ "$2" = installer ]; then mkdir -p "$4/usr/lib/foo/__pycache__"; touch "$4/usr/lib/foo/__init__.py" "$4/usr/lib/foo/__pycache__/x.pyc"; fi`)
				s.files(melange.WorkDir, "dist/foo-1.0-py3-none-any.whl")
			},
			pipeline: "  - uses: python/build-wheel\n",
			calls:    []string{"python3.12 -m build", "python3.12 -m installer -d " + dest + " dist/foo-1.0-py3-none-any.whl"},
			tree:     []string{"hello/usr/lib/foo/__init__.py", "hello/usr/lib/foo/__pycache__/"},
		},
		{
			name:     "python/test",
			pipeline: "  - uses: python/test\n    with:\n      command: echo \"tested $((6 * 7))\" > result\n",
			contents: map[string]string{melange.WorkDir + "/result": "tested 42\n"},
		},
		{
			name: "go/install",
			setup: func(s *sandbox) {
				s.recorder("go", `echo "  GOAMD64=$GOAMD64 GOARM64=$GOARM64 GOEXPERIMENT=$GOEXPERIMENT" >> "$LOG"`, `touch "$GOBIN/tool" "$GOBIN/tool-helper"`)
			},
			pipeline: "  - uses: go/install\n    with:\n      package: example.com/tool/cmd/...\n      version: v1.2.3\n      ldflags: -X main.v=1\n      tags: extra\n      experiments: jsonv2\n",
			calls: []string{"go install -tags netgo,osusergo,extra -ldflags '-w -X main.v=1' -trimpath example.com/tool/cmd/...@v1.2.3",
				"  GOAMD64=v2 GOARM64=v8.0 GOEXPERIMENT=jsonv2"},
			tree: []string{"hello/usr/bin/tool", "hello/usr/bin/tool-helper"},
		},
		{
			name:     "git-am",
			setup:    func(s *sandbox) { s.recorder("git") },
			pipeline: "  - uses: git-am\n    with:\n      patches: |\n        0001-a.patch\n        0002-b.patch\n",
			calls:    []string{"git am 0001-a.patch 0002-b.patch"},
		},
		{
			name: "go/bump",
			setup: func(s *sandbox) {
				s.recorder("gobump", `echo "  in ${PWD##*/}" >> "$LOG"`)
				s.files(melange.WorkDir, "mod/")
			},
			pipeline: "  - uses: go/bump\n    with:\n      deps: a.com/x@v1 b.com/y@v2\n      modroot: mod\n      go-version: \"1.24\"\n",
			calls: []string{"gobump --packages 'a.com/x@v1 b.com/y@v2' --replaces '' --tidy=true --show-diff=false --go-version=1.24 --compat= --work=false",
				"  in mod"},
		},
		{
			name: "go/covdata",
			setup: func(s *sandbox) {
				s.fake("go", `echo "$* " >> "$LOG"; printf 'a.go:1:\tf\t50.0%%\ntotal:\t(statements)\t72.5%%\n'`)
			},
			pipeline: "  - uses: go/covdata\n    with:\n      cover-dir: /tmp/cov\n",
			calls:    []string{"tool covdata func -i /tmp/cov "},
			output:   "Statements coverage: 72.5%",
		},
		{
			name: "llvm/covreport",
			setup: func(s *sandbox) {
				s.recorder("llvm-profdata")
				s.recorder("llvm-cov", `echo 'TOTAL 10 2 80.00% 5 1 85.00% 20 4 80.00%'`)
				s.fake("apk", `printf 'hello-1.2.3-r0 contains:\nusr/bin/hello\nusr/share/doc/x\n'`)
				s.files(melange.WorkDir, "default_1.profraw")
			},
			pipeline: "  - uses: llvm/covreport\n",
			calls: []string{"llvm-profdata merge --sparse default_1.profraw --output default.profdata",
				"llvm-cov report --ignore-filename-regex= --instr-profile=default.profdata --object /usr/bin/hello --summary-only"},
			output: "Statements coverage: 85.00%",
		},
		{
			name:     "R/build",
			setup:    func(s *sandbox) { s.recorder("Rscript") },
			pipeline: "  - uses: R/build\n    with:\n      package: foo\n      version: 1.0\n      path: foo.tar.gz\n",
			calls:    []string{`Rscript -e 'install.packages("foo.tar.gz", lib = "` + dest + `/usr/lib/R/library/", repos = NULL, type = "source")'`},
			tree:     []string{"hello/usr/lib/R/library/"},
		},
		{
			name:  "npm/install with overrides",
			tools: []string{"node"},
			setup: func(s *sandbox) {
				s.recorder("npm", `if [ "$2" = --install-strategy=shallow ]; then cat package.json >> "$LOG"; echo >> "$LOG"; fi`)
			},
			pipeline: "  - uses: npm/install\n    with:\n      package: serve\n      version: 14.2.4\n" +
				"      overrides: |\n        send@0.19.0, @scope/pkg@^2.0.0 # scoped\n        path-to-regexp@3.3.0\n",
			calls: []string{"npm install -g serve@14.2.4 -prefix " + dest + "/usr/",
				"npm install --install-strategy=shallow .",
				`{"dependencies":{"serve":"14.2.4"},"overrides":{"send":"0.19.0","@scope/pkg":"^2.0.0","path-to-regexp":"3.3.0"}}`},
			tree: []string{"hello/usr/bin/", "hello/usr/lib/"},
		},
		{
			name:     "npm/install with another manager",
			pipeline: "  - uses: npm/install\n    with:\n      package: serve\n      version: 1\n      npm-package: yarn\n",
			err:      "npm-package must be npm or pnpm",
		},
		{
			name:  "xcover",
			setup: func(s *sandbox) { s.recorder("xcover") },
			pipeline: "  - uses: xcover/profile\n    with:\n      executable-path: /usr/bin/rg\n      exclude-functions: ^runtime\\\\.\n" +
				"  - uses: xcover/wait\n  - uses: xcover/status\n  - uses: xcover/stop\n",
			calls: []string{
				`xcover run --path /usr/bin/rg --exclude=^runtime\. --include= --scope=project --log-level=info --verbose=false --status --detach`,
				"xcover wait --timeout 60s", "xcover wait --timeout 60s", "xcover status", "xcover stop",
			},
		},
		{
			name:     "xcover/ensure above the minimum",
			tools:    []string{"jq"},
			setup:    func(s *sandbox) { s.write(melange.WorkDir+"/xcover-report.json", `{"cov_by_func": 80.5}`) },
			pipeline: "  - uses: xcover/ensure\n    with:\n      min-coverage: 75\n",
			output:   "80.5% of functions covered",
		},
		{
			name:     "xcover/ensure at the minimum",
			tools:    []string{"jq"},
			setup:    func(s *sandbox) { s.write(melange.WorkDir+"/xcover-report.json", `{"cov_by_func": 75}`) },
			pipeline: "  - uses: xcover/ensure\n    with:\n      min-coverage: 75\n",
			err:      "75% is not above the minimum of 75%",
		},
		{
			name: "maven/pombump",
			setup: func(s *sandbox) {
				s.recorder("pombump", `echo '<project>new</project>'`)
				s.write(melange.WorkDir+"/pom.xml", "<project>old</project>\n")
				s.write(melange.WorkDir+"/pombump-deps.yaml", "patches: []\n")
			},
			pipeline: "  - uses: maven/pombump\n    with:\n      properties: a=1 b=2\n",
			calls:    []string{"pombump pom.xml --patch-file ./pombump-deps.yaml --properties 'a=1 b=2'"},
			contents: map[string]string{melange.WorkDir + "/pom.xml": "<project>new</project>\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t, tt.tools...)
			if tt.setup != nil {
				tt.setup(s)
			}
			out, err := s.run(steps(compile(t, doc("pipeline:\n"+tt.pipeline))))
			if testkit.ErrorCase(t, err, tt.err) && tt.err == "" {
				return
			}
			if got := s.calls(); !slices.Equal(got, tt.calls) {
				t.Errorf("calls:\n got: %q\nwant: %q", got, tt.calls)
			}
			if tt.err != "" {
				return
			}
			if got := s.tree(melange.OutDir); !slices.Equal(got, tt.tree) {
				t.Errorf("melange-out:\n got: %q\nwant: %q", got, tt.tree)
			}
			if !strings.Contains(out, tt.output) {
				t.Errorf("output %q does not contain %q", out, tt.output)
			}
			for p, want := range tt.contents {
				if got := s.read(p); got != want {
					t.Errorf("%s: got %q, want %q", p, got, want)
				}
			}
		})
	}
}

// fakePython is a python3.12 that records its calls and fails to import
// modules called missing, with python and python3 linking to it.
func fakePython(s *sandbox) {
	s.recorder("python3.12", `case $2 in *missing*) exit 1 ;; esac`)
	s.link("python3.12", "python")
	s.link("python3.12", "python3")
}
