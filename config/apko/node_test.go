package apko

import (
	"strings"
	"testing"

	"github.com/kiln-build/kiln/config/yamlnode"
)

// embedded parses doc and returns the decoder and the value of its
// "environment" key, as a host format embedding apko would.
func embedded(t *testing.T, doc string) (*yamlnode.Decoder, *Config, error) {
	t.Helper()
	root, err := yamlnode.Parse("melange.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	d := yamlnode.NewDecoder("melange.yaml")
	pairs, err := d.Pairs(root, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pairs {
		if p.Key == "environment" {
			c, err := ParseNode(d, p.Value, NodeOptions{Path: "environment", Expand: func(s Str, path string) (Str, error) {
				if strings.Contains(s.Value, "BAD") {
					return s, s.Pos.Errorf("%s: expansion refused %q", path, s.Value)
				}
				s.Value = strings.ReplaceAll(s.Value, "@V@", "3.10")
				return s, nil
			}})
			return d, c, err
		}
	}
	t.Fatal("no environment key")
	return nil, nil, nil
}

func TestParseNode(t *testing.T) {
	_, c, err := embedded(t, `package: {name: x}
environment:
  contents:
    repositories: [https://r/@V@]
    packages: [python-@V@, "py@V@-pip>=1"]
  environment:
    PY: "@V@"
  archs: [x86_64]
`)
	if err != nil {
		t.Fatal(err)
	}
	if c.File != "melange.yaml" {
		t.Errorf("File = %q", c.File)
	}
	got := []string{c.Contents.Repositories[0].URL, c.Contents.Packages[0].Dep.Name, c.Contents.Packages[1].Dep.Name,
		c.Contents.Packages[1].Dep.Version, c.Environment[0].Value.Value}
	want := []string{"https://r/3.10", "python-3.10", "py3.10-pip", "1", "3.10"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("expanded values %q, want %q", got, want)
	}
	if p := c.Contents.Packages[0].Pos.String(); p != "melange.yaml:5:16" {
		t.Errorf("package position %s", p)
	}
}

func TestParseNodeErrors(t *testing.T) {
	for _, tt := range []struct{ doc, err string }{
		{"environment:\n  contents:\n    pacakges: [a]\n",
			`melange.yaml:3:5: environment.contents: unknown field "pacakges" (known: ` + contentsKnown + `); did you mean "packages"?`},
		{"environment:\n  contents:\n    packages: [BAD]\n", `melange.yaml:3:16: environment.contents.packages[0]: expansion refused "BAD"`},
		{"environment:\n  environment:\n    A: BAD\n", `melange.yaml:3:8: environment.environment.A: expansion refused "BAD"`},
		// The expanded value is what is checked.
		{"environment:\n  contents:\n    packages: ['a=@V@=']\n", `melange.yaml:3:16: environment.contents.packages[0]: invalid dependency "a=3.10=": invalid version "3.10=": unexpected character at "="`},
		{"environment: [a]\n", "melange.yaml:1:14: environment: expected a mapping, got a list"},
	} {
		_, _, err := embedded(t, tt.doc)
		wantError(t, err, tt.err)
	}
}
