package index

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// AppendRecord appends one record's lines in apk-tools' order, without the
// blank line that ends it. Empty optional fields are left out. It does not
// check the record; WriteText does.
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
	num := func(key byte, n int64) {
		dst = append(dst, key, ':')
		dst = strconv.AppendInt(dst, n, 10)
		dst = append(dst, '\n')
	}
	line('C', p.Checksum)
	line('P', p.Name)
	line('V', p.Version)
	line('A', p.Arch)
	dst = append(dst, 'S', ':')
	dst = strconv.AppendUint(dst, p.Size, 10)
	dst = append(dst, '\n', 'I', ':')
	dst = strconv.AppendUint(dst, p.InstalledSize, 10)
	dst = append(dst, '\n')
	line('T', p.Description)
	line('U', p.URL)
	line('L', p.License)
	line('o', p.Origin)
	line('m', p.Maintainer)
	if p.BuildTime != 0 {
		num('t', p.BuildTime)
	}
	line('c', p.Commit)
	if p.HasProviderPrio || p.ProviderPriority != 0 {
		num('k', int64(p.ProviderPriority))
	}
	list('D', p.Dependencies)
	list('p', p.Provides)
	list('i', p.InstallIf)
	list('r', p.Replaces)
	if p.ReplacesPriority != 0 {
		num('q', int64(p.ReplacesPriority))
	}
	for _, f := range p.Extra {
		dst = append(dst, f.Key, ':')
		dst = append(dst, f.Value...)
		dst = append(dst, '\n')
	}
	return dst
}

// WriteText writes records as APKINDEX text, each followed by a blank
// line. It refuses records that would not read back as written.
func WriteText(w io.Writer, pkgs []*Package) error {
	buf, err := appendText(nil, pkgs)
	if err != nil {
		return err
	}
	_, err = w.Write(buf)
	return err
}

func appendText(dst []byte, pkgs []*Package) ([]byte, error) {
	for _, p := range pkgs {
		if err := check(p); err != nil {
			return nil, err
		}
		dst = AppendRecord(dst, p)
		dst = append(dst, '\n')
	}
	return dst, nil
}

// check rejects what would break the line format: a newline in a value,
// a list token that is empty or holds a space, a record without P or V.
func check(p *Package) error {
	bad := func(what, v string) error {
		return fmt.Errorf("APKINDEX record %q-%q: %s %q", clip(p.Name), clip(p.Version), what, clip(v))
	}
	if p.Name == "" || p.Version == "" {
		return fmt.Errorf("APKINDEX record %q-%q: P: and V: are required", clip(p.Name), clip(p.Version))
	}
	if err := CheckName(p.Name); err != nil {
		return fmt.Errorf("APKINDEX record %q-%q: P: %w", clip(p.Name), clip(p.Version), err)
	}
	if err := CheckVersion(p.Version); err != nil {
		return fmt.Errorf("APKINDEX record %q-%q: V: %w", clip(p.Name), clip(p.Version), err)
	}
	for _, f := range [...]struct {
		key byte
		v   string
	}{{'C', p.Checksum}, {'P', p.Name}, {'V', p.Version}, {'A', p.Arch}, {'T', p.Description}, {'U', p.URL},
		{'L', p.License}, {'o', p.Origin}, {'m', p.Maintainer}, {'c', p.Commit}} {
		if strings.IndexByte(f.v, '\n') >= 0 {
			return bad(string(f.key)+": has a newline in", f.v)
		}
	}
	for _, l := range [...]struct {
		key byte
		vs  []string
	}{{'D', p.Dependencies}, {'p', p.Provides}, {'i', p.InstallIf}, {'r', p.Replaces}} {
		for _, v := range l.vs {
			if v == "" || strings.ContainsAny(v, " \n") {
				return bad(string(l.key)+": list has a bad token", v)
			}
		}
	}
	for _, f := range p.Extra {
		if f.Key == '\n' || strings.IndexByte(f.Value, '\n') >= 0 {
			return bad(fmt.Sprintf("extra field %q has a newline in", f.Key), f.Value)
		}
	}
	return nil
}
