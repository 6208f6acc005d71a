package melange

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kiln-build/kiln/config/yamlnode"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"package: {name: a, version: 3.10, epoch: 0}\n",
		"package: {name: a, version: 1}\npipeline:\n  - uses: fetch\n    with: {uri: 'x${{package.version}}'}\n",
		"package: {name: a, version: 1}\npipeline: &p\n  - pipeline: *p\n",
		"package: {name: a, version: 1}\nenvironment: {contents: {packages: ['${{vars.x}}-dev', '${{']}}\n",
		"package: {name: a, version: 1}\ndata: [{name: d, items: {a: b}}]\nsubpackages: [{name: 'x-${{range.key}}', range: d}]\n",
		"package: {name: a, version: 1, timeout: 1h, setcap: [{path: /x, add: {cap_net_raw: ep}, reason: r}]}\n",
		"package: {name: a, version: 1}\nvar-transforms: [{from: x, match: '(', replace: y, to: z}]\n",
		"package: {name: a, version: 1}\noptions: {o: {vars: {a: b}, environment: {contents: {packages: {add: [x]}}}}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("melange.yaml", data)
		if err != nil {
			checkPositioned(t, err, "melange.yaml")
			return
		}
		if !c.Package.Name.Pos.IsValid() || !c.Package.Version.Pos.IsValid() {
			t.Fatalf("package name or version without a position: %+v", c.Package)
		}
		if c.Environment != nil {
			if _, err := c.Environment.Resolve(func(s Str, _ string) (Str, error) {
				s.Value = placeholders(s.Value)
				return s, nil
			}); err != nil {
				t.Fatalf("environment checked when parsed fails to resolve: %v", err)
			}
		}
	})
}

func FuzzParsePipeline(f *testing.F) {
	for _, s := range []string{
		"name: x\nneeds: {packages: [a]}\ninputs: {a: {default: b, required: true}}\npipeline: [{runs: 'echo ${{inputs.a}}'}]\n",
		"runs: x\n",
		"# empty\n",
		"pipeline: &p [{pipeline: *p}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ParsePipeline("p.yaml", data); err != nil {
			checkPositioned(t, err, "p.yaml")
		}
	})
}

func checkPositioned(t *testing.T, err error, file string) {
	t.Helper()
	var ye *yamlnode.Error
	if !errors.As(err, &ye) || ye.File != file || ye.Line < 1 || ye.Column < 1 {
		t.Fatalf("error without a position: %v", err)
	}
}
