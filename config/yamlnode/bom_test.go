package yamlnode

import (
	"fmt"
	"testing"

	"gopkg.in/yaml.v3"
)

const bom = "\ufeff"

// positions lists every node's line:column, in document order.
func positions(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	s := fmt.Sprintf("%d:%d ", n.Line, n.Column)
	for _, c := range n.Content {
		s += positions(c)
	}
	return s
}

// A UTF-8 byte-order mark before a document (editors on Windows write
// one; apko reads such files) changes nothing: the same nodes at the same
// positions, the same errors at the same positions. Editors do not show
// the mark, so the columns of line 1 count from the character after it.
func TestLeadingBOM(t *testing.T) {
	tests := []struct {
		name, doc string
		err       string // "" when the document parses
	}{
		{"mapping", "a: 1\nb:\n  c: [x, y]\n", ""},
		{"syntax comment", "# syntax=ghcr.io/kiln-build/kiln:v0\ncontents:\n  packages: [busybox]\n", ""},
		{"explicit start", "---\na: 1\n", ""},
		{"only a BOM", "", "t.yaml:1:1: no YAML document (the file is empty or only comments)"},
		{"syntax error on line 1, indented", "  a: [\n", "t.yaml:1:3: invalid YAML: did not find expected node content"},
		{"control character on line 1", "ab: x\x01y\n", "t.yaml:1:6: invalid YAML: control characters are not allowed"},
		{"bad UTF-8 on line 1", "abc: \xff\n", "t.yaml:1:6: invalid YAML: invalid leading UTF-8 octet"},
		{"control character on line 2", "a: 1\nb: x\x01y\n", "t.yaml:2:5: invalid YAML: control characters are not allowed"},
		{"second document", "a: 1\n---\nb: 2\n", "t.yaml:2:1: a second YAML document starts here; the file must hold exactly one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain, plainErr := Parse("t.yaml", []byte(tt.doc))
			marked, markedErr := Parse("t.yaml", []byte(bom+tt.doc))
			if tt.err == "" {
				if plainErr != nil || markedErr != nil {
					t.Fatalf("errors without BOM %v, with BOM %v", plainErr, markedErr)
				}
				if p, m := positions(plain), positions(marked); p != m {
					t.Errorf("positions with BOM %s, without %s", m, p)
				}
				return
			}
			wantErr(t, plainErr, tt.err)
			wantErr(t, markedErr, tt.err)
		})
	}
}
