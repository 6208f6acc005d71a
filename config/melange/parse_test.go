package melange

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kiln-build/kiln/config/yamlnode"
)

func parseFile(t *testing.T, name string) *Config {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseFull(t *testing.T) {
	c := parseFile(t, "full.yaml")
	p := c.Package
	env, err := c.Environment.Resolve(func(s Str, _ string) (Str, error) {
		s.Value = strings.ReplaceAll(s.Value, "${{vars.go}}", "1.26")
		return s, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sp := c.Subpackages[0]
	tests := []struct {
		what string
		got  any
		want any
	}{
		// Scalars as written, with their positions.
		{"name", p.Name.Value, "hello"},
		{"version as written", p.Version.Value, "3.10"},
		{"version position", p.Version.Pos.String(), "full.yaml:4:12"},
		{"epoch", p.Epoch.Value, int64(2)},
		{"description keeps references", p.Description.Value, "hello ${{vars.who}}"},
		{"annotation", p.Annotations[0].Key.Value + "=" + p.Annotations[0].Value.Value, "org.example/team=tools"},
		{"url", p.URL.Value, "https://example.com/hello"},
		{"commit", p.Commit.Value, "0123456789abcdef0123456789abcdef01234567"},
		{"target-architecture", fmt.Sprint(values(p.TargetArchitecture)), "[x86_64 aarch64]"},
		{"copyright paths", fmt.Sprint(values(p.Copyright[0].Paths)), "[*]"},
		{"copyright attestation", p.Copyright[0].Attestation.Value, "Copyright 2020 Example"},
		{"copyright license", p.Copyright[0].License.Value, "Apache-2.0"},
		{"copyright license-path", p.Copyright[0].LicensePath.Value, "LICENSE"},
		{"copyright detection-override", p.Copyright[0].DetectionOverride.Value, "MIT"},
		{"runtime", fmt.Sprint(values(p.Dependencies.Runtime)), "[busybox libhello=${{package.full-version}}]"},
		{"provides", fmt.Sprint(values(p.Dependencies.Provides)), "[hi=${{package.full-version}}]"},
		{"replaces", fmt.Sprint(values(p.Dependencies.Replaces)), "[oldhello]"},
		{"provider-priority", p.Dependencies.ProviderPriority.Value, "10"},
		{"replaces-priority", p.Dependencies.ReplacesPriority.Value, "5"},
		{"no-provides", p.Options.NoProvides.Value, false},
		{"no-depends (yes)", p.Options.NoDepends.Value, true},
		{"no-commands", p.Options.NoCommands.Value, true},
		{"no-versioned-shlib-deps written", p.Options.NoVersionedShlibDeps.Pos.IsValid(), true},
		{"trigger script", p.Scriptlets.Trigger.Script.Value, "#!/bin/sh\necho triggered\n"},
		{"trigger paths", fmt.Sprint(values(p.Scriptlets.Trigger.Paths)), "[/usr/lib/hello]"},
		{"scriptlets", p.Scriptlets.PreInstall.Value + p.Scriptlets.PostInstall.Value + p.Scriptlets.PreDeinstall.Value +
			p.Scriptlets.PostDeinstall.Value + p.Scriptlets.PreUpgrade.Value + p.Scriptlets.PostUpgrade.Value, strings.Repeat("#!/bin/sh\n:", 6)},
		{"checks", fmt.Sprint(values(p.Checks.Disabled)), "[empty]"},
		{"cpe", p.CPE.Vendor.Value + "/" + p.CPE.Product.Value, "example/hello"},
		{"setcap", p.SetCap[0].Path.Value + " " + p.SetCap[0].Add[0].Key.Value + " " + p.SetCap[0].Add[0].Value.Value + " " + p.SetCap[0].Reason.Value,
			"/usr/bin/hello cap_net_bind_service,cap_net_raw +ep binds port 80"},
		{"timeout", p.Timeout.Value, 90 * time.Minute},
		{"resources", p.Resources.CPU.Value + " " + p.Resources.Memory.Value, "4 8Gi"},
		{"test-resources", p.TestResources.CPU.Value, "1"},

		// The embedded apko configuration, decoded by config/apko.
		{"environment packages", fmt.Sprint(env.Contents.Packages[0].Value, " ", env.Contents.Packages[1].Value), "build-base go-1.26"},
		{"environment env", env.Environment[0].Key.Value + "=" + env.Environment[0].Value.Value, "CGO_ENABLED=0"},
		{"environment keyring position", env.Contents.Keyring[0].Pos.String(), "full.yaml:59:15"},
		{"capabilities", fmt.Sprint(values(c.Capabilities.Add), values(c.Capabilities.Drop)), "[CAP_NET_ADMIN] [CAP_SYS_ADMIN]"},
		{"vars in order", c.Vars[0].Key.Value + "=" + c.Vars[0].Value.Value + " " + c.Vars[1].Key.Value + "=" + c.Vars[1].Value.Value, "who=world go=1.26"},
		{"var-transform", c.VarTransforms[0].From.Value + " " + c.VarTransforms[0].Match.Value + " " + c.VarTransforms[0].Replace.Value + " " + c.VarTransforms[0].To.Value,
			`${{package.version}} \. _ underscored`},
		{"data", c.Data[0].Name.Value + " " + c.Data[0].Items[1].Key.Value + "=" + c.Data[0].Items[1].Value.Value, "flavours fast=-O3"},
		{"option", c.Options[0].Name.Value + " " + c.Options[0].Vars[0].Value.Value + " " + fmt.Sprint(values(c.Options[0].Add), values(c.Options[0].Remove)),
			"debug debugger [gdb] [build-base]"},

		// Steps.
		{"fetch uses", c.Pipeline[0].Uses.Value, "fetch"},
		{"fetch with", c.Pipeline[0].With[0].Key.Value + "=" + c.Pipeline[0].With[0].Value.Value, "uri=https://example.com/hello-${{package.version}}.tar.gz"},
		{"step position", c.Pipeline[1].Pos.String(), "full.yaml:99:5"},
		{"if", c.Pipeline[1].If.Value, "${{build.arch}} == 'x86_64'"},
		{"label", c.Pipeline[1].Label.Value, "compile"},
		{"working-directory", c.Pipeline[1].WorkDir.Value, "src"},
		{"step environment", c.Pipeline[1].Environment[0].Key.Value + "=" + c.Pipeline[1].Environment[0].Value.Value, "CFLAGS=-O2"},
		{"nested runs", c.Pipeline[1].Pipeline[1].Runs.Value, "make check"},
		{"assertions", c.Pipeline[1].Assertions.RequiredSteps.Value, int64(2)},
		{"needs", fmt.Sprint(values(c.Pipeline[2].Needs.Packages)), "[make]"},
		{"inputs", c.Pipeline[2].Inputs[0].Name.Value + " " + c.Pipeline[2].Inputs[0].Default.Value, "unused x"},

		// Subpackages.
		{"range", sp.Range.Value, "flavours"},
		{"subpackage name", sp.Name.Value, "hello-${{range.key}}"},
		{"subpackage if", sp.If.Value, "${{range.key}} != 'none'"},
		{"subpackage fields", sp.URL.Value + " " + sp.Commit.Value + " " + sp.Annotations[0].Value.Value + " " + sp.Scriptlets.PostInstall.Value +
			" " + sp.Checks.Disabled[0].Value + " " + sp.SetCap[0].Reason.Value, "https://example.com/flavours abc b : usrlocal locks memory"},
		{"subpackage options", sp.Options.NoProvides.Value, true},
		{"subpackage uses", sp.Pipeline[0].Uses.Value, "split/dev"},
		{"subpackage test", sp.Test.Pipeline[0].Runs.Value, "hello"},
		{"test uses", c.Test.Pipeline[0].Uses.Value, "test/version"},
		{"update seen", c.Update.Pos.String(), "full.yaml:158:3"},
		{"update.github.tag-filter", c.Update.GitHubTagFilter.Pos.String() + " " + c.Update.GitHubTagFilter.Value, "full.yaml:161:5 v"},
	}
	for _, tt := range tests {
		if fmt.Sprint(tt.got) != fmt.Sprint(tt.want) {
			t.Errorf("%s = %v, want %v", tt.what, tt.got, tt.want)
		}
	}
}

func values(l []Str) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = s.Value
	}
	return out
}

const minimal = "package: {name: a, version: 1}\n"

// wantError checks err's exact text and that it is positioned.
func wantError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", want)
	}
	var ye *yamlnode.Error
	if !errors.As(err, &ye) || ye.File == "" || ye.Line < 1 || ye.Column < 1 {
		t.Errorf("error %q is not positioned", err)
	}
	if err.Error() != want {
		t.Errorf("error\n got: %s\nwant: %s", err, want)
	}
}

const (
	topKnown     = "capabilities, data, environment, options, package, pipeline, subpackages, test, update, var-transforms, vars"
	stepKnown    = "assertions, environment, if, inputs, label, name, needs, pipeline, runs, uses, with, working-directory"
	packageKnown = "annotations, checks, commit, copyright, cpe, dependencies, description, epoch, name, options, resources, scriptlets, setcap, target-architecture, test-resources, timeout, url, version"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc, err string
	}{
		{"unknown top-level field", minimal + "pipelines: []\n",
			`m.yaml:2:1: unknown field "pipelines" (known: ` + topKnown + `); did you mean "pipeline"?`},
		{"unknown package field", "package: {name: a, version: 1, licence: x}\n",
			`m.yaml:1:32: package: unknown field "licence" (known: ` + packageKnown + `)`},
		{"unknown step field", minimal + "pipeline:\n  - runs: x\n    workdir: y\n",
			`m.yaml:4:5: pipeline[0]: unknown field "workdir" (known: ` + stepKnown + `)`},
		{"unknown nested step field", minimal + "pipeline:\n  - pipeline:\n      - rnus: x\n",
			`m.yaml:4:9: pipeline[0].pipeline[0]: unknown field "rnus" (known: ` + stepKnown + `); did you mean "runs"?`},
		{"step description only in pipeline files", minimal + "pipeline:\n  - runs: x\n    description: y\n",
			`m.yaml:4:5: pipeline[0]: unknown field "description" (known: ` + stepKnown + `)`},
		{"unknown subpackage field", minimal + "subpackages:\n  - name: b\n    depends: {}\n",
			`m.yaml:4:5: subpackages[0]: unknown field "depends" (known: annotations, checks, commit, dependencies, description, if, name, options, pipeline, range, scriptlets, setcap, test, url)`},
		{"unknown copyright field", "package: {name: a, version: 1, copyright: [{licence: MIT}]}\n",
			`m.yaml:1:45: package.copyright[0]: unknown field "licence" (known: attestation, detection-override, license, license-path, paths); did you mean "license"?`},
		{"unknown dependencies field", "package: {name: a, version: 1, dependencies: {provide: [x]}}\n",
			`m.yaml:1:47: package.dependencies: unknown field "provide" (known: provider-priority, provides, replaces, replaces-priority, runtime); did you mean "provides"?`},
		{"unknown package option", "package: {name: a, version: 1, options: {no-provide: true}}\n",
			`m.yaml:1:42: package.options: unknown field "no-provide" (known: no-commands, no-depends, no-provides, no-versioned-shlib-deps); did you mean "no-provides"?`},
		{"unknown scriptlet", "package: {name: a, version: 1, scriptlets: {postinstall: x}}\n",
			`m.yaml:1:45: package.scriptlets: unknown field "postinstall" (known: post-deinstall, post-install, post-upgrade, pre-deinstall, pre-install, pre-upgrade, trigger); did you mean "post-install"?`},
		{"unknown test field", minimal + "test:\n  pipelines: []\n",
			`m.yaml:3:3: test: unknown field "pipelines" (known: environment, pipeline); did you mean "pipeline"?`},
		{"unknown data field", minimal + "data:\n  - name: d\n    item: {}\n",
			`m.yaml:4:5: data[0]: unknown field "item" (known: items, name); did you mean "items"?`},
		{"unknown var-transforms field", minimal + "var-transforms:\n  - {from: a, match: b, replace: c, into: d}\n",
			`m.yaml:3:37: var-transforms[0]: unknown field "into" (known: from, match, replace, to); did you mean "to"?`},
		{"unknown build option field", minimal + "options:\n  o:\n    env: {}\n",
			`m.yaml:4:5: options.o: unknown field "env" (known: environment, vars)`},
		{"unknown input field", minimal + "pipeline:\n  - inputs: {a: {default: x, optional: true}}\n",
			`m.yaml:3:30: pipeline[0].inputs.a: unknown field "optional" (known: default, description, required)`},
		{"unknown environment field", minimal + "environment:\n  contents:\n    pacakges: []\n",
			`m.yaml:4:5: environment.contents: unknown field "pacakges" (known: baseimage, build_repositories, keyring, packages, repositories, runtime_keyring, runtime_repositories); did you mean "packages"?`},
		{"unknown test environment field", minimal + "test:\n  environment:\n    contnets: {}\n",
			`m.yaml:4:5: test.environment: unknown field "contnets" (known: accounts, annotations, archs, certificates, cmd, contents, entrypoint, environment, format, include, layering, paths, stop-signal, vcs-url, volumes, work-dir); did you mean "contents"?`},
		{"environment value checked with references read as 0", minimal + "environment:\n  contents:\n    packages: ['${{package.name}}-dev=>${{package.version}}']\n",
			`m.yaml:4:16: environment.contents.packages[0]: invalid dependency "0-dev=>0": unknown operator "=>" (written "${{package.name}}-dev=>${{package.version}}"; each ${{...}} was read as "0" to check it)`},

		// Types.
		{"top-level list", "- a\n", "m.yaml:1:1: expected a mapping at the top level, got a list"},
		{"epoch string", "package: {name: a, version: 1, epoch: '1'}\n", `m.yaml:1:39: package.epoch: expected an integer, got string "1" (remove the quotes)`},
		{"epoch negative", "package: {name: a, version: 1, epoch: -1}\n", "m.yaml:1:39: package.epoch: epoch -1 is negative"},
		{"timeout number", "package: {name: a, version: 1, timeout: 60}\n", "m.yaml:1:41: package.timeout: expected a duration like 90m or 2h, got integer 60"},
		{"timeout bad", "package: {name: a, version: 1, timeout: soon}\n", `m.yaml:1:41: package.timeout: expected a duration like 90m or 2h, got string "soon"`},
		{"with list", minimal + "pipeline:\n  - uses: x\n    with: [a]\n", "m.yaml:4:11: pipeline[0].with: expected a mapping, got a list"},
		{"with nested mapping", minimal + "pipeline:\n  - uses: x\n    with: {a: {b: c}}\n", "m.yaml:4:15: pipeline[0].with.a: expected a string, got a mapping"},
		{"required not bool", minimal + "pipeline:\n  - inputs: {a: {required: 1}}\n", "m.yaml:3:28: pipeline[0].inputs.a.required: expected true or false, got integer 1"},
		{"runs list", minimal + "pipeline:\n  - runs: [a]\n", "m.yaml:3:11: pipeline[0].runs: expected a string, got a list"},
		{"pipeline mapping", minimal + "pipeline:\n  runs: a\n", "m.yaml:3:3: pipeline: expected a list, got a mapping"},
		{"required-steps negative", minimal + "pipeline:\n  - assertions: {required-steps: -1}\n", "m.yaml:3:34: pipeline[0].assertions.required-steps: -1 is negative"},
		{"update not a mapping", minimal + "update: yes\n", `m.yaml:2:9: update: expected a mapping, got string "yes"`},
		{"duplicate key", "package: {name: a, version: 1, name: b}\n", `m.yaml:1:32: package: duplicate key "name" (first at line 1)`},
		{"empty file", "", "m.yaml:1:1: no YAML document (the file is empty or only comments)"},

		// Whole-config checks.
		{"no package", "pipeline: []\n", "m.yaml:1:1: package: missing; a melange configuration needs package.name and package.version"},
		{"no name", "package: {version: 1}\n", "m.yaml:1:10: package.name: missing or empty"},
		{"no version", "package: {name: a}\n", "m.yaml:1:10: package.version: missing or empty"},
		{"with without uses", minimal + "pipeline:\n  - runs: x\n    with: {a: b}\n", "m.yaml:4:12: pipeline[0]: with: needs uses: (with gives inputs to a pipeline)"},
		{"uses and runs", minimal + "pipeline:\n  - uses: x\n    runs: y\n", "m.yaml:4:11: pipeline[0]: a step has either uses: or runs:, not both"},
		{"uses outside the directory", minimal + "pipeline:\n  - uses: ../x\n", `m.yaml:3:11: uses: invalid pipeline name "../x" (want a relative path like go/build, without '..')`},
		{"uses absolute", minimal + "test:\n  pipeline:\n    - pipeline:\n      - uses: /etc/x\n", `m.yaml:5:15: uses: invalid pipeline name "/etc/x" (want a relative path like go/build, without '..')`},
		{"range of unknown data", minimal + "data: [{name: d, items: {a: b}}]\nsubpackages:\n  - {name: x, range: e}\n",
			`m.yaml:4:22: subpackages[0].range: no data named "e" (known: d)`},
		{"data twice", minimal + "data: [{name: d}, {name: d}]\n", "m.yaml:2:26: data[1]: data \"d\" is defined twice (first at m.yaml:2:15)"},
		{"subpackage without name", minimal + "subpackages: [{description: x}]\n", "m.yaml:2:15: subpackages[0]: name: missing or empty"},
		{"transform without to", minimal + "var-transforms: [{from: a, match: b, replace: c}]\n", "m.yaml:2:18: var-transforms[0]: to: missing or empty (it names the var to set)"},
		{"transform bad regexp", minimal + "var-transforms: [{from: a, match: '(', replace: c, to: d}]\n",
			"m.yaml:2:35: var-transforms[0].match: error parsing regexp: missing closing ): `(`"},
		{"setcap unknown capability", "package: {name: a, version: 1, setcap: [{path: /x, add: {cap_chown: ep}, reason: r}]}\n",
			"m.yaml:1:58: package.setcap[0].add: unknown capability \"cap_chown\" (known: cap_ipc_lock, cap_net_admin, cap_net_bind_service, cap_net_raw, cap_sys_admin)"},
		{"setcap without reason", minimal + "subpackages: [{name: b, setcap: [{path: /x, add: {cap_net_raw: ep}}]}]\n",
			"m.yaml:2:34: subpackages[0].setcap[0]: reason: missing; say why the capability is needed"},
		{"cpe vendor alone", "package: {name: a, version: 1, cpe: {vendor: v}}\n", "m.yaml:1:37: package.cpe: vendor and product are set together or not at all"},
		{"cpe hardware", "package: {name: a, version: 1, cpe: {part: h}}\n", `m.yaml:1:44: package.cpe.part: "h" is not one of a, o (most packages are 'a')`},
		{"steps contain themselves", minimal + "pipeline: &p\n  - pipeline: *p\n", "m.yaml:3:15: pipeline[0].pipeline: this list of steps contains itself (through an alias)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("m.yaml", []byte(tt.doc))
			wantError(t, err, tt.err)
		})
	}
}

func TestParseAliasesDecodeOnce(t *testing.T) {
	// Each level lists the previous one ten times; decoding or checking
	// every occurrence would take 10^9 steps.
	doc := "package: {name: a, version: 1}\nsubpackages:\n  - name: s0\n    pipeline: &l0 [{runs: x}]\n"
	for i := 1; i <= 9; i++ {
		items := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("{pipeline: *l%d}, ", i-1), 10), ", ")
		doc += fmt.Sprintf("  - name: s%d\n    pipeline: &l%d [%s]\n", i, i, items)
	}
	c, err := Parse("m.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.Subpackages[9].Pipeline); n != 10 {
		t.Errorf("top level has %d steps, want 10", n)
	}
}

func TestParsePipeline(t *testing.T) {
	tests := []struct {
		name, doc, err string
		check          func(t *testing.T, pf *PipelineFile)
	}{
		{name: "definition", doc: `name: Build it
description: builds
needs:
  packages: [make, "${{inputs.cc}}"]
inputs:
  cc:
    description: the compiler
    default: gcc
  target:
    required: true
pipeline:
  - name: make
    description: steps in definitions may say what they do
    runs: make ${{inputs.target}} CC=${{inputs.cc}}
`, check: func(t *testing.T, pf *PipelineFile) {
			got := fmt.Sprint(pf.Name.Value, "|", pf.Description.Value, "|", values(pf.Needs.Packages), "|", pf.Inputs[0].Name.Value, "=", pf.Inputs[0].Default.Value,
				"|", pf.Inputs[1].Name.Value, " required=", pf.Inputs[1].Required.Value, "|", pf.Pipeline[0].Runs.Value, "|", pf.Pipeline[0].Runs.Pos)
			want := "Build it|builds|[make ${{inputs.cc}}]|cc=gcc|target required=true|make ${{inputs.target}} CC=${{inputs.cc}}|p.yaml:14:11"
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		}},
		{name: "runs at the top", doc: "runs: echo hi\n", check: func(t *testing.T, pf *PipelineFile) {
			if pf.Runs.Value != "echo hi" {
				t.Errorf("runs = %q", pf.Runs.Value)
			}
		}},
		{name: "empty file", doc: "# nothing here\n", check: func(t *testing.T, pf *PipelineFile) {
			if pf.Runs.Value != "" || len(pf.Pipeline) != 0 || pf.File != "p.yaml" {
				t.Errorf("empty definition parsed as %+v", pf)
			}
		}},
		{name: "uses at the top", doc: "uses: other\n",
			err: `p.yaml:1:1: unknown field "uses" (known: assertions, description, environment, if, inputs, label, name, needs, pipeline, runs, working-directory)`},
		{name: "unknown input field", doc: "inputs:\n  a:\n    defualt: x\n",
			err: `p.yaml:3:5: inputs.a: unknown field "defualt" (known: default, description, required); did you mean "default"?`},
		{name: "with without uses", doc: "pipeline:\n  - runs: x\n    with: {a: b}\n",
			err: "p.yaml:3:12: pipeline[0]: with: needs uses: (with gives inputs to a pipeline)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf, err := ParsePipeline("p.yaml", []byte(tt.doc))
			if tt.err != "" {
				wantError(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, pf)
		})
	}
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("full.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
