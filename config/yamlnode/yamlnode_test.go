package yamlnode

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// field parses doc and returns the value node of key at the top level.
func field(t *testing.T, doc, key string) (*Decoder, *yaml.Node) {
	t.Helper()
	root, err := Parse("t.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	d := NewDecoder("t.yaml")
	ps, err := d.Pairs(root, "")
	if err != nil {
		t.Fatalf("Pairs: %v", err)
	}
	for _, p := range ps {
		if p.Key == key {
			return d, p.Value
		}
	}
	t.Fatalf("no key %q", key)
	return nil, nil
}

func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	var ye *Error
	if !errors.As(err, &ye) || ye.Line < 1 || ye.Column < 1 {
		t.Errorf("error %q has no position", err)
	}
	if err.Error() != want {
		t.Errorf("error\n got: %s\nwant: %s", err, want)
	}
}

func TestParseDocument(t *testing.T) {
	tests := []struct {
		name, doc, err string
	}{
		{"syntax comment", "# syntax=ghcr.io/kiln-build/kiln:v0\na: 1\n", ""},
		{"explicit start", "---\na: 1\n", ""},
		{"trailing empty document", "a: 1\n---\n", ""},
		{"only three dashes", "---\n", ""},
		{"empty", "", "t.yaml:1:1: no YAML document (the file is empty or only comments)"},
		{"only comments", "# syntax=x\n# nothing\n", "t.yaml:1:1: no YAML document (the file is empty or only comments)"},
		{"second document", "a: 1\n---\nb: 2\n", "t.yaml:2:1: a second YAML document starts here; the file must hold exactly one"},
		{"bad indentation", "a:\n  b: 1\n c: 2\n", "t.yaml:3:2: invalid YAML: did not find expected key"},
		{"list item out of line", "a: 1\nb:\n  - x\n - y\nc: 2\n", "t.yaml:4:2: invalid YAML: did not find expected key"},
		{"list item out of line, deep in a mapping", "# syntax=x\ncontents:\n  repositories:\n    - ./packages\n  packages:\n    - hello\n   - busybox\n",
			"t.yaml:7:4: invalid YAML: did not find expected key"},
		{"unclosed flow list, lines on", "a: [1,\n  2,\n  3\nb: 1\n", "t.yaml:4:1: invalid YAML: did not find expected ',' or ']'"},
		{"mapping after a list", "- a\nb: 1\n", "t.yaml:2:1: invalid YAML: did not find expected '-' indicator"},
		{"unclosed flow list", "a: 1\nb: [1, 2\nc: 3\n", "t.yaml:2:1: invalid YAML: did not find expected ',' or ']'"},
		{"unclosed flow list at the end", "a: 1\nb: [1, 2\n\n", "t.yaml:2:1: invalid YAML: did not find expected ',' or ']'"},
		{"value on a key's line", "a: 1\nb: 2\n  c: 3\nd: 4\n", "t.yaml:3:3: invalid YAML: mapping values are not allowed in this context"},
		{"unterminated string", "a: 1\nb: \"open\nc: 3\n", "t.yaml:2:1: invalid YAML: found unexpected end of stream"},
		{"tab indentation", "a:\n\tb: 1\n", "t.yaml:2:2: invalid YAML: found character that cannot start any token"},
		{"unknown anchor", "a: *nope\n", "t.yaml:1:1: invalid YAML: unknown anchor 'nope' referenced"},
		{"control character", "a: 1\nb: x\x01y\n", "t.yaml:2:5: invalid YAML: control characters are not allowed"},
		{"bad utf-8", "a: 1\nbc: \xff\n", "t.yaml:2:5: invalid YAML: invalid leading UTF-8 octet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.doc))
			if tt.err == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			wantErr(t, err, tt.err)
		})
	}
}

func TestMappingFields(t *testing.T) {
	tests := []struct {
		name, doc, err string
		want           map[string]string
	}{
		{name: "plain", doc: "name: x\nversion: 3.10\n", want: map[string]string{"name": "x", "version": "3.10"}},
		{name: "null is absent", doc: "name:\nversion: ~\n", want: map[string]string{}},
		{name: "unknown field", doc: "name: x\nverison: 1\n",
			err: `t.yaml:2:1: top: unknown field "verison" (known: name, version); did you mean "version"?`},
		{name: "unknown field no hint", doc: "zzzzzz: 1\n", err: `t.yaml:1:1: top: unknown field "zzzzzz" (known: name, version)`},
		{name: "duplicate", doc: "name: x\nversion: 1\nname: y\n", err: `t.yaml:3:1: top: duplicate key "name" (first at line 1)`},
		{name: "duplicate quoted", doc: "name: x\n\"name\": y\n", err: `t.yaml:2:1: top: duplicate key "name" (first at line 1)`},
		{name: "list not mapping", doc: "- a\n", err: "t.yaml:1:1: top: expected a mapping, got a list"},
		{name: "complex key", doc: "? [a]\n: 1\n", err: "t.yaml:1:3: top: mapping keys must be plain values, got a list"},
		{name: "merge", doc: "base: &b {name: a, version: '1'}\ntop: {<<: *b, name: c}\n", want: map[string]string{"name": "c", "version": "1"}},
		{name: "merge written key after", doc: "base: &b {version: '1'}\ntop: {name: c, <<: *b, }\n", want: map[string]string{"name": "c", "version": "1"}},
		{name: "merge list first wins", doc: "a: &a {name: a}\nb: &b {name: b, version: '2'}\ntop: {<<: [*a, *b]}\n", want: map[string]string{"name": "a", "version": "2"}},
		{name: "nested merge", doc: "a: &a {name: a}\nb: &b {<<: *a, version: '2'}\ntop: {<<: *b}\n", want: map[string]string{"name": "a", "version": "2"}},
		{name: "merge inline", doc: "top: {<<: {name: n}}\n", want: map[string]string{"name": "n"}},
		{name: "merged unknown field", doc: "a: &a {nmae: a}\ntop: {<<: *a}\n", err: `t.yaml:1:8: top: unknown field "nmae" (known: name, version); did you mean "name"?`},
		{name: "merge scalar", doc: "a: &a x\ntop: {<<: *a}\n", err: "t.yaml:2:11: top: merge key (<<) needs a mapping or a list of mappings, got string \"x\""},
		{name: "merge list of scalar", doc: "top: {<<: [x]}\n", err: "t.yaml:1:12: top: merge key (<<) needs a mapping or a list of mappings, got string \"x\""},
		{name: "merge cycle", doc: "top: &t {name: a, <<: *t}\n", err: "t.yaml:1:23: top: merge key (<<) merges a mapping into itself"},
		{name: "two merge keys", doc: "a: &a {name: a}\ntop: {<<: *a, <<: *a}\n", err: `t.yaml:2:15: top: duplicate key "<<" (first at line 2)`},
		{name: "quoted << is a key", doc: "top: {\"<<\": x}\n", err: `t.yaml:1:7: top: unknown field "<<" (known: name, version)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := Parse("t.yaml", []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			d := NewDecoder("t.yaml")
			n := root
			if ps, _ := d.Pairs(root, ""); len(ps) > 0 && ps[len(ps)-1].Key == "top" {
				n = ps[len(ps)-1].Value
			}
			got := map[string]string{}
			str := func(v *yaml.Node, path string) error {
				s, err := d.String(v, path)
				got[path[strings.LastIndexByte(path, '.')+1:]] = s.Value
				return err
			}
			err = d.Mapping(n, "top", Fields{"name": str, "version": str})
			if tt.err != "" {
				wantErr(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestMergeFanOutIsLinear(t *testing.T) {
	// Each level merges the previous one ten times; without memoising
	// merged mappings this would take 10^30 steps.
	var b strings.Builder
	b.WriteString("l0: &l0 {name: x}\n")
	for i := 1; i <= 30; i++ {
		b.WriteString("l" + itoa(i) + ": &l" + itoa(i) + " {<<: [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*l" + itoa(i-1))
		}
		b.WriteString("]}\n")
	}
	d, n := field(t, b.String(), "l30")
	ps, err := d.Pairs(n, "l30")
	if err != nil || len(ps) != 1 || ps[0].Key != "name" {
		t.Fatalf("got %v, %v", ps, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestStringAsWritten(t *testing.T) {
	doc := `
a: 3.10
b: 00303
c: 1e3
d: true
e: "quoted"
f: ~
g: 0x1F
h: 2001-12-14
i: |
  line
j: !!str 6.0
k: &anchor 1.20
l: *anchor
m: -0
n: .inf
`
	want := map[string]string{"a": "3.10", "b": "00303", "c": "1e3", "d": "true", "e": "quoted", "f": "",
		"g": "0x1F", "h": "2001-12-14", "i": "line\n", "j": "6.0", "k": "1.20", "l": "1.20", "m": "-0", "n": ".inf"}
	for k, v := range want {
		d, n := field(t, doc, k)
		s, err := d.String(n, k)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if s.Value != v {
			t.Errorf("%s = %q, want %q", k, s.Value, v)
		}
		if !s.Pos.IsValid() {
			t.Errorf("%s has no position", k)
		}
	}
	// An alias's value is positioned at its anchor, where the text is.
	d, n := field(t, doc, "l")
	s, _ := d.String(n, "l")
	if s.Pos.String() != "t.yaml:13:4" {
		t.Errorf("alias position %s, want t.yaml:13:4", s.Pos)
	}
}

func TestStringErrors(t *testing.T) {
	for _, tt := range []struct{ doc, err string }{
		{"v: [a]\n", "t.yaml:1:4: v: expected a string, got a list"},
		{"v: {a: b}\n", "t.yaml:1:4: v: expected a string, got a mapping"},
		{"v: !!binary aGVsbG8=\n", "t.yaml:1:4: v: !!binary values are not supported; write the text"},
	} {
		d, n := field(t, tt.doc, "v")
		_, err := d.String(n, "v")
		wantErr(t, err, tt.err)
	}
}

func TestStringListAndMap(t *testing.T) {
	// An alias before its anchor is a parse error.
	if _, err := Parse("t.yaml", []byte("l: [*x]\nx: &x y\n")); err == nil {
		t.Error("alias before anchor parsed")
	}

	d, n := field(t, "x: &x y\nl: [a, 3.10, ~, *x]\n", "l")
	got, err := d.StringList(n, "l")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "3.10", "", "y"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].Value != want[i] {
			t.Errorf("[%d] = %q, want %q", i, got[i].Value, want[i])
		}
	}
	if got[1].Pos.String() != "t.yaml:2:8" {
		t.Errorf("position %s", got[1].Pos)
	}

	d, n = field(t, "l: a\n", "l")
	_, err = d.StringList(n, "l")
	wantErr(t, err, `t.yaml:1:4: l: expected a list, got string "a"`)

	d, n = field(t, "base: &b {Z: 1, A: 2}\nm: {Q: 3.10, <<: *b, A: x, E: }\n", "m")
	kvs, err := d.StringMap(n, "m")
	if err != nil {
		t.Fatal(err)
	}
	var keys, vals []string
	for _, kv := range kvs {
		keys = append(keys, kv.Key.Value)
		vals = append(vals, kv.Value.Value)
	}
	if strings.Join(keys, ",") != "Q,A,E,Z" || strings.Join(vals, ",") != "3.10,x,,1" {
		t.Errorf("got keys %v values %q", keys, vals)
	}
}

func TestNumbers(t *testing.T) {
	tests := []struct {
		v    string
		want int64
		err  string
	}{
		{"493", 493, ""},
		{"0o755", 0o755, ""},
		{"0755", 0o755, ""},
		{"0x1ED", 0o755, ""},
		{"0b111", 7, ""},
		{"1_000", 1000, ""},
		{"-5", -5, ""},
		{"+5", 5, ""},
		{`"493"`, 0, `t.yaml:1:4: v: expected an integer, got string "493" (remove the quotes)`},
		{"abc", 0, `t.yaml:1:4: v: expected an integer, got string "abc"`},
		{"1.5", 0, "t.yaml:1:4: v: expected an integer, got float 1.5"},
		{"1e3", 0, "t.yaml:1:4: v: expected an integer, got float 1e3"},
		{"0999", 0, "t.yaml:1:4: v: expected an integer, got float 0999"},
		{"0o999", 0, `t.yaml:1:4: v: expected an integer, got string "0o999"`},
		{"true", 0, "t.yaml:1:4: v: expected an integer, got boolean true"},
		{"[1]", 0, "t.yaml:1:4: v: expected an integer, got a list"},
		{"18446744073709551615", 0, "t.yaml:1:4: v: integer 18446744073709551615 is out of range"},
		{"99999999999999999999", 0, "t.yaml:1:4: v: expected an integer, got float 99999999999999999999"},
		{"!!int x1", 0, `t.yaml:1:4: v: invalid integer "x1"`},
	}
	for _, tt := range tests {
		d, n := field(t, "v: "+tt.v+"\n", "v")
		got, err := d.Int(n, "v")
		if tt.err != "" {
			wantErr(t, err, tt.err)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %d, %v; want %d", tt.v, got, err, tt.want)
		}
	}

	for _, tt := range []struct {
		v    string
		want uint32
		err  string
	}{
		{"65532", 65532, ""},
		{"0", 0, ""},
		{"4294967295", 4294967295, ""},
		{"-1", 0, "t.yaml:1:4: v: -1 is negative"},
		{"4294967296", 0, "t.yaml:1:4: v: 4294967296 is too large (at most 4294967295)"},
	} {
		d, n := field(t, "v: "+tt.v+"\n", "v")
		got, err := d.Uint32(n, "v")
		if tt.err != "" {
			wantErr(t, err, tt.err)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %d, %v", tt.v, got, err)
		}
	}

	for _, tt := range []struct {
		v    string
		want uint32
		err  string
	}{
		{"0o755", 0o755, ""},
		{"0644", 0o644, ""},
		{"0o4755", 0o4755, ""},
		{"0o7777", 0o7777, ""},
		{"420", 0o644, ""},
		{"0o10000", 0, "t.yaml:1:4: v: permissions 0o10000 out of range (0 to 0o7777)"},
		{"-0o1", 0, "t.yaml:1:4: v: permissions -0o1 out of range (0 to 0o7777)"},
		{"0o999", 0, `t.yaml:1:4: v: expected an integer, got string "0o999"`},
		{"abc", 0, `t.yaml:1:4: v: expected an integer, got string "abc"`},
		{"rwxr-xr-x", 0, `t.yaml:1:4: v: expected an integer, got string "rwxr-xr-x"`},
	} {
		d, n := field(t, "v: "+tt.v+"\n", "v")
		got, err := d.FileMode(n, "v")
		if tt.err != "" {
			wantErr(t, err, tt.err)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %o, %v", tt.v, got, err)
		}
	}
}

func TestBool(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "True": true, "FALSE": false, "yes": true, "off": false, "n": false, "'yes'": true} {
		d, n := field(t, "v: "+v+"\n", "v")
		got, err := d.Bool(n, "v")
		if err != nil || got != want {
			t.Errorf("%s: got %v, %v", v, got, err)
		}
	}
	for v, want := range map[string]string{
		"1":      "t.yaml:1:4: v: expected true or false, got integer 1",
		"'true'": `t.yaml:1:4: v: expected true or false, got string "true"`,
		"maybe":  `t.yaml:1:4: v: expected true or false, got string "maybe"`,
		"{}":     "t.yaml:1:4: v: expected a boolean, got a mapping",
	} {
		d, n := field(t, "v: "+v+"\n", "v")
		_, err := d.Bool(n, "v")
		wantErr(t, err, want)
	}
}

func TestPos(t *testing.T) {
	for _, tt := range []struct {
		p    Pos
		want string
	}{
		{Pos{"a.yaml", 3, 7}, "a.yaml:3:7"},
		{Pos{"a.yaml", 3, 0}, "a.yaml:3"},
		{Pos{"a.yaml", 0, 0}, "a.yaml"},
		{Pos{"", 3, 7}, "3:7"},
	} {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v = %q, want %q", tt.p, got, tt.want)
		}
	}
	cause := errors.New("boom")
	err := Pos{"a.yaml", 1, 2}.Errorf("reading: %v", cause)
	if !errors.Is(err, cause) || err.Error() != "a.yaml:1:2: reading: boom" {
		t.Errorf("got %v", err)
	}
}

func TestEach(t *testing.T) {
	stop := errors.New("stop")
	tests := []struct {
		name, doc string
		stopAt    string // the item path whose callback fails; "" for none
		want      []string
		wantErr   string
	}{
		{"items with their paths", "l: [a, {b: 1}, c]\n", "", []string{"l[0]", "l[1]", "l[2]"}, ""},
		{"null is no items", "l: ~\n", "", nil, ""},
		{"an error stops at its item", "l: [a, b, c]\n", "l[1]", []string{"l[0]", "l[1]"}, "stop"},
		{"not a list", "l: {a: 1}\n", "", nil, "t.yaml:1:4: l: expected a list, got a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, n := field(t, tt.doc, "l")
			var got []string
			err := d.Each(n, "l", func(_ *yaml.Node, path string) error {
				got = append(got, path)
				if path == tt.stopAt {
					return stop
				}
				return nil
			})
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("visited %v, want %v", got, tt.want)
			}
		})
	}
}
