package melange

import (
	"bytes"
	"errors"
	"io"

	"gopkg.in/yaml.v3"

	"github.com/kiln-build/kiln/config/yamlnode"
)

// PipelineFile is a reusable pipeline definition: the file a step's
// `uses: NAME` loads, NAME.yaml in a pipeline directory. Its Step holds
// the name, needs, inputs and steps (or runs) of the definition.
type PipelineFile struct {
	File string
	Step
}

// ParsePipeline reads a pipeline definition. An empty file is an empty
// pipeline, as in melange. A definition cannot itself be a `uses:`.
func ParsePipeline(file string, data []byte) (*PipelineFile, error) {
	pf := &PipelineFile{File: file}
	root, err := yamlnode.Parse(file, data)
	if err != nil {
		if empty(data) {
			return pf, nil
		}
		return nil, err
	}
	p := newParser(file)
	p.pipelineFile = true
	pf.Pos = p.pos(root)
	fields := p.stepFields(&pf.Step, 0)
	delete(fields, "uses")
	delete(fields, "with")
	if err := p.d.Mapping(root, "", fields); err != nil {
		return nil, err
	}
	if err := checkSteps(pf.Pipeline, "pipeline"); err != nil {
		return nil, err
	}
	return pf, nil
}

// empty reports whether data holds no YAML document at all.
func empty(data []byte) bool {
	var doc yaml.Node
	err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc)
	return errors.Is(err, io.EOF)
}
