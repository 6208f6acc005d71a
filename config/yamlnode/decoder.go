package yamlnode

import (
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decoder decodes nodes of one file. It remembers merged mappings so a
// document that merges the same anchor many times costs linear time.
type Decoder struct {
	File string

	pairs   map[*yaml.Node][]Pair
	merging map[*yaml.Node]bool
}

// NewDecoder returns a Decoder whose positions and errors name file.
func NewDecoder(file string) *Decoder {
	return &Decoder{File: file, pairs: map[*yaml.Node][]Pair{}, merging: map[*yaml.Node]bool{}}
}

// Pos is where n was written. For an alias it is the alias itself.
func (d *Decoder) Pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: d.File}
	}
	return Pos{File: d.File, Line: n.Line, Column: n.Column}
}

// Errorf returns an *Error at n.
func (d *Decoder) Errorf(n *yaml.Node, format string, args ...any) error {
	return d.Pos(n).Errorf(format, args...)
}

// Pair is one key and value of a mapping.
type Pair struct {
	Key     string // as written
	KeyNode *yaml.Node
	Value   *yaml.Node
}

// Pairs returns the entries of a mapping in document order, with merge
// keys (<<) applied as YAML defines them: keys written in the mapping win
// over merged ones, and earlier mappings in a merged list win over later
// ones. Duplicate keys written in one mapping are an error. A null node
// has no pairs.
func (d *Decoder) Pairs(n *yaml.Node, path string) ([]Pair, error) {
	r := Resolve(n)
	if IsNull(r) {
		return nil, nil
	}
	if r.Kind != yaml.MappingNode {
		return nil, d.Errorf(n, "%sexpected a mapping%s, got %s", prefix(path), where(path), Describe(r))
	}
	if ps, ok := d.pairs[r]; ok {
		return ps, nil
	}
	if d.merging[r] {
		return nil, d.Errorf(n, "%smerge key (<<) merges a mapping into itself", prefix(path))
	}
	d.merging[r] = true
	defer delete(d.merging, r)

	var out []Pair
	seen := map[string]*yaml.Node{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(r.Content); i += 2 {
		k, v := r.Content[i], r.Content[i+1]
		rk := Resolve(k)
		if rk.Kind != yaml.ScalarNode {
			return nil, d.Errorf(k, "%smapping keys must be plain values, got %s", prefix(path), Describe(rk))
		}
		if prev, dup := seen[rk.Value]; dup {
			return nil, d.Errorf(k, "%sduplicate key %q (first at line %d)", prefix(path), rk.Value, prev.Line)
		}
		seen[rk.Value] = k
		if rk.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		out = append(out, Pair{Key: rk.Value, KeyNode: k, Value: v})
	}
	for _, m := range merges {
		srcs, err := d.mergeSources(m, path)
		if err != nil {
			return nil, err
		}
		for _, src := range srcs {
			ps, err := d.Pairs(src, path)
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				if _, ok := seen[p.Key]; ok {
					continue
				}
				seen[p.Key] = p.KeyNode
				out = append(out, p)
			}
		}
	}
	d.pairs[r] = out
	return out, nil
}

// mergeSources returns the mappings a merge key's value names.
func (d *Decoder) mergeSources(m *yaml.Node, path string) ([]*yaml.Node, error) {
	bad := func(n *yaml.Node) error {
		return d.Errorf(n, "%smerge key (<<) needs a mapping or a list of mappings, got %s", prefix(path), Describe(n))
	}
	r := Resolve(m)
	switch r.Kind {
	case yaml.MappingNode:
		return []*yaml.Node{m}, nil
	case yaml.SequenceNode:
		for _, e := range r.Content {
			if Resolve(e).Kind != yaml.MappingNode {
				return nil, bad(e)
			}
		}
		return r.Content, nil
	}
	return nil, bad(m)
}

// Field decodes the value of one mapping key; path names it in messages.
type Field func(value *yaml.Node, path string) error

// Fields maps the keys a mapping may have to their decoders.
type Fields map[string]Field

// Known lists the field names, sorted.
func (f Fields) Known() []string {
	out := make([]string, 0, len(f))
	for k := range f {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Mapping decodes a mapping (or null, which has no fields) by calling the
// decoder of each key in document order. Unknown keys are errors that
// list the known ones. Null values are skipped, as if the key were absent.
func (d *Decoder) Mapping(n *yaml.Node, path string, fields Fields) error {
	pairs, err := d.Pairs(n, path)
	if err != nil {
		return err
	}
	for _, p := range pairs {
		f, ok := fields[p.Key]
		if !ok {
			known := fields.Known()
			msg := ""
			if c := closest(p.Key, known); c != "" {
				msg = "; did you mean " + `"` + c + `"?`
			}
			return d.Errorf(p.KeyNode, "%sunknown field %q (known: %s)%s", prefix(path), p.Key, strings.Join(known, ", "), msg)
		}
		if IsNull(p.Value) {
			continue
		}
		if err := f(p.Value, Join(path, p.Key)); err != nil {
			return err
		}
	}
	return nil
}

// Seq returns the items of a list (none for null).
func (d *Decoder) Seq(n *yaml.Node, path string) ([]*yaml.Node, error) {
	r := Resolve(n)
	if IsNull(r) {
		return nil, nil
	}
	if r.Kind != yaml.SequenceNode {
		return nil, d.Errorf(n, "%sexpected a list%s, got %s", prefix(path), where(path), Describe(r))
	}
	return r.Content, nil
}

// Each decodes every item of a list (none for null) with one, which is
// given the item's path ("contents.packages[2]") for its errors.
func (d *Decoder) Each(n *yaml.Node, path string, one func(n *yaml.Node, path string) error) error {
	items, err := d.Seq(n, path)
	if err != nil {
		return err
	}
	for i, it := range items {
		if err := one(it, Index(path, i)); err != nil {
			return err
		}
	}
	return nil
}
