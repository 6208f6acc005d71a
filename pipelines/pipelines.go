package pipelines

import (
	"embed"
	"io/fs"
	"slices"
	"strings"

	"github.com/kiln-build/kiln/plan/melange"
)

// FS holds the definitions: `uses: go/build` is go/build.yaml.
//
//go:embed *.yaml */*.yaml */*/*.yaml
var FS embed.FS

// DirName names the directory in positions and messages
// (builtin/go/build.yaml:40:7).
const DirName = "builtin"

// Dir is the built-in definitions as a pipeline directory. Plans search
// it after the user's own directory, as melange searches --pipeline-dir
// before its built-ins.
func Dir() melange.PipelineDir {
	return melange.PipelineDir{Name: DirName, FS: FS}
}

// Names lists the definitions by the names `uses:` gives them, sorted.
func Names() []string {
	var out []string
	_ = fs.WalkDir(FS, ".", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(p, ".yaml") {
			out = append(out, strings.TrimSuffix(p, ".yaml"))
		}
		return nil
	})
	slices.Sort(out)
	return out
}
