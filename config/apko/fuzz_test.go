package apko

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
		"contents:\n  packages: [a, 'b>=1', '!c', d@t]\n  repositories: ['@t /x']\n",
		"environment: &e {A: 1}\nannotations: {<<: *e, B: 2}\n",
		"environment: &e {A: 1, <<: *e}\n",
		"paths: [{path: /a, type: directory, permissions: 0o755, uid: -1}]\n",
		"accounts: {users: [{username: a, uid: 0}], run-as: 'a:'}\n",
		"layering: {strategy: origin, budget: 0}\nformat: erofs\n",
		"a: 1\n---\nb: 2\n",
		"cmd: \"x\x01\"\n",
		"certificates: {additional: [{name: a, content: x}]}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("apko.yaml", data)
		if err != nil {
			checkPositioned(t, err)
			return
		}
		for _, p := range c.Contents.Packages {
			if !p.Pos.IsValid() {
				t.Fatalf("package %q has no position", p.Value)
			}
		}
		if err := c.Validate(); err != nil {
			checkPositioned(t, err)
		}
	})
}

func checkPositioned(t *testing.T, err error) {
	t.Helper()
	var ye *yamlnode.Error
	if !errors.As(err, &ye) || ye.File != "apko.yaml" || ye.Line < 1 || ye.Column < 1 {
		t.Fatalf("error without a position: %v", err)
	}
}
