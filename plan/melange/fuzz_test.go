package melange

import (
	"errors"
	"testing"

	config "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/config/yamlnode"
)

// FuzzCompile plans any configuration that parses, with the fixture
// pipelines: nothing may panic or run away, and every error but a skipped
// architecture must be positioned.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		substDoc("range", "${{range.key}} ${{vars.late}}"),
		header + "pipeline:\n  - uses: nest/outer\n    with: {compiler: '${{package.name}}'}\n  - if: ${{build.arch}} == 'x86_64'\n    runs: x\n",
		header + "pipeline:\n  - uses: fetch\n    with: {uri: 'u', expected-sha256: '${{vars.s}}'}\nvars: {s: '" + sha256hex + "'}\n",
		header + "pipeline:\n  - uses: git-checkout\n    with: {repository: r, branch: b, expected-commit: " + commit + ", cherry-picks: 'a/b: c'}\n",
		header + "vars: {a: '${{vars.b}}', b: '${{vars.a}}'}\npipeline: [{runs: '${{vars.a}}'}]\n",
		header + "data: [{name: d, items: {x: '${{range.key}}'}}]\nsubpackages: [{range: d, name: 's${{range.value}}', if: '\"${{range.key}}\" == \"x\"'}]\n",
		header + "pipeline: [{assertions: {required-steps: 1}, pipeline: [{runs: a}]}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse("melange.yaml", data)
		if err != nil {
			return
		}
		_, err = Compile(c, Options{Arch: "aarch64", PipelineDirs: []PipelineDir{fixtures}})
		if err == nil || errors.Is(err, ErrArchNotTargeted) {
			return
		}
		var ye *yamlnode.Error
		if !errors.As(err, &ye) || ye.File == "" || ye.Line < 1 || ye.Column < 1 {
			t.Fatalf("error without a position: %v", err)
		}
	})
}
