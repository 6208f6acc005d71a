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

// parserProblems are the messages of yaml.v3's parser (as opposed to its
// scanner). yaml.v3 reports a parser error's line counting from 0 (it
// adds 1 only for scanner errors), so "line 3: did not find expected
// key" is about the fourth line.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected key":              true,
	"did not find expected '-' indicator":    true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found duplicate %TAG directive":         true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// syntaxError turns a yaml.v3 parse error, which carries at most a line,
// into an *Error with a column: the first non-blank column of that line,
// or, for errors about bad characters, the offending character itself.
func syntaxError(file string, data []byte, err error) error {
	msg := err.Error()
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		line, convErr := strconv.Atoi(m[1])
		if convErr == nil && line > 0 {
			if parserProblems[m[2]] {
				line++
			}
			// A problem found at the end of the stream (an unclosed
			// bracket) is reported past the last line; the last line
			// written is where the reader can fix it.
			line = problemLine(data, m[2], min(line, lastContentLine(data)))
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

// maxProblemScan bounds how many lines problemLine parses past the line
// yaml.v3 reported, each a parse of the document so far.
const maxProblemScan = 400

// problemLine finds the line a syntax problem is on. When the parser
// knows what it was reading (a mapping, a quoted string), yaml.v3 reports
// where that started, which can be many lines above the mistake: a list
// item indented one space too few inside `contents:` is reported at
// `contents:`. The problem is on the first line, from the reported one
// on, at which the document read so far fails with the same problem.
func problemLine(data []byte, problem string, from int) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	end := 0
	for k := 1; k <= len(lines) && k < from+maxProblemScan; k++ {
		end += len(lines[k-1])
		if k < from {
			continue
		}
		if p, ok := parseProblem(data[:end]); ok && p == problem {
			return k
		}
	}
	return from
}

// parseProblem parses every document of data and returns the problem
// yaml.v3 reports, without its line.
func parseProblem(data []byte) (string, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return "", false
		}
		if err != nil {
			msg := err.Error()
			if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
				return m[2], true
			}
			return strings.TrimPrefix(msg, "yaml: "), true
		}
	}
}

// lastContentLine is the 1-based number of the last line holding more
// than blanks, or 1.
func lastContentLine(data []byte) int {
	lines := bytes.Split(data, []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		if len(bytes.TrimSpace(lines[i])) > 0 {
			return i + 1
		}
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
