package melange

import (
	"testing"

	config "github.com/kiln-build/kiln/config/melange"
)

// BenchmarkCompile plans a configuration with nested uses:, ranged
// subpackages, var-transforms and tests, parsed once.
func BenchmarkCompile(b *testing.B) {
	doc := header + `vars: {py: "3.12"}
var-transforms:
  - {from: "${{package.version}}", match: '\.', replace: _, to: underscored}
data:
  - name: pythons
    items: {"3.11": a, "3.12": b, "3.13": c}
pipeline:
  - uses: fetch
    with:
      uri: https://example.com/x-${{package.version}}.tar.gz
      expected-sha256: ` + sha256hex + `
  - uses: nest/outer
  - runs: make DESTDIR=${{targets.destdir}} V=${{vars.underscored}}
subpackages:
  - range: pythons
    name: py${{range.key}}-hello
    pipeline:
      - uses: greet
        with: {greeting: "${{range.value}}"}
    test:
      pipeline:
        - runs: python${{range.key}} -c 'import hello'
`
	c, err := config.Parse("melange.yaml", []byte(doc))
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Arch: "x86_64", PipelineDirs: []PipelineDir{fixtures}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(c, opts); err != nil {
			b.Fatal(err)
		}
	}
}
