package install

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"
)

// fuzzEntries decodes one entry per line: "<type> <name> [<link or body>]"
// with type d (dir), f (file), s (symlink), h (hard link), p (fifo). In
// names and links, OUT is the outside directory and TOP the sandbox.
func fuzzEntries(s sandbox, data string) []ent {
	var out []ent
	for _, line := range strings.Split(data, "\n") {
		if len(out) == 32 {
			break
		}
		parts := strings.SplitN(line, " ", 3)
		if len(parts) < 2 || parts[1] == "" {
			continue
		}
		sub := func(v string) string {
			v = strings.ReplaceAll(v, "OUT", s.outside)
			return strings.ReplaceAll(v, "TOP", s.top)
		}
		e := ent{name: sub(parts[1])}
		arg := ""
		if len(parts) == 3 {
			arg = parts[2]
		}
		switch parts[0] {
		case "d":
			e.typ = tar.TypeDir
		case "f":
			e.body = arg
		case "s":
			e.typ, e.link = tar.TypeSymlink, sub(arg)
		case "h":
			e.typ, e.link = tar.TypeLink, sub(arg)
		case "p":
			e.typ = tar.TypeFifo
		default:
			continue
		}
		if e.typ == tar.TypeSymlink && e.link == "" || e.typ == tar.TypeLink && e.link == "" {
			continue
		}
		out = append(out, e)
	}
	return out
}

// FuzzInstall installs arbitrary entries (two packages, so conflicts and
// writes through another package's links happen) and checks nothing
// outside the root changed.
func FuzzInstall(f *testing.F) {
	for _, seed := range []string{
		"d usr/\nd usr/lib/\ns lib usr/lib\nf lib/x hello",
		"s lib OUT\nf lib/evil x",
		"s lib ../../..\nf lib/evil x",
		"s a b\ns b ../outside\nf a/evil x",
		"s lib TOP\nd lib/outside/\nf lib/outside/evil x",
		"f ../x x\nf /etc/x x",
		"s x OUT/sentinel\nf x replaced",
		"f a x\nh b a\nh c OUT/sentinel\nh d ../outside/sentinel",
		"d d/\ns d/l /\nd d/l/tmp/\nf d/l/tmp/x y",
		"s a /\n---\ns b a/..\nf b/x 1",
		"d etc/\nf etc/passwd x\n---\ns etc OUT\nf etc/passwd y",
		"p fifo\nf fifo x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		s := newSandbox(t)
		in, err := New(s.root, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		for i, part := range strings.SplitN(data, "\n---\n", 2) {
			ents := fuzzEntries(s, part)
			name := "p" + string(rune('a'+i))
			_ = in.Install(pkgInfo(name), tar.NewReader(bytes.NewReader(encodable(t, ents))), Control{})
		}
		_ = in.WriteDatabase(DatabaseFiles{World: []string{"pa"}})
		s.checkOutside(t)
	})
}

// encodable writes the entries archive/tar can encode (fuzzed names may
// hold NULs) and drops the rest.
func encodable(t *testing.T, ents []ent) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range ents {
		one := tarBytesOrNil(e)
		if one == nil {
			continue
		}
		tr := tar.NewReader(bytes.NewReader(one))
		hdr, err := tr.Next()
		if err != nil {
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tarBytesOrNil is tarBytes for one entry, nil when it cannot be encoded.
func tarBytesOrNil(e ent) (out []byte) {
	ft := &failT{}
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	return tarBytes(ft, e)
}

// failT turns the Fatal calls of test helpers into a panic.
type failT struct{ testing.TB }

func (*failT) Helper()               {}
func (*failT) Fatal(args ...any)     { panic("fatal") }
func (*failT) Fatalf(string, ...any) { panic("fatal") }
