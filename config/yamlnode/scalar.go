package yamlnode

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Scalar is a string value exactly as written, with where it was written.
type Scalar struct {
	Value string
	Pos   Pos
}

// KV is one entry of a string-to-string mapping.
type KV struct {
	Key   Scalar
	Value Scalar
}

// scalar resolves n and checks that it is a scalar; want names the
// expected type for the error.
func (d *Decoder) scalar(n *yaml.Node, path, want string) (*yaml.Node, error) {
	r := Resolve(n)
	if r == nil || r.Kind != yaml.ScalarNode {
		return nil, d.Errorf(n, "%sexpected %s%s, got %s", prefix(path), want, where(path), Describe(r))
	}
	return r, nil
}

// String returns a scalar exactly as written: `3.10`, `00303`, `1e3` and
// `true` are the strings "3.10", "00303", "1e3" and "true". Null is "",
// as in apko. Lists, mappings and !!binary values are errors. The
// position is where the text is, which for an alias is its anchor.
func (d *Decoder) String(n *yaml.Node, path string) (Scalar, error) {
	r, err := d.scalar(n, path, "a string")
	if err != nil {
		return Scalar{}, err
	}
	if IsNull(r) {
		return Scalar{Value: "", Pos: d.Pos(r)}, nil
	}
	if r.ShortTag() == "!!binary" {
		return Scalar{}, d.Errorf(n, "%s!!binary values are not supported; write the text", prefix(path))
	}
	return Scalar{Value: r.Value, Pos: d.Pos(r)}, nil
}

// StringList decodes a list of strings (null is an empty list).
func (d *Decoder) StringList(n *yaml.Node, path string) ([]Scalar, error) {
	items, err := d.Seq(n, path)
	if err != nil {
		return nil, err
	}
	out := make([]Scalar, 0, len(items))
	for i, it := range items {
		s, err := d.String(it, Index(path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// StringMap decodes a mapping of strings to strings, keeping document
// order (merged keys after written ones). Null values are "".
func (d *Decoder) StringMap(n *yaml.Node, path string) ([]KV, error) {
	pairs, err := d.Pairs(n, path)
	if err != nil {
		return nil, err
	}
	out := make([]KV, 0, len(pairs))
	for _, p := range pairs {
		v, err := d.String(p.Value, Join(path, p.Key))
		if err != nil {
			return nil, err
		}
		out = append(out, KV{Key: Scalar{Value: p.Key, Pos: d.Pos(Resolve(p.KeyNode))}, Value: v})
	}
	return out, nil
}

// Int decodes an integer the way YAML (and yaml.v3) reads one: decimal,
// 0x hex, 0o or leading-0 octal, 0b binary, with optional sign and _
// separators. Quoted values are strings and floats are not integers, so
// both are errors rather than silently converted.
func (d *Decoder) Int(n *yaml.Node, path string) (int64, error) {
	r, err := d.scalar(n, path, "an integer")
	if err != nil {
		return 0, err
	}
	if r.ShortTag() != "!!int" {
		hint := ""
		if r.ShortTag() == "!!str" && r.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			if _, ok := parseInt(r.Value); ok {
				hint = " (remove the quotes)"
			}
		}
		return 0, d.Errorf(n, "%sexpected an integer, got %s%s", prefix(path), Describe(r), hint)
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(r.Value, "_", ""), 0, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, d.Errorf(r, "%sinteger %s is out of range", prefix(path), r.Value)
		}
		return 0, d.Errorf(r, "%sinvalid integer %q", prefix(path), r.Value)
	}
	return v, nil
}

// parseInt reads YAML integer syntax into an int64.
func parseInt(s string) (int64, bool) {
	plain := strings.ReplaceAll(s, "_", "")
	v, err := strconv.ParseInt(plain, 0, 64)
	return v, err == nil
}

// Uint32 decodes a non-negative integer that fits in 32 bits (uids, gids).
func (d *Decoder) Uint32(n *yaml.Node, path string) (uint32, error) {
	v, err := d.Int(n, path)
	if err != nil {
		return 0, err
	}
	r := Resolve(n)
	if v < 0 {
		return 0, d.Errorf(r, "%s%s is negative", prefix(path), r.Value)
	}
	if v > 1<<32-1 {
		return 0, d.Errorf(r, "%s%s is too large (at most 4294967295)", prefix(path), r.Value)
	}
	return uint32(v), nil
}

// FileMode decodes Unix permission bits as written in apko and melange
// configs: an integer, normally octal (0o755 or 0755); a plain decimal is
// taken as decimal, as YAML defines. Bits above 0o7777 are an error.
func (d *Decoder) FileMode(n *yaml.Node, path string) (uint32, error) {
	v, err := d.Int(n, path)
	if err != nil {
		return 0, err
	}
	if v < 0 || v > 0o7777 {
		r := Resolve(n)
		return 0, d.Errorf(r, "%spermissions %s out of range (0 to 0o7777)", prefix(path), r.Value)
	}
	return uint32(v), nil
}

// Bool decodes true/false in YAML's spellings, plus the YAML 1.1 words
// (yes/no, on/off, y/n) that yaml.v3 accepts for boolean fields.
func (d *Decoder) Bool(n *yaml.Node, path string) (bool, error) {
	r, err := d.scalar(n, path, "a boolean")
	if err != nil {
		return false, err
	}
	if r.ShortTag() == "!!bool" {
		if b, err := strconv.ParseBool(strings.ToLower(r.Value)); err == nil {
			return b, nil
		}
	}
	switch r.Value {
	case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON":
		return true, nil
	case "n", "N", "no", "No", "NO", "off", "Off", "OFF":
		return false, nil
	}
	return false, d.Errorf(n, "%sexpected true or false, got %s", prefix(path), Describe(r))
}
