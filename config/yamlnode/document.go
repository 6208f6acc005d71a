package yamlnode

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Parse parses data as exactly one YAML document and returns its top node
// (a null scalar for a document holding nothing but "---"). Comments are
// fine anywhere, including a "# syntax=" first line. Empty documents after
// the first are ignored; a second document with content is an error, since
// tools that read only the first one would silently drop it. A leading
// UTF-8 byte-order mark is ignored, as apko ignores it.
func Parse(file string, data []byte) (*yaml.Node, error) {
	// A leading UTF-8 byte-order mark (some editors write one) is not
	// part of the document. yaml.v3 skips it without counting a column;
	// dropping it here keeps the columns this package computes for errors
	// on line 1 counting the same way.
	data = bytes.TrimPrefix(data, []byte(utf8BOM))
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Pos{file, 1, 1}.Errorf("no YAML document (the file is empty or only comments)")
		}
		return nil, syntaxError(file, data, err)
	}
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, syntaxError(file, data, err)
		}
		if len(next.Content) == 1 && IsNull(next.Content[0]) && next.Content[0].Anchor == "" {
			continue
		}
		return nil, Pos{file, next.Line, next.Column}.Errorf("a second YAML document starts here; the file must hold exactly one")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, Pos{file, 1, 1}.Errorf("no YAML document")
	}
	return doc.Content[0], nil
}

const utf8BOM = "\ufeff"

var yamlLineErr = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// syntaxError turns a yaml.v3 parse error, which carries at most a line,
// into an *Error with a column: the first non-blank column of that line,
// or, for errors about bad characters, the offending character itself.
func syntaxError(file string, data []byte, err error) error {
	msg := err.Error()
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		line, convErr := strconv.Atoi(m[1])
		if convErr == nil && line > 0 {
			return Pos{file, line, firstColumn(data, line)}.Errorf("invalid YAML: %s", m[2])
		}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	line, col := badChar(data)
	return Pos{file, line, col}.Errorf("invalid YAML: %s", msg)
}

// firstColumn returns the 1-based column of the first non-blank character
// of a 1-based line, or 1.
func firstColumn(data []byte, line int) int {
	lines := bytes.Split(data, []byte("\n"))
	if line > len(lines) {
		return 1
	}
	col := 1
	for _, r := range string(lines[line-1]) {
		if r != ' ' && r != '\t' {
			return col
		}
		col++
	}
	return 1
}

// badChar finds the first character YAML does not allow in a stream
// (invalid UTF-8 or a control character), or returns 1:1.
func badChar(data []byte) (int, int) {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		bad := r == utf8.RuneError && size <= 1 ||
			r < 0x20 && r != '\t' && r != '\n' && r != '\r' ||
			r >= 0x7f && r <= 0x9f && r != 0x85 ||
			r == 0xfffe || r == 0xffff ||
			r >= 0xd800 && r <= 0xdfff
		if bad {
			return line, col
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return 1, 1
}
