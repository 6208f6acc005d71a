package melange

import (
	"errors"
	"os"
	"strings"
	"testing"

	config "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/config/yamlnode"
)

// fixtures are the test pipeline definitions, as a pipeline directory.
var fixtures = PipelineDir{Name: "pipelines", FS: os.DirFS("testdata/pipelines")}

// compile parses doc as melange.yaml and plans it, for x86_64 and the
// fixture pipelines unless opts says otherwise.
func compile(t *testing.T, doc string, opts Options) (*Plan, error) {
	t.Helper()
	c, err := config.Parse("melange.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if opts.Arch == "" {
		opts.Arch = "x86_64"
	}
	if opts.PipelineDirs == nil {
		opts.PipelineDirs = []PipelineDir{fixtures}
	}
	return Compile(c, opts)
}

func mustCompile(t *testing.T, doc string, opts Options) *Plan {
	t.Helper()
	p, err := compile(t, doc, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// scripts are the scripts of the Run steps, and the kind of other steps.
func scripts(steps []Step) []string {
	var out []string
	for _, s := range steps {
		switch s := s.(type) {
		case *Run:
			out = append(out, strings.TrimSuffix(s.Script, "\n"))
		case *Fetch:
			out = append(out, "fetch "+s.URI.Value)
		case *GitCheckout:
			out = append(out, "git-checkout "+s.Repository.Value)
		}
	}
	return out
}

func values(l []Str) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = s.Value
	}
	return out
}

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

const header = `package:
  name: hello
  version: 1.2.3
  epoch: 4
  description: says hi
`
