package melange

import (
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"

	config "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/config/yamlnode"
)

// PipelineDir is a directory of pipeline definitions: `uses: go/build`
// reads go/build.yaml from it.
type PipelineDir struct {
	// Name starts the file names in positions and messages
	// ("pipelines" gives pipelines/go/build.yaml:12:5).
	Name string
	FS   fs.FS
}

// library finds and parses the definitions `uses:` names, each once.
type library struct {
	dirs   []PipelineDir
	files  map[string]*config.PipelineFile
	listed []string // every definition name, for "did you mean"
}

func newLibrary(dirs []PipelineDir) *library {
	return &library{dirs: dirs, files: map[string]*config.PipelineFile{}}
}

// load returns the definition uses names, from the first directory that
// has it, as melange searches --pipeline-dir before its built-ins.
func (l *library) load(uses Str) (*config.PipelineFile, error) {
	pf, found, err := l.find(uses)
	if err == nil && !found {
		err = l.notFound(uses)
	}
	return pf, err
}

// find is load that says whether a definition exists instead of failing
// when none does.
func (l *library) find(uses Str) (*config.PipelineFile, bool, error) {
	if pf, ok := l.files[uses.Value]; ok {
		return pf, true, nil
	}
	if err := config.CheckUses(uses); err != nil {
		return nil, false, err
	}
	rel := uses.Value + ".yaml"
	for _, d := range l.dirs {
		if d.FS == nil {
			continue
		}
		data, err := fs.ReadFile(d.FS, rel)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		name := path.Join(d.Name, rel)
		if err != nil {
			return nil, false, uses.Pos.Errorf("uses: reading %s: %v", name, err)
		}
		pf, err := config.ParsePipeline(name, data)
		if err != nil {
			return nil, false, err
		}
		l.files[uses.Value] = pf
		return pf, true, nil
	}
	return nil, false, nil
}

// suggest is the definition name closest to a misspelt one, or "".
func (l *library) suggest(name string) string { return yamlnode.Closest(name, l.names()) }

func (l *library) notFound(uses Str) error {
	var where []string
	for _, d := range l.dirs {
		if d.FS != nil {
			where = append(where, d.Name)
		}
	}
	msg := "uses: no pipeline " + `"` + uses.Value + `"`
	if len(where) == 0 {
		msg += " (no pipeline directories were given)"
	} else {
		msg += " (looked for " + uses.Value + ".yaml in " + strings.Join(where, ", ") + ")"
	}
	if c := yamlnode.Closest(uses.Value, l.names()); c != "" {
		msg += `; did you mean "` + c + `"?`
	}
	return uses.Pos.Errorf("%s", msg)
}

// names lists the definitions in every directory.
func (l *library) names() []string {
	if l.listed != nil {
		return l.listed
	}
	l.listed = append([]string{}, builtinNames()...)
	for _, d := range l.dirs {
		if d.FS == nil {
			continue
		}
		_ = fs.WalkDir(d.FS, ".", func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() && strings.HasSuffix(p, ".yaml") {
				l.listed = append(l.listed, strings.TrimSuffix(p, ".yaml"))
			}
			return nil
		})
	}
	slices.Sort(l.listed)
	l.listed = slices.Compact(l.listed)
	return l.listed
}
