package yamlnode

import (
	"errors"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzDecode parses any document and decodes every node every way,
// following aliases and merge keys: nothing may panic or hang, and every
// error must be positioned.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"a: 1\nb: [x, 3.10, ~]\n",
		"base: &b {x: 1}\ntop: {<<: *b, y: 2}\n",
		"t: &t {a: 1, <<: *t}\n",
		"l: &l [a, *l]\n",
		"m: {<<: [{a: 1}, {a: 2, b: 3}]}\n",
		"n: 0o755\nb: yes\nq: '12'\n",
		"? [a]\n: b\n",
		"a: !!binary aGk=\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := Parse("f.yaml", data)
		if err != nil {
			positioned(t, err)
			return
		}
		d := NewDecoder("f.yaml")
		seen := map[*yaml.Node]bool{}
		var walk func(n *yaml.Node, depth int)
		walk = func(n *yaml.Node, depth int) {
			n = Resolve(n)
			if n == nil || seen[n] || depth > 50 {
				return
			}
			seen[n] = true
			for _, e := range []error{
				func() error { _, err := d.Pairs(n, "p"); return err }(),
				func() error { _, err := d.StringMap(n, "p"); return err }(),
				func() error { _, err := d.StringList(n, "p"); return err }(),
				func() error { _, err := d.String(n, "p"); return err }(),
				func() error { _, err := d.Int(n, "p"); return err }(),
				func() error { _, err := d.FileMode(n, "p"); return err }(),
				func() error { _, err := d.Uint32(n, "p"); return err }(),
				func() error { _, err := d.Bool(n, "p"); return err }(),
			} {
				if e != nil {
					positioned(t, e)
				}
			}
			for _, c := range n.Content {
				walk(c, depth+1)
			}
		}
		walk(root, 0)
	})
}

func positioned(t *testing.T, err error) {
	t.Helper()
	var ye *Error
	if !errors.As(err, &ye) || ye.File != "f.yaml" || ye.Line < 1 || ye.Column < 1 {
		t.Fatalf("error without a position: %v", err)
	}
}
