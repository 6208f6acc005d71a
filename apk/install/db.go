package install

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/kiln-build/kiln/apk/index"
)

// AppendInstalled appends one package's installed-database record: the
// index header lines, an F: line per directory (M: when its owner or mode
// is not root:root 0755, or it has xattrs), an R: line per file (a: when
// not root:root 0644 or with xattrs, Z: with its checksum), and the blank
// line ending the record.
func AppendInstalled(dst []byte, p *InstalledPackage) []byte {
	dst = index.AppendRecord(dst, &p.Package)
	for _, d := range p.Dirs {
		dst = append(dst, "F:"...)
		dst = append(dst, d.Path...)
		dst = append(dst, '\n')
		dst = appendACL(dst, 'M', d.UID, d.GID, d.Mode, d.XattrDigest, defaultDirMode)
		for _, f := range d.Files {
			dst = append(dst, "R:"...)
			dst = append(dst, path.Base(f.Path)...)
			dst = append(dst, '\n')
			dst = appendACL(dst, 'a', f.UID, f.GID, f.Mode, f.XattrDigest, defaultFileMode)
			if f.Checksum != "" {
				dst = append(dst, "Z:"...)
				dst = append(dst, f.Checksum...)
				dst = append(dst, '\n')
			}
		}
	}
	return append(dst, '\n')
}

// appendACL writes "K:uid:gid:mode[:xattrs]" unless the entry has the
// default owner and mode and no xattrs. The mode is octal without
// padding, as apk-tools prints it.
func appendACL(dst []byte, key byte, uid, gid int, mode uint32, xd string, def uint32) []byte {
	if uid == 0 && gid == 0 && mode == def && xd == "" {
		return dst
	}
	dst = append(dst, key, ':')
	dst = strconv.AppendInt(dst, int64(uid), 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, int64(gid), 10)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, uint64(mode), 8)
	if xd != "" {
		dst = append(dst, ':')
		dst = append(dst, xd...)
	}
	return append(dst, '\n')
}

// EncodeInstalled renders a whole installed database.
func EncodeInstalled(pkgs []InstalledPackage) []byte {
	var b []byte
	for i := range pkgs {
		b = AppendInstalled(b, &pkgs[i])
	}
	return b
}

// ReadDatabase parses an installed database (usr/lib/apk/db/installed).
// Header lines go through the index parser; F:, M:, R:, a: and Z: build
// the directory and file lists.
func ReadDatabase(r io.Reader) ([]InstalledPackage, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read installed database: %w", err)
	}
	var (
		out     []InstalledPackage
		headers []byte // every record's index lines, records separated by blank lines
		cur     *InstalledPackage
		hasHdr  bool
		dir     *DirRecord
		file    *FileRecord
		lineNo  int
		started int // line the current record started at
	)
	end := func() error {
		if cur == nil {
			return nil
		}
		if !hasHdr {
			return fmt.Errorf("installed database record at line %d has no package header", started)
		}
		headers = append(headers, '\n')
		out = append(out, *cur)
		cur, dir, file, hasHdr = nil, nil, nil, false
		return nil
	}
	for len(data) > 0 {
		lineNo++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		if len(line) == 0 {
			if err := end(); err != nil {
				return nil, err
			}
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			return nil, fmt.Errorf("installed database line %d: want \"K:value\", got %q", lineNo, clip(string(line)))
		}
		if cur == nil {
			cur, started = &InstalledPackage{}, lineNo
		}
		key, val := line[0], string(line[2:])
		bad := func(why string) error {
			return fmt.Errorf("installed database line %d: %c:%s: %s", lineNo, key, clip(val), why)
		}
		switch key {
		case 'F':
			cur.Dirs = append(cur.Dirs, DirRecord{Path: val, Mode: defaultDirMode})
			dir, file = &cur.Dirs[len(cur.Dirs)-1], nil
		case 'M':
			if dir == nil {
				return nil, bad("M: before any F:")
			}
			if err := parseACL(val, &dir.UID, &dir.GID, &dir.Mode, &dir.XattrDigest); err != nil {
				return nil, bad(err.Error())
			}
		case 'R':
			if dir == nil {
				// apk files the record under the root directory.
				cur.Dirs = append(cur.Dirs, DirRecord{Mode: defaultDirMode})
				dir = &cur.Dirs[len(cur.Dirs)-1]
			}
			if val == "" || strings.Contains(val, "/") {
				return nil, bad("not a file name")
			}
			dir.Files = append(dir.Files, FileRecord{Path: joinRel(dir.Path, val), Mode: defaultFileMode})
			file = &dir.Files[len(dir.Files)-1]
		case 'a':
			if file == nil {
				return nil, bad("a: before any R:")
			}
			if err := parseACL(val, &file.UID, &file.GID, &file.Mode, &file.XattrDigest); err != nil {
				return nil, bad(err.Error())
			}
		case 'Z':
			if file == nil {
				return nil, bad("Z: before any R:")
			}
			file.Checksum = val
		default:
			headers = append(headers, line...)
			headers = append(headers, '\n')
			hasHdr = true
		}
	}
	if err := end(); err != nil {
		return nil, err
	}
	// One pass of the index parser over all headers: it allocates its
	// records in blocks, so a call per record would be wasteful.
	pkgs, err := index.ParseTextBytes(headers)
	if err != nil {
		return nil, fmt.Errorf("installed database headers: %w", err)
	}
	if len(pkgs) != len(out) {
		return nil, fmt.Errorf("installed database: %d package headers for %d records", len(pkgs), len(out))
	}
	for i, p := range pkgs {
		out[i].Package = *p
	}
	return out, nil
}

// parseACL reads "uid:gid:mode[:xattr-digest]" (mode in octal).
func parseACL(v string, uid, gid *int, mode *uint32, xd *string) error {
	parts := strings.SplitN(v, ":", 4)
	if len(parts) < 3 {
		return fmt.Errorf("want uid:gid:mode")
	}
	u, err1 := strconv.ParseUint(parts[0], 10, 31)
	g, err2 := strconv.ParseUint(parts[1], 10, 31)
	m, err3 := strconv.ParseUint(parts[2], 8, 32)
	if err1 != nil || err2 != nil || err3 != nil || m > 0o7777 {
		return fmt.Errorf("bad owner or mode")
	}
	*uid, *gid, *mode = int(u), int(g), uint32(m)
	if len(parts) == 4 {
		*xd = parts[3]
	}
	return nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
