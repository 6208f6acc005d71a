package melange

import (
	"fmt"
	"strings"
	"testing"
)

// substDoc puts expr in one place of a configuration that has every kind
// of variable: the main pipeline, a plain subpackage, the first item of
// a ranged subpackage, or the main test.
func substDoc(where, expr string) string {
	step := func(in string) string {
		if in != where {
			return "[{runs: 'true'}]"
		}
		return fmt.Sprintf("[{runs: %q}]", "echo "+expr)
	}
	return header + `vars:
  greeting: hi there
  go: 1.26
var-transforms:
  - from: ${{package.version}}
    match: ^(\d+)\.(\d+)\.\d+$
    replace: $1.$2
    to: major-minor
  - from: ${{vars.major-minor}}
    match: \.
    replace: _
    to: mm-underscored
  - from: ${{package.name}}
    match: hello
    replace: ${{host.triplet.gnu}}
    to: late
data:
  - name: flavours
    items: {b: two, a: one}
options:
  fast: {vars: {greeting: fast hi}}
  small: {}
pipeline: ` + step("main") + `
subpackages:
  - name: hello-doc
    pipeline: ` + step("sub") + `
  - range: flavours
    name: hello-${{range.key}}
    pipeline: ` + step("range") + `
test:
  pipeline: ` + step("test") + `
`
}

func TestSubstitutions(t *testing.T) {
	tests := []struct {
		where, expr string
		arch, libc  string
		options     []string
		want        string
	}{
		{where: "main", expr: "${{package.name}}", want: "hello"},
		{where: "main", expr: "${{package.version}}", want: "1.2.3"},
		{where: "main", expr: "${{package.epoch}}", want: "4"},
		{where: "main", expr: "${{package.full-version}}", want: "1.2.3-r4"},
		{where: "main", expr: "${{package.description}}", want: "says hi"},
		{where: "main", expr: "${{package.srcdir}}", want: "/home/build"},
		{where: "main", expr: "${{targets.outdir}}", want: "/home/build/melange-out"},
		{where: "main", expr: "${{targets.destdir}}", want: "/home/build/melange-out/hello"},
		{where: "main", expr: "${{targets.contextdir}}", want: "/home/build/melange-out/hello"},
		{where: "main", expr: "${{context.name}}", want: "hello"},
		{where: "main", expr: "${{targets.package.hello-doc}} ${{targets.package.hello-b}}", want: "/home/build/melange-out/hello-doc /home/build/melange-out/hello-b"},
		{where: "main", expr: "${{ package.name }}", want: "hello"},
		{where: "main", expr: "${{vars.greeting}} ${{vars.go}}", want: "hi there 1.26"},
		{where: "main", expr: "${{vars.major-minor}} ${{vars.mm-underscored}}", want: "1.2 1_2"},
		// A transform's replacement may itself name a variable, substituted
		// where the var is used.
		{where: "main", expr: "${{vars.late}}", want: "x86_64-pc-linux-gnu"},
		{where: "main", expr: "${{vars.late}}", arch: "aarch64", want: "aarch64-unknown-linux-gnu"},
		{where: "main", expr: "${{options.fast.enabled}} ${{options.small.enabled}}", want: "false false"},
		{where: "main", expr: "${{options.fast.enabled}} ${{options.small.enabled}}", options: []string{"fast"}, want: "true false"},
		{where: "main", expr: "${{vars.greeting}}", options: []string{"fast"}, want: "fast hi"},

		{where: "main", expr: "${{build.arch}} ${{build.goarch}}", want: "x86_64 amd64"},
		{where: "main", expr: "${{build.arch}} ${{build.goarch}}", arch: "arm64", want: "aarch64 arm64"},
		{where: "main", expr: "${{build.arch}} ${{build.goarch}}", arch: "armv7", want: "armv7 arm/v7"},
		{where: "main", expr: "${{build.arch}} ${{build.goarch}}", arch: "x86", want: "x86 386"},
		{where: "main", expr: "${{build.arch}} ${{build.goarch}}", arch: "loongarch64", want: "loongarch64 loong64"},
		{where: "main", expr: "${{host.triplet.gnu}} ${{host.triplet.rust}}", want: "x86_64-pc-linux-gnu x86_64-unknown-linux-gnu"},
		{where: "main", expr: "${{host.triplet.gnu}} ${{host.triplet.rust}}", libc: "musl", want: "x86_64-pc-linux-musl x86_64-unknown-linux-musl"},
		{where: "main", expr: "${{host.triplet.gnu}} ${{host.triplet.rust}}", arch: "aarch64", want: "aarch64-unknown-linux-gnu aarch64-unknown-linux-gnu"},
		{where: "main", expr: "${{host.triplet.gnu}} ${{host.triplet.rust}}", arch: "armv7", want: "armv7l-unknown-linux-gnueabihf armv7-unknown-linux-gnueabihf"},
		{where: "main", expr: "${{host.triplet.gnu}} ${{host.triplet.rust}}", arch: "armhf", want: "arm-unknown-linux-gnueabihf armv6-unknown-linux-gnueabihf"},
		{where: "main", expr: "${{host.triplet.gnu}} ${{host.triplet.rust}}", arch: "x86", want: "i486-pc-linux-gnu i686-unknown-linux-gnu"},
		{where: "main", expr: "${{host.triplet.gnu}} ${{host.triplet.rust}}", arch: "ppc64le", want: "powerpc64le-unknown-linux-gnu powerpc64le-unknown-linux-gnu"},
		{where: "main", expr: "${{host.triplet.gnu}} ${{host.triplet.rust}}", arch: "s390x", want: "s390x-ibm-linux-gnu s390x-unknown-linux-gnu"},
		{where: "main", expr: "${{host.triplet.gnu}} ${{host.triplet.rust}}", arch: "riscv64", want: "riscv64-unknown-linux-gnu riscv64-unknown-linux-gnu"},
		{where: "main", expr: "${{cross.triplet.gnu.glibc}} ${{cross.triplet.gnu.musl}}", libc: "musl", want: "x86_64-pc-linux-gnu x86_64-pc-linux-musl"},
		{where: "main", expr: "${{cross.triplet.rust.glibc}} ${{cross.triplet.rust.musl}}", arch: "armv7", want: "armv7-unknown-linux-gnueabihf armv7-unknown-linux-musleabihf"},

		{where: "sub", expr: "${{subpkg.name}} ${{context.name}}", want: "hello-doc hello-doc"},
		{where: "sub", expr: "${{targets.subpkgdir}} ${{targets.contextdir}}", want: "/home/build/melange-out/hello-doc /home/build/melange-out/hello-doc"},
		{where: "sub", expr: "${{targets.destdir}}", want: "/home/build/melange-out/hello"},
		{where: "range", expr: "${{range.key}}=${{range.value}} ${{subpkg.name}}", want: "a=one hello-a"},
		{where: "test", expr: "${{targets.destdir}} ${{context.name}} ${{build.arch}}", want: "/home/build/melange-out/hello hello x86_64"},
	}
	for _, tt := range tests {
		t.Run(tt.where+" "+tt.expr+" "+tt.arch+tt.libc, func(t *testing.T) {
			p := mustCompile(t, substDoc(tt.where, tt.expr), Options{Arch: tt.arch, Libc: tt.libc, BuildOptions: tt.options})
			var steps []Step
			switch tt.where {
			case "main":
				steps = p.Pipeline
			case "sub":
				steps = p.Subpackages[0].Pipeline
			case "range":
				steps = p.Subpackages[1].Pipeline
			case "test":
				steps = p.Test.Pipeline
			}
			if got := scripts(steps); len(got) != 1 || got[0] != "echo "+tt.want {
				t.Errorf("got %q, want %q", got, "echo "+tt.want)
			}
		})
	}
}

func TestSubstitutionErrors(t *testing.T) {
	tests := []struct {
		name, doc, err string
	}{
		{"unknown var", header + "pipeline:\n  - runs: echo ${{vars.nope}}\n",
			"melange.yaml:7:11: runs: unknown variable ${{vars.nope}} (not defined in vars: or by var-transforms:)"},
		{"unknown package variable", header + "pipeline:\n  - runs: echo ${{package.license}}\n",
			"melange.yaml:7:11: runs: unknown variable ${{package.license}} (pipelines may use package.*, vars.*, targets.*, build.*, host.*, cross.*, context.name, options.*, inputs.* of the pipeline, and in subpackages subpkg.name and range.*)"},
		{"did you mean", header + "pipeline:\n  - runs: |\n      echo one\n      echo ${{package.verison}}\n",
			"melange.yaml:7:11: runs: unknown variable ${{package.verison}} (line 2 of the value); did you mean ${{package.version}}?"},
		{"subpackage variable in the main pipeline", header + "pipeline:\n  - runs: cd ${{targets.subpkgdir}}\n",
			"melange.yaml:7:11: runs: unknown variable ${{targets.subpkgdir}} (it is defined in subpackage pipelines only)"},
		{"pipeline variable in the environment", header + "environment:\n  contents:\n    packages: ['${{build.arch}}-tools']\n",
			"melange.yaml:8:16: environment.contents.packages[0]: unknown variable ${{build.arch}} (it is defined in pipelines only, not in package metadata or environments)"},
		{"range outside a ranged subpackage", header + "subpackages:\n  - name: x\n    pipeline: [{runs: 'echo ${{range.key}}'}]\n",
			"melange.yaml:8:23: runs: unknown variable ${{range.key}} (it is defined in subpackages with range: only)"},
		{"in dependencies", header + "  dependencies:\n    runtime: ['${{vars.x}}']\n",
			"melange.yaml:7:15: package.dependencies.runtime[0]: unknown variable ${{vars.x}} (not defined in vars: or by var-transforms:)"},
		{"unknown package variable in metadata", header + "  dependencies:\n    runtime: ['${{package.release}}']\n",
			"melange.yaml:7:15: package.dependencies.runtime[0]: unknown variable ${{package.release}} (package metadata and environments may use package.*, vars.* and, in ranged subpackages, range.*)"},
		{"unterminated", header + "pipeline:\n  - runs: echo ${{package.name}\n",
			`melange.yaml:7:11: runs: unterminated reference to "package.name" (want ${{package.name}})`},
		{"empty name", header + "pipeline:\n  - runs: echo ${{ }}\n", "melange.yaml:7:11: runs: empty variable name in ${{...}}"},
		{"working-directory", header + "pipeline:\n  - runs: x\n    working-directory: ${{vars.dir}}\n",
			"melange.yaml:8:24: working-directory: unknown variable ${{vars.dir}} (not defined in vars: or by var-transforms:)"},
		{"var-transform from", header + "var-transforms: [{from: '${{build.arch}}', match: x, replace: y, to: z}]\n",
			"melange.yaml:6:25: var-transforms[0].from: unknown variable ${{build.arch}} (it is defined in pipelines only, not in package metadata or environments)"},
		{"var refers to itself", header + "vars: {a: '${{vars.a}}'}\npipeline: [{runs: 'echo ${{vars.a}}'}]\n",
			`melange.yaml:6:11: ${{vars.a}}: ${{vars.a}} refers to itself (its value is "${{vars.a}}") (substituted for ${{vars.a}} in runs at melange.yaml:7:19)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compile(t, tt.doc, Options{})
			wantError(t, err, tt.err)
		})
	}
}

// Descriptions, step names and step environments are free text: melange
// substitutes what it knows there and never fails on the rest.
func TestFreeText(t *testing.T) {
	p := mustCompile(t, header+`  url: https://example.com/${{package.name}}
vars: {v: "1"}
pipeline:
  - name: build ${{vars.v}} for ${{build.arch}} ${{inputs.none}}
    environment:
      A: ${{vars.v}}
      B: ${{build.arch}} ${{vars.missing}} ${{broken
    runs: "true"
subpackages:
  - name: hello-dev
    description: ${{package.name}} headers ${{package.name}
`, Options{})
	step := p.Pipeline[0].Info()
	got := []string{p.Package.URL.Value, step.Name, fmt.Sprint(step.Env), p.Subpackages[0].Description.Value}
	want := []string{
		"https://example.com/hello",
		"build 1 for x86_64 ${{inputs.none}}",
		fmt.Sprintf("[{A 1 melange.yaml:11:10} {B x86_64 ${{vars.missing}} ${{broken melange.yaml:12:10} {PATH %s }]", DefaultPath),
		"hello headers ${{package.name}",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
