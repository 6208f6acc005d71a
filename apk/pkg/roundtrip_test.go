package pkg

import (
	"archive/tar"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kiln-build/kiln/apk/sign"
)

// wantEntry is what reading the fixture back must give, in order.
type wantEntry struct {
	name     string
	typ      byte
	mode     int64
	link     string
	uid, gid int
	data     string
	xattrs   map[string]string
}

func fixtureWant() []wantEntry {
	long := "usr/share/doc/" + strings.Repeat("very-long-directory-name/", 5) + "README"
	return []wantEntry{
		{name: "tmp", typ: tar.TypeDir, mode: 0o1777},
		{name: "usr", typ: tar.TypeDir, mode: 0o755},
		{name: "usr/bin", typ: tar.TypeDir, mode: 0o755},
		{name: "usr/bin/aa-hello", typ: tar.TypeReg, mode: 0o4755, data: "\x7fELF hello binary"},
		{name: "usr/bin/hello", typ: tar.TypeLink, mode: 0o4755, link: "usr/bin/aa-hello"},
		{name: "usr/bin/hi", typ: tar.TypeSymlink, mode: 0o777, link: "hello"},
		{name: "usr/bin/ping", typ: tar.TypeReg, mode: 0o755, data: "ping",
			xattrs: map[string]string{"security.capability": "\x01\x00\x00\x02\x00\x20\x00\x00"}},
		{name: long, typ: tar.TypeReg, mode: 0o644, data: strings.Repeat("docs ", 3000)},
		{name: "usr/share/empty", typ: tar.TypeReg, mode: 0o644},
		{name: "var", typ: tar.TypeDir, mode: 0o755},
		{name: "var/lib/hello/state", typ: tar.TypeReg, mode: 0o640, uid: 1000, gid: 1001, data: "state\n"},
		{name: "var/run", typ: tar.TypeSymlink, mode: 0o777, link: "/run"},
		{name: "var/run-extra", typ: tar.TypeDir, mode: 0o2755},
	}
}

func TestRoundTrip(t *testing.T) {
	a, b := testSigners(t)
	tests := []struct {
		name    string
		opts    WriteOptions
		read    ReadOptions
		wantSig []sign.Signature // Alg and KeyName only
	}{
		{"sha256", WriteOptions{Signer: a, Alg: sign.SHA256, SourceDateEpoch: 1700000000},
			ReadOptions{Keyring: keyringOf(t, a)}, []sign.Signature{{Alg: sign.SHA256, KeyName: a.KeyName}}},
		{"sha1", WriteOptions{Signer: b, Alg: sign.SHA1, SourceDateEpoch: 12345678},
			ReadOptions{Keyring: keyringOf(t, a, b)}, []sign.Signature{{Alg: sign.SHA1, KeyName: b.KeyName}}},
		{"unsigned-epoch-zero", WriteOptions{},
			ReadOptions{AllowUntrusted: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, rec := writeFixture(t, tt.opts)
			members := splitMembers(t, data)
			wantMembers := 2
			if tt.wantSig != nil {
				wantMembers = 3
			}
			if len(members) != wantMembers {
				t.Fatalf("package has %d gzip members, want %d", len(members), wantMembers)
			}
			control, dataMember := members[len(members)-2], members[len(members)-1]
			sum := sha1.Sum(control)
			wantChecksum := "Q1" + base64.StdEncoding.EncodeToString(sum[:])
			dh := sha256.Sum256(dataMember)

			// The returned record is the input plus what Write computed.
			want := fixtureInfo()
			want.BuildTime = tt.opts.SourceDateEpoch
			want.Size = uint64(len(data))
			want.Checksum = wantChecksum
			want.InstalledSize = uint64(len("\x7fELF hello binary") + len("ping") + 5*3000 + len("state\n"))
			if !reflect.DeepEqual(rec, want) {
				t.Fatalf("Write record:\n got %+v\nwant %+v", rec, want)
			}

			tt.read.ExpectedChecksum = wantChecksum
			r, err := Open(bytes.NewReader(data), tt.read)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if r.DataHash != hex.EncodeToString(dh[:]) {
				t.Errorf("DataHash = %s, SHA-256 of data member is %x", r.DataHash, dh)
			}
			if r.ControlChecksum != wantChecksum {
				t.Errorf("ControlChecksum = %s, want %s", r.ControlChecksum, wantChecksum)
			}
			var gotSig []sign.Signature
			for _, s := range r.Signatures {
				gotSig = append(gotSig, sign.Signature{Alg: s.Alg, KeyName: s.KeyName})
			}
			if !reflect.DeepEqual(gotSig, tt.wantSig) {
				t.Errorf("Signatures = %+v, want %+v", gotSig, tt.wantSig)
			}
			wantScripts := map[string][]byte{}
			for k, v := range fixtureScripts {
				wantScripts["."+strings.TrimPrefix(k, ".")] = v
			}
			if !maps.EqualFunc(r.Scripts, wantScripts, bytes.Equal) {
				t.Errorf("Scripts = %q, want %q", r.Scripts, wantScripts)
			}
			if !slices.Equal(r.Triggers, fixtureTriggers) {
				t.Errorf("Triggers = %q, want %q", r.Triggers, fixtureTriggers)
			}
			if len(r.PkgInfoExtra) != 0 {
				t.Errorf("PkgInfoExtra = %q, want none", r.PkgInfoExtra)
			}

			got, err := drain(r)
			if err != nil {
				t.Fatalf("reading data: %v", err)
			}
			// Info.Size is only known at the end.
			if !reflect.DeepEqual(r.Info, want) {
				t.Errorf("Info after reading:\n got %+v\nwant %+v", r.Info, want)
			}
			checkEntries(t, got, fixtureWant(), time.Unix(tt.opts.SourceDateEpoch, 0))
		})
	}
}

func checkEntries(t *testing.T, got []readEntry, want []wantEntry, mtime time.Time) {
	t.Helper()
	var gotNames, wantNames []string
	for _, e := range got {
		gotNames = append(gotNames, e.hdr.Name)
	}
	for _, w := range want {
		wantNames = append(wantNames, w.name)
	}
	if !slices.Equal(gotNames, wantNames) {
		t.Fatalf("entries:\n got %q\nwant %q", gotNames, wantNames)
	}
	for i, w := range want {
		h := got[i].hdr
		if h.Typeflag != w.typ || h.Mode != w.mode || h.Linkname != w.link || h.Uid != w.uid || h.Gid != w.gid {
			t.Errorf("%s: type %q mode %o link %q owner %d:%d; want %q %o %q %d:%d",
				w.name, h.Typeflag, h.Mode, h.Linkname, h.Uid, h.Gid, w.typ, w.mode, w.link, w.uid, w.gid)
		}
		if string(got[i].data) != w.data {
			t.Errorf("%s: %d bytes of data, want %d", w.name, len(got[i].data), len(w.data))
		}
		if !h.ModTime.Equal(mtime) || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: mtime %v owner names %q:%q; want %v and none", w.name, h.ModTime, h.Uname, h.Gname, mtime)
		}
		xattrs := map[string]string{}
		for k, v := range h.PAXRecords {
			if x, ok := strings.CutPrefix(k, paxXattrPrefix); ok {
				xattrs[x] = v
			}
		}
		if len(xattrs) > 0 || len(w.xattrs) > 0 {
			if !maps.Equal(xattrs, w.xattrs) {
				t.Errorf("%s: xattrs %q, want %q", w.name, xattrs, w.xattrs)
			}
		}
		// Every regular file and symlink carries the checksum apk records.
		var sum [sha1.Size]byte
		switch h.Typeflag {
		case tar.TypeReg:
			sum = sha1.Sum(got[i].data)
		case tar.TypeSymlink:
			sum = sha1.Sum([]byte(h.Linkname))
		default:
			if v, ok := h.PAXRecords[PAXChecksum]; ok {
				t.Errorf("%s: type %q has checksum %s", w.name, h.Typeflag, v)
			}
			continue
		}
		if v := h.PAXRecords[PAXChecksum]; v != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: %s = %q, want %x", w.name, PAXChecksum, v, sum)
		}
	}
}

// TestDeterministic writes the same package from inputs that differ only
// in what Write must ignore, and from inputs that must change the bytes.
func TestDeterministic(t *testing.T) {
	a, b := testSigners(t)
	base := WriteOptions{Signer: a, Alg: sign.SHA256, SourceDateEpoch: 1700000000}
	ref, _ := writeFixture(t, base)
	tests := []struct {
		name     string
		mutate   func([]Entry, *WriteOptions)
		wantSame bool
	}{
		{"again", func([]Entry, *WriteOptions) {}, true},
		{"reversed order", func(es []Entry, _ *WriteOptions) { slices.Reverse(es) }, true},
		{"times names and stray records", func(es []Entry, _ *WriteOptions) {
			for i := range es {
				h := &es[i].Header
				h.ModTime, h.AccessTime, h.ChangeTime = time.Now(), time.Now(), time.Now()
				h.Uname, h.Gname = "builder", "builder"
				if h.PAXRecords == nil {
					h.PAXRecords = map[string]string{}
				}
				h.PAXRecords["comment"] = "from a build host"
				h.PAXRecords[PAXChecksum] = "ignored"
				h.Format = tar.FormatGNU
			}
		}, true},
		{"other epoch", func(_ []Entry, o *WriteOptions) { o.SourceDateEpoch++ }, false},
		{"other key", func(_ []Entry, o *WriteOptions) { o.Signer = b }, false},
		{"other alg", func(_ []Entry, o *WriteOptions) { o.Alg = sign.SHA1 }, false},
		{"other mode", func(es []Entry, _ *WriteOptions) { es[0].Header.Mode = 0o755 }, false},
		{"other script", func(_ []Entry, o *WriteOptions) { o.Scripts = map[string][]byte{".post-install": nil} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := fixtureEntries()
			opts := base
			opts.Scripts, opts.Triggers = fixtureScripts, fixtureTriggers
			tt.mutate(es, &opts)
			var buf bytes.Buffer
			if _, err := Write(&buf, fixtureInfo(), es, opts); err != nil {
				t.Fatal(err)
			}
			if same := bytes.Equal(buf.Bytes(), ref); same != tt.wantSame {
				t.Fatalf("identical = %v, want %v", same, tt.wantSame)
			}
		})
	}
}

// TestGzipHeader checks every member is compressed like `gzip -n`.
func TestGzipHeader(t *testing.T) {
	a, _ := testSigners(t)
	data, _ := writeFixture(t, WriteOptions{Signer: a, Alg: sign.SHA256, SourceDateEpoch: 99})
	for i, m := range splitMembers(t, data) {
		// Bytes 3..9: flags, mtime, extra flags, OS. No name flag, no mtime.
		if m[3] != 0 || !bytes.Equal(m[4:8], []byte{0, 0, 0, 0}) {
			t.Errorf("member %d: gzip flags %#x mtime % x; want no name and zero mtime", i, m[3], m[4:8])
		}
	}
}
