package index

import (
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
		return nil, fmt.Errorf("APKINDEX: %w", err)
	}
	return ParseTextBytes(b)
}

// ParseTextBytes parses APKINDEX text. It copies b into one string and
// slices every field out of it, so whatever the line lengths (p: lines of
// several MiB exist) a package costs no allocation of its own.
//
// Lines and records are bounded by DefaultMaxLine and DefaultMaxRecord.
func ParseTextBytes(b []byte) ([]*Package, error) {
	p := parser{limits: newLimits(0, 0)}
	if err := p.feed(string(b)); err != nil {
		return nil, err
	}
	return p.finish()
}

// Arena block sizes: records and list tokens are carved out of shared
// blocks instead of being allocated one by one. Blocks start small and
// double up to these, so text of a record or two (an installed database
// fragment: the metadata step parses one per layer) does not pay for a
// block sized for an index.
const (
	pkgBlock    = 512
	strBlock    = 4096
	bigListSize = strBlock / 4 // longer lists get their own allocation

	firstPkgBlock = 8
	firstStrBlock = 256
)

// grow is the next block's size: twice the last, at least least, at most
// most.
func grow(last, least, most int) int {
	return min(most, max(2*last, least))
}

// parser turns lines into records. It can be fed text piece by piece as
// long as every piece but the last ends in '\n', which lets Read parse
// while the rest of the index is still being decompressed. The records
// keep substrings of what they were fed.
type parser struct {
	limits
	pkgs  []*Package
	arena []Package // unused records of the current block
	strs  []string  // unused list slots of the current block
	// sizes of the last blocks made
	pkgN, strN int
	cur        *Package
	lineNo     int
	start      int // line of cur's first field
	size       int // bytes of cur's lines so far
}

// limits bound what one line and one record may hold: with them, a
// hostile index costs memory in proportion to its size, and no single
// list is long enough to make the resolver's tables slow to build.
type limits struct {
	line, record int
}

func newLimits(line, record int) limits {
	if line <= 0 {
		line = DefaultMaxLine
	}
	if record <= 0 {
		record = DefaultMaxRecord
	}
	return limits{line: line, record: record}
}

func lineTooLong(lineNo, max int) error {
	return fmt.Errorf("APKINDEX line %d: %w: longer than %d bytes", lineNo, ErrTooLarge, max)
}

// feed parses every line of text; a last line without '\n' counts as a
// whole line.
func (p *parser) feed(text string) error {
	for len(text) > 0 {
		p.lineNo++
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		if len(line) > p.line {
			return lineTooLong(p.lineNo, p.line)
		}
		if line == "" {
			if err := p.endRecord(); err != nil {
				return err
			}
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			return fmt.Errorf("APKINDEX line %d: want \"K:value\", got %q", p.lineNo, clip(line))
		}
		if p.cur == nil {
			if len(p.arena) == 0 {
				p.pkgN = grow(p.pkgN, firstPkgBlock, pkgBlock)
				p.arena = make([]Package, p.pkgN)
			}
			p.cur, p.arena = &p.arena[0], p.arena[1:]
			p.start, p.size = p.lineNo, 0
		}
		if p.size += len(line) + 1; p.size > p.record {
			return fmt.Errorf("APKINDEX record at line %d: %w: longer than %d bytes", p.start, ErrTooLarge, p.record)
		}
		if err := p.setField(line[0], line[2:]); err != nil {
			return fmt.Errorf("APKINDEX line %d: %w", p.lineNo, err)
		}
	}
	return nil
}

func (p *parser) finish() ([]*Package, error) {
	if err := p.endRecord(); err != nil {
		return nil, err
	}
	return p.pkgs, nil
}

func (p *parser) endRecord() error {
	c := p.cur
	if c == nil {
		return nil
	}
	if c.Name == "" || c.Version == "" {
		return fmt.Errorf("APKINDEX record ending at line %d has no P: or V: (name %q, version %q)", p.lineNo, clip(c.Name), clip(c.Version))
	}
	if err := CheckName(c.Name); err != nil {
		return fmt.Errorf("APKINDEX record at line %d: P: %w", p.start, err)
	}
	if err := CheckVersion(c.Version); err != nil {
		return fmt.Errorf("APKINDEX record at line %d (P:%s): V: %w", p.start, c.Name, err)
	}
	p.pkgs = append(p.pkgs, c)
	p.cur = nil
	return nil
}

func (p *parser) setField(key byte, v string) error {
	c := p.cur
	var err error
	switch key {
	case 'P':
		c.Name = v
	case 'V':
		c.Version = v
	case 'A':
		c.Arch = v
	case 'S':
		c.Size, err = parseUint(key, v)
	case 'I':
		c.InstalledSize, err = parseUint(key, v)
	case 'T':
		c.Description = v
	case 'U':
		c.URL = v
	case 'L':
		c.License = v
	case 'o':
		c.Origin = v
	case 'm':
		c.Maintainer = v
	case 't':
		c.BuildTime, err = parseInt64(key, v)
	case 'c':
		c.Commit = v
	case 'C':
		c.Checksum = v
	case 'D':
		c.Dependencies = p.list(v)
	case 'p':
		c.Provides = p.list(v)
	case 'i':
		c.InstallIf = p.list(v)
	case 'r':
		c.Replaces = p.list(v)
	case 'k':
		c.ProviderPriority, err = parseInt(key, v)
		c.HasProviderPrio = true
	case 'q':
		c.ReplacesPriority, err = parseInt(key, v)
	default:
		c.Extra = append(c.Extra, Field{Key: key, Value: v})
	}
	return err
}

// list splits a space-separated list. Runs of spaces count as one
// separator. The result's capacity equals its length, so appending to one
// package's list can never overwrite the next list in the block.
func (p *parser) list(v string) []string {
	n := strings.Count(v, " ") + 1 // upper bound on the tokens
	var out []string
	if n > bigListSize {
		out = make([]string, 0, n)
	} else {
		if len(p.strs) < n {
			// n ≤ bigListSize < strBlock: the block holds the list.
			p.strN = grow(p.strN, max(firstStrBlock, n), strBlock)
			p.strs = make([]string, p.strN)
		}
		out = p.strs[:0:n]
	}
	for len(v) > 0 {
		i := strings.IndexByte(v, ' ')
		if i < 0 {
			out = append(out, v)
			break
		}
		if i > 0 {
			out = append(out, v[:i])
		}
		v = v[i+1:]
	}
	if len(out) == 0 {
		return nil
	}
	if n <= bigListSize {
		p.strs = p.strs[len(out):]
	}
	return out[:len(out):len(out)]
}

func parseUint(key byte, v string) (uint64, error) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%c: %q is not a number", key, clip(v))
	}
	return n, nil
}

func parseInt64(key byte, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
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

// clip keeps error messages readable when the bad line is megabytes long.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
