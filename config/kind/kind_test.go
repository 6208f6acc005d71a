package kind

import "testing"

func TestOf(t *testing.T) {
	for in, want := range map[string]Kind{
		"# syntax=x\ncontents:\n  packages: [a]\n":           Apko,
		"package:\n  name: x\n":                              Melange,
		"# a comment\npipeline:\n  - runs: x\npackage: {}\n": Melange,
		"environment:\n  contents: {}\npackage: {}\n":        Melange, // nested contents: is not top-level
		"\ufeffcontents:\n  packages: [a]\n":                 Apko,    // an editor's byte-order mark
		"\ufeffpackage:\n  name: x\n":                        Melange,
		"foo: bar\n":                                         Unknown,
	} {
		if got := Of([]byte(in)); got != want {
			t.Errorf("Of(%q) = %v, want %v", in, got, want)
		}
	}
}
