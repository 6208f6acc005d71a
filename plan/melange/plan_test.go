package melange

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestPackage(t *testing.T) {
	p := mustCompile(t, `package:
  name: py${{vars.py}}-hello
  version: 3.10
  epoch: 2
  description: hello for python ${{vars.py}}
  url: https://example.com
  copyright:
    - license: Apache-2.0
    - license: ${{vars.extra-licence}}
  dependencies:
    runtime: ["python-${{vars.py}}", "hello-libs=${{package.full-version}}"]
    provides: ["hello=${{package.full-version}}"]
    replaces: [hello-old]
    provider-priority: ${{vars.prio}}
    replaces-priority: 5
  scriptlets:
    post-install: "#!/bin/sh\necho ${{package.name}}"
  target-architecture: [x86_64, aarch64]
  timeout: 2h
  checks:
    disabled: [empty]
vars:
  py: "3.12"
  extra-licence: MIT
  prio: "100"
`, Options{Commit: "0123"})
	k := p.Package
	got := fmt.Sprint(k.Name.Value, "|", k.Version.Value, "|", k.Epoch, "|", k.FullVersion, "|", k.Description.Value, "|", k.License(), "|",
		values(k.Dependencies.Runtime), values(k.Dependencies.Provides), values(k.Dependencies.Replaces), "|",
		k.Dependencies.ProviderPriority.Value, "/", k.Dependencies.ReplacesPriority.Value, "|", k.Scriptlets.PostInstall.Value, "|",
		k.Commit.Value, "|", k.Timeout, "|", values(k.ChecksDisabled), "|", p.Arch)
	want := "py3.12-hello|3.10|2|3.10-r2|hello for python 3.12|Apache-2.0 AND MIT|[python-3.12 hello-libs=3.10-r2] [hello=3.10-r2] [hello-old]|100/5|#!/bin/sh\necho py3.12-hello|0123|" +
		fmt.Sprint(2*time.Hour) + "|[empty]|x86_64"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if pos := k.Dependencies.Runtime[0].Pos.String(); pos != "melange.yaml:11:15" {
		t.Errorf("runtime dependency at %s", pos)
	}
}

func TestPackageErrors(t *testing.T) {
	tests := []struct{ name, doc, err string }{
		{"bad name", "package: {name: '${{vars.x}}', version: 1}\nvars: {x: 'a b'}\n",
			`melange.yaml:1:17: package.name: "a b" is not a package name (letters, digits, '+', '_', '.', '-'; starting with a letter or digit)`},
		{"bad version", "package: {name: a, version: v1.0}\n",
			`melange.yaml:1:29: package.version: "v1.0" is not an apk version (like 1.2.3, 2.0_rc1 or 1.0.1a)`},
		{"priority not a number", "package: {name: a, version: 1, dependencies: {provider-priority: high}}\n",
			`melange.yaml:1:66: package.dependencies: priority "high" is not an integer`},
		{"duplicate subpackage", header + "subpackages: [{name: x}, {name: x}]\n",
			"melange.yaml:6:33: subpackages[1].name: package \"x\" is already defined at melange.yaml:6:22"},
		{"subpackage named as the package", header + "subpackages: [{name: hello}]\n",
			"melange.yaml:6:22: subpackages[0].name: package \"hello\" is already defined at melange.yaml:2:9"},
		{"unknown build option", header, `melange.yaml: build option "lto" is not defined in options (known: )`},
		{"assertion", header + "pipeline:\n  - assertions: {required-steps: 2}\n    pipeline:\n      - runs: a\n      - if: ${{build.arch}} == 'aarch64'\n        runs: b\n",
			"melange.yaml:7:34: assertions.required-steps: 2 nested steps must run, but 1 do"},
		{"include in environment", header + "environment: {include: base.yaml}\n",
			"melange.yaml:6:24: environment.include: not supported in melange configurations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts Options
			if tt.name == "unknown build option" {
				opts.BuildOptions = []string{"lto"}
			}
			_, err := compile(t, tt.doc, opts)
			if tt.name == "unknown build option" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("got %v, want %s", err, tt.err)
				}
				return
			}
			wantError(t, err, tt.err)
		})
	}
}

func TestTargetArchitecture(t *testing.T) {
	for _, tt := range []struct {
		targets, arch string
		skip          bool
	}{
		{"[x86_64]", "x86_64", false},
		{"[x86_64]", "aarch64", true},
		{"[x86_64]", "amd64", false},
		{"[all]", "s390x", false},
		{"[aarch64, ppc64le]", "x86_64", true},
	} {
		_, err := compile(t, "package: {name: a, version: 1, target-architecture: "+tt.targets+"}\n", Options{Arch: tt.arch})
		if skip := errors.Is(err, ErrArchNotTargeted); skip != tt.skip || err != nil && !skip {
			t.Errorf("%s on %s: %v", tt.targets, tt.arch, err)
		}
	}
}

func TestSubpackages(t *testing.T) {
	p := mustCompile(t, header+`  commit: abc
data:
  - name: pythons
    items:
      "3.13": "313"
      "3.12": "312"
subpackages:
  - range: pythons
    name: py${{range.key}}-hello
    description: hello for python ${{range.key}}
    dependencies:
      runtime: ["python-${{range.key}}"]
      provider-priority: ${{range.value}}
    pipeline:
      - runs: mv ${{targets.destdir}}/py${{range.key}} ${{targets.subpkgdir}}
    test:
      environment:
        contents:
          packages: ["python-${{range.key}}"]
      pipeline:
        - uses: greet
          with: {greeting: "${{subpkg.name}}"}
  - name: hello-doc
    commit: def
    pipeline:
      - runs: echo ${{targets.package.py3.12-hello}}
`, Options{})
	var got []string
	for _, s := range p.Subpackages {
		line := fmt.Sprint(s.Name.Value, "|", s.Description.Value, "|", values(s.Dependencies.Runtime), s.Dependencies.ProviderPriority.Value, "|",
			scripts(s.Pipeline), "|", s.Commit.Value)
		if s.Range != nil {
			line += fmt.Sprintf("|%+v", *s.Range)
		}
		if s.Test != nil {
			line += fmt.Sprint("|test ", scripts(s.Test.Pipeline), packages(s.Test.Environment), values(s.Test.Environment.ExtraPackages))
		}
		got = append(got, line)
	}
	want := []string{
		// In key order, as melange sorts them.
		"py3.12-hello|hello for python 3.12|[python-3.12] 312|[mv /home/build/melange-out/hello/py3.12 /home/build/melange-out/py3.12-hello]|abc|{Data:pythons Key:3.12 Value:312}" +
			"|test [echo py3.12-hello world] [python-3.12] [busybox py3.12-hello]",
		"py3.13-hello|hello for python 3.13|[python-3.13] 313|[mv /home/build/melange-out/hello/py3.13 /home/build/melange-out/py3.13-hello]|abc|{Data:pythons Key:3.13 Value:313}" +
			"|test [echo py3.13-hello world] [python-3.13] [busybox py3.13-hello]",
		"hello-doc||[] 0|[echo /home/build/melange-out/py3.12-hello]|def",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func packages(e Environment) []string {
	var out []string
	for _, p := range e.Config.Contents.Packages {
		out = append(out, p.Value)
	}
	return out
}

func TestEnvironment(t *testing.T) {
	doc := header + `environment:
  contents:
    repositories: [https://packages.wolfi.dev/os]
    packages: [build-base, busybox, "go-${{vars.go}}", gdb-stub]
  environment:
    HOME: ""
    GOPATH: /go
vars:
  go: "1.26"
options:
  debug:
    vars: {go: "1.25"}
    environment:
      contents:
        packages:
          add: [gdb]
          remove: [gdb-stub]
pipeline:
  - uses: greet
    with: {greeting: hi}
  - uses: nest/outer
    with: {compiler: "go-${{vars.go}}"}
test:
  environment:
    contents:
      packages: [bash]
  pipeline:
    - uses: greet
      with: {greeting: test}
`
	for _, tt := range []struct {
		options []string
		want    string
	}{
		{nil, "[build-base busybox go-1.26 gdb-stub] extra [outer-tool] env [HOME=/home/build GOPATH=/go GOMODCACHE=/var/cache/melange/gomodcache " +
			"UV_CACHE_DIR=/var/cache/melange/uv PIP_CACHE_DIR=/var/cache/melange/pip COMPOSER_CACHE_DIR=/var/cache/melange/composer " +
			"npm_config_cache=/var/cache/melange/npm] users [build:1000:1000] groups [build:1000:[build]] " +
			"test [bash] extra [busybox hello] env [] users [build:1000:1000]"},
		// Options change vars and the build environment's packages only.
		{[]string{"debug"}, "[build-base busybox go-1.25 gdb] extra [outer-tool] env [HOME=/home/build GOPATH=/go GOMODCACHE=/var/cache/melange/gomodcache " +
			"UV_CACHE_DIR=/var/cache/melange/uv PIP_CACHE_DIR=/var/cache/melange/pip COMPOSER_CACHE_DIR=/var/cache/melange/composer " +
			"npm_config_cache=/var/cache/melange/npm] users [build:1000:1000] groups [build:1000:[build]] " +
			"test [bash] extra [busybox hello] env [] users [build:1000:1000]"},
	} {
		p := mustCompile(t, doc, Options{BuildOptions: tt.options})
		got := describeEnv(p.Environment, true) + " test " + describeEnv(p.Test.Environment, false)
		if got != tt.want {
			t.Errorf("options %v:\n got %s\nwant %s", tt.options, got, tt.want)
		}
	}
}

func describeEnv(e Environment, full bool) string {
	var env, users, groups []string
	for _, kv := range e.Config.Environment {
		env = append(env, kv.Key.Value+"="+kv.Value.Value)
	}
	for _, u := range e.Config.Accounts.Users {
		users = append(users, fmt.Sprintf("%s:%d:%d", u.UserName.Value, u.UID.Value, u.GID.Value))
	}
	for _, g := range e.Config.Accounts.Groups {
		groups = append(groups, fmt.Sprintf("%s:%d:%v", g.GroupName.Value, g.GID.Value, values(g.Members)))
	}
	s := fmt.Sprint(packages(e), " extra ", values(e.ExtraPackages), " env ", env, " users ", users)
	if full {
		s += fmt.Sprint(" groups ", groups)
	}
	return s
}

func TestWorkDirAndEnv(t *testing.T) {
	p := mustCompile(t, header+`pipeline:
  - working-directory: src
    environment: {A: "1", PATH: /opt/bin}
    pipeline:
      - runs: inherit
      - working-directory: /abs/../tmp
        environment: {B: "2"}
        runs: absolute
      - working-directory: ${{package.name}}-build
        runs: relative to the workspace, not to the parent
  - runs: defaults
`, Options{})
	var got []string
	for _, s := range p.Pipeline {
		i := s.Info()
		var env []string
		for _, e := range i.Env {
			env = append(env, e.Name+"="+e.Value)
		}
		got = append(got, fmt.Sprint(i.WorkDir, " ", env))
	}
	want := []string{
		"/home/build/src [A=1 PATH=/opt/bin]",
		"/tmp [A=1 B=2 PATH=/opt/bin]",
		"/home/build/hello-build [A=1 PATH=/opt/bin]",
		"/home/build [PATH=" + DefaultPath + "]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestStepNames(t *testing.T) {
	p := mustCompile(t, header+`pipeline:
  - name: Configure ${{package.name}}
    runs: ./configure
  - runs: |
      # comments and shell options are not names
      set -eux

      make -j$(nproc) all install DESTDIR="${{targets.destdir}}" PREFIX=/usr V=1
  - uses: greet
    with: {greeting: hi}
`, Options{})
	var got []string
	for _, s := range p.Pipeline {
		got = append(got, s.Info().Name)
	}
	want := `[Configure hello make -j$(nproc) all install DESTDIR="/home/build/melange-... greet]`
	if fmt.Sprint(got) != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestRunCommand(t *testing.T) {
	p := mustCompile(t, header+"pipeline:\n  - working-directory: \"it's here\"\n    runs: make\n", Options{})
	got := p.Pipeline[0].(*Run).Command()
	want := []string{"/bin/sh", "-c", "set -eo pipefail\n[ -d '/home/build/it'\\''s here' ] || mkdir -p '/home/build/it'\\''s here'\ncd '/home/build/it'\\''s here'\nmake\nexit 0"}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
