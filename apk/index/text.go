package index

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ParseText parses APKINDEX text: records of "K:value" lines separated by
// blank lines.
func ParseText(r io.Reader) ([]*Package, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return ParseTextBytes(b)
}

// ParseTextBytes parses APKINDEX text. It copies b into one string and
// slices every field out of it, so a record costs one allocation plus its
// lists, whatever the line lengths (p: lines of several MiB are common).
func ParseTextBytes(b []byte) ([]*Package, error) {
	return parseText(string(b))
}

func parseText(text string) ([]*Package, error) {
	// Records live in one backing array: one allocation instead of one
	// per package (the count is exact for indexes apk writes; a record
	// past it just gets its own allocation).
	n := strings.Count(text, "\nP:") + 1
	pkgs := make([]*Package, 0, n)
	arena := make([]Package, 0, n)
	var cur *Package
	lineNo := 0
	for len(text) > 0 {
		lineNo++
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		if line == "" {
			if cur != nil {
				if err := finish(cur, lineNo); err != nil {
					return nil, err
				}
				pkgs = append(pkgs, cur)
				cur = nil
			}
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			return nil, fmt.Errorf("APKINDEX line %d: want \"K:value\", got %q", lineNo, clip(line))
		}
		if cur == nil {
			if len(arena) < cap(arena) {
				arena = arena[:len(arena)+1]
				cur = &arena[len(arena)-1]
			} else {
				cur = &Package{}
			}
		}
		if err := setField(cur, line[0], line[2:]); err != nil {
			return nil, fmt.Errorf("APKINDEX line %d: %w", lineNo, err)
		}
	}
	if cur != nil {
		if err := finish(cur, lineNo); err != nil {
			return nil, err
		}
		pkgs = append(pkgs, cur)
	}
	return pkgs, nil
}

func finish(p *Package, lineNo int) error {
	if p.Name == "" || p.Version == "" {
		return fmt.Errorf("APKINDEX record ending at line %d has no P: or V: (name %q, version %q)", lineNo, p.Name, p.Version)
	}
	return nil
}

func setField(p *Package, key byte, v string) error {
	var err error
	switch key {
	case 'P':
		p.Name = v
	case 'V':
		p.Version = v
	case 'A':
		p.Arch = v
	case 'S':
		p.Size, err = parseUint(key, v)
	case 'I':
		p.InstalledSize, err = parseUint(key, v)
	case 'T':
		p.Description = v
	case 'U':
		p.URL = v
	case 'L':
		p.License = v
	case 'o':
		p.Origin = v
	case 'm':
		p.Maintainer = v
	case 't':
		var n uint64
		n, err = parseUint(key, v)
		p.BuildTime = int64(n)
	case 'c':
		p.Commit = v
	case 'C':
		p.Checksum = v
	case 'D':
		p.Dependencies = fields(v)
	case 'p':
		p.Provides = fields(v)
	case 'i':
		p.InstallIf = fields(v)
	case 'r':
		p.Replaces = fields(v)
	case 'k':
		p.ProviderPriority, err = parseInt(key, v)
		p.HasProviderPrio = true
	case 'q':
		p.ReplacesPriority, err = parseInt(key, v)
	default:
		p.Extra = append(p.Extra, Field{Key: key, Value: v})
	}
	return err
}

func parseUint(key byte, v string) (uint64, error) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%c: %q is not a number", key, clip(v))
	}
	return n, nil
}

func parseInt(key byte, v string) (int, error) {
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%c: %q is not a number", key, clip(v))
	}
	return int(n), nil
}

// fields splits a space-separated list into one exactly-sized slice.
func fields(v string) []string {
	n := 0
	inField := false
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' || v[i] == '\t' {
			inField = false
		} else if !inField {
			inField = true
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	start := -1
	for i := 0; i <= len(v); i++ {
		if i == len(v) || v[i] == ' ' || v[i] == '\t' {
			if start >= 0 {
				out = append(out, v[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	return out
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// AppendRecord appends one record's lines in apk-tools' order, without the
// blank line that ends it. Empty optional fields are left out.
func AppendRecord(dst []byte, p *Package) []byte {
	line := func(key byte, v string) {
		if v == "" {
			return
		}
		dst = append(dst, key, ':')
		dst = append(dst, v...)
		dst = append(dst, '\n')
	}
	list := func(key byte, vs []string) {
		if len(vs) == 0 {
			return
		}
		dst = append(dst, key, ':')
		for i, v := range vs {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = append(dst, v...)
		}
		dst = append(dst, '\n')
	}
	line('C', p.Checksum)
	line('P', p.Name)
	line('V', p.Version)
	line('A', p.Arch)
	line('S', strconv.FormatUint(p.Size, 10))
	line('I', strconv.FormatUint(p.InstalledSize, 10))
	line('T', p.Description)
	line('U', p.URL)
	line('L', p.License)
	line('o', p.Origin)
	line('m', p.Maintainer)
	if p.BuildTime != 0 {
		line('t', strconv.FormatInt(p.BuildTime, 10))
	}
	line('c', p.Commit)
	if p.HasProviderPrio || p.ProviderPriority != 0 {
		line('k', strconv.Itoa(p.ProviderPriority))
	}
	list('D', p.Dependencies)
	list('p', p.Provides)
	list('i', p.InstallIf)
	list('r', p.Replaces)
	if p.ReplacesPriority != 0 {
		line('q', strconv.Itoa(p.ReplacesPriority))
	}
	for _, f := range p.Extra {
		dst = append(dst, f.Key, ':')
		dst = append(dst, f.Value...)
		dst = append(dst, '\n')
	}
	return dst
}

// WriteText writes records as APKINDEX text.
func WriteText(w io.Writer, pkgs []*Package) error {
	var buf bytes.Buffer
	var rec []byte
	for _, p := range pkgs {
		rec = AppendRecord(rec[:0], p)
		buf.Write(rec)
		buf.WriteByte('\n')
	}
	_, err := w.Write(buf.Bytes())
	return err
}
