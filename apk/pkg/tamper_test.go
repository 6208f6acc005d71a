package pkg

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kiln-build/kiln/apk/sign"
)

// assemble builds a package from prepared data entries the way Write
// does, so tests can plant inconsistencies Write itself never produces.
// A nil signer leaves it unsigned.
func assemble(t *testing.T, s *sign.Signer, des []dataEntry) []byte {
	t.Helper()
	data, err := dataMember(des)
	if err != nil {
		t.Fatal(err)
	}
	dh := sha256.Sum256(data)
	info := fixtureInfo()
	pkginfo, err := formatPkgInfo(info, hex.EncodeToString(dh[:]), nil)
	if err != nil {
		t.Fatal(err)
	}
	return assembleRaw(t, s, pkginfo, data)
}

func assembleRaw(t *testing.T, s *sign.Signer, pkginfo, data []byte) []byte {
	t.Helper()
	control, err := controlMember(pkginfo, nil, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if s != nil {
		sig, err := s.Sign(sign.SHA256, sign.Digest(sign.SHA256, control))
		if err != nil {
			t.Fatal(err)
		}
		if err := sign.WriteSegment(&out, sig); err != nil {
			t.Fatal(err)
		}
	}
	out.Write(control)
	out.Write(data)
	return out.Bytes()
}

func preparedFixture(t *testing.T) []dataEntry {
	t.Helper()
	des, _, err := prepareEntries(fixtureEntries(), time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return des
}

func findEntry(t *testing.T, des []dataEntry, name string) *dataEntry {
	t.Helper()
	for i := range des {
		if des[i].hdr.Name == name {
			return &des[i]
		}
	}
	t.Fatalf("fixture has no %q", name)
	return nil
}

// rebuildMember replaces member i of pkg by f applied to its contents,
// recompressed at level.
func rebuildMember(t *testing.T, pkg []byte, i, level int, f func([]byte) []byte) []byte {
	t.Helper()
	ms := splitMembers(t, pkg)
	ms[i] = gzipLevelBytes(t, level, f(gunzip(t, ms[i])))
	return bytes.Join(ms, nil)
}

func flipByte(pkg []byte, at int) []byte {
	out := bytes.Clone(pkg)
	out[at] ^= 0x55
	return out
}

func TestTampered(t *testing.T) {
	a, b := testSigners(t)
	trustA := keyringOf(t, a)
	signed, rec := writeFixture(t, WriteOptions{Signer: a, Alg: sign.SHA256, SourceDateEpoch: 1})
	unsigned, _ := writeFixture(t, WriteOptions{SourceDateEpoch: 1})
	byB, _ := writeFixture(t, WriteOptions{Signer: b, Alg: sign.SHA1, SourceDateEpoch: 1})
	ms := splitMembers(t, signed)
	sigEnd, ctlEnd := len(ms[0]), len(ms[0])+len(ms[1])
	same := func(b []byte) []byte { return b }

	// A file whose contents differ from its recorded SHA-1, in a package
	// whose datahash and signature are otherwise correct.
	badFile := func() []byte {
		des := preparedFixture(t)
		e := findEntry(t, des, "usr/bin/ping")
		e.data = []byte("pong")
		return assemble(t, a, des)
	}
	badLink := func() []byte {
		des := preparedFixture(t)
		findEntry(t, des, "usr/bin/hi").hdr.Linkname = "/bin/sh"
		return assemble(t, a, des)
	}
	malformedSum := func() []byte {
		des := preparedFixture(t)
		findEntry(t, des, "usr/bin/ping").hdr.PAXRecords[PAXChecksum] = "not-hex"
		return assemble(t, a, des)
	}
	q1Sum := func() []byte {
		des := preparedFixture(t)
		// The "Q1" base64 form some writers use instead of hex.
		sum := sha1.Sum([]byte("ping"))
		findEntry(t, des, "usr/bin/ping").hdr.PAXRecords[PAXChecksum] = "Q1" + base64.StdEncoding.EncodeToString(sum[:])
		return assemble(t, a, des)
	}
	staleDatahash := func() []byte {
		des := preparedFixture(t)
		pkginfo, err := formatPkgInfo(fixtureInfo(), hex.EncodeToString(make([]byte, 32)), nil)
		if err != nil {
			t.Fatal(err)
		}
		data, err := dataMember(des)
		if err != nil {
			t.Fatal(err)
		}
		return assembleRaw(t, a, pkginfo, data)
	}
	noDatahashBadFile := func() []byte {
		des := preparedFixture(t)
		findEntry(t, des, "usr/bin/ping").data = []byte("pong")
		pkginfo, err := formatPkgInfo(fixtureInfo(), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		data, err := dataMember(des)
		if err != nil {
			t.Fatal(err)
		}
		return assembleRaw(t, a, pkginfo, data)
	}
	secondData := append(bytes.Clone(signed), ms[2]...)

	tests := []struct {
		name     string
		pkg      []byte
		opts     ReadOptions
		skipData bool  // call Next without reading file contents
		want     error // nil: success; errAny: any error
		atOpen   bool  // the error must come from Open
	}{
		{"intact", signed, ReadOptions{Keyring: trustA}, false, nil, false},
		{"intact skipping contents", signed, ReadOptions{Keyring: trustA}, true, nil, false},
		{"expected checksum matches", signed, ReadOptions{Keyring: trustA, ExpectedChecksum: rec.Checksum}, false, nil, false},
		{"expected checksum differs", signed, ReadOptions{Keyring: trustA, ExpectedChecksum: "Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA="}, false, ErrChecksum, true},
		{"expected checksum not Q1", signed, ReadOptions{Keyring: trustA, ExpectedChecksum: "Q2AAAA"}, false, errAny, true},
		{"control recompressed", rebuildMember(t, signed, 1, gzip.BestSpeed, same), ReadOptions{Keyring: trustA}, false, sign.ErrBadSignature, true},
		{"control recompressed, untrusted allowed", rebuildMember(t, signed, 1, gzip.BestSpeed, same), ReadOptions{Keyring: trustA, AllowUntrusted: true}, false, sign.ErrBadSignature, true},
		{"control byte flipped", flipByte(signed, sigEnd+len(ms[1])/2), ReadOptions{Keyring: trustA}, false, errAny, true},
		{"control byte flipped, untrusted allowed", flipByte(signed, sigEnd+len(ms[1])/2), ReadOptions{AllowUntrusted: true}, false, errAny, true},
		{"data byte flipped", flipByte(signed, ctlEnd+len(ms[2])/2), ReadOptions{Keyring: trustA}, false, errAny, false},
		{"data recompressed", rebuildMember(t, signed, 2, gzip.BestSpeed, same), ReadOptions{Keyring: trustA}, false, ErrChecksum, false},
		{"data recompressed, contents skipped", rebuildMember(t, signed, 2, gzip.BestSpeed, same), ReadOptions{Keyring: trustA}, true, ErrChecksum, false},
		{"datahash stale", staleDatahash(), ReadOptions{Keyring: trustA}, false, ErrChecksum, false},
		{"file contents differ", badFile(), ReadOptions{Keyring: trustA}, false, ErrChecksum, false},
		{"file contents differ, contents skipped", badFile(), ReadOptions{Keyring: trustA}, true, ErrChecksum, false},
		{"file contents differ, no datahash", noDatahashBadFile(), ReadOptions{Keyring: trustA}, false, ErrChecksum, false},
		{"symlink target differs", badLink(), ReadOptions{Keyring: trustA}, false, ErrChecksum, false},
		{"file checksum malformed", malformedSum(), ReadOptions{Keyring: trustA}, false, errAny, false},
		{"file checksum in Q1 form", q1Sum(), ReadOptions{Keyring: trustA}, false, nil, false},
		{"wrong key", byB, ReadOptions{Keyring: trustA}, false, sign.ErrUntrusted, true},
		{"wrong key, untrusted allowed", byB, ReadOptions{Keyring: trustA, AllowUntrusted: true}, false, nil, false},
		{"no keyring", signed, ReadOptions{}, false, sign.ErrUntrusted, true},
		{"unsigned", unsigned, ReadOptions{Keyring: trustA}, false, sign.ErrUnsigned, true},
		{"unsigned, untrusted allowed", unsigned, ReadOptions{AllowUntrusted: true}, false, nil, false},
		{"trailing byte", append(bytes.Clone(signed), 0), ReadOptions{Keyring: trustA}, false, errAny, false},
		{"fourth member", secondData, ReadOptions{Keyring: trustA}, false, errAny, false},
		{"no data member", signed[:ctlEnd], ReadOptions{Keyring: trustA}, false, errAny, true},
		{"control without PKGINFO", rebuildMember(t, unsigned, 0, 6, func([]byte) []byte {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			tw.WriteHeader(&tar.Header{Name: ".post-install", Mode: 0o755, Size: 2})
			tw.Write([]byte("#!"))
			tw.Flush()
			return buf.Bytes()
		}), ReadOptions{AllowUntrusted: true}, false, errAny, true},
		{"data file in control", rebuildMember(t, unsigned, 0, 6, func(b []byte) []byte {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			tw.WriteHeader(&tar.Header{Name: "etc/passwd", Mode: 0o644})
			tw.Flush()
			return append(b, buf.Bytes()...)
		}), ReadOptions{AllowUntrusted: true}, false, errAny, true},
		{"empty input", nil, ReadOptions{AllowUntrusted: true}, false, errAny, true},
		{"not gzip", []byte("PK\x03\x04 a zip file"), ReadOptions{AllowUntrusted: true}, false, errAny, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err, atOpen := readPackage(tt.pkg, tt.opts, tt.skipData)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want == nil:
				return
			case err == nil:
				t.Fatalf("read succeeded, want error %v", tt.want)
			case tt.want != errAny && !errors.Is(err, tt.want):
				t.Fatalf("error = %v, want %v", err, tt.want)
			case tt.atOpen != atOpen:
				t.Fatalf("error from Open = %v, want %v: %v", atOpen, tt.atOpen, err)
			case errors.Is(err, io.EOF):
				t.Fatalf("error %v looks like io.EOF to callers", err)
			}
		})
	}
}

// errAny stands for "any error" in test tables.
var errAny = errors.New("any error")

// readPackage opens and reads a whole package, reporting the first error
// and whether Open returned it.
func readPackage(pkg []byte, opts ReadOptions, skipData bool) (error, bool) {
	r, err := Open(bytes.NewReader(pkg), opts)
	if err != nil {
		return err, true
	}
	for {
		_, err := r.Next()
		if err == io.EOF {
			if r.Info.Size != uint64(len(pkg)) {
				return errors.New("Info.Size is not the package size"), false
			}
			return nil, false
		}
		if err != nil {
			return err, false
		}
		if !skipData {
			if _, err := io.Copy(io.Discard, r); err != nil {
				return err, false
			}
		}
	}
}

// TestDataAfterDataSection checks that bytes after the data member are
// refused as such, at the member's end, however many the data section's
// read-ahead took with it, and not reported as a datahash mismatch.
func TestDataAfterDataSection(t *testing.T) {
	a, _ := testSigners(t)
	signed, _ := writeFixture(t, WriteOptions{Signer: a, Alg: sign.SHA256, SourceDateEpoch: 1})
	for _, extra := range []int{1, 100, 200 << 10} {
		t.Run(strconv.Itoa(extra), func(t *testing.T) {
			pkg := append(bytes.Clone(signed), bytes.Repeat([]byte{0x1f}, extra)...)
			err, atOpen := readPackage(pkg, ReadOptions{Keyring: keyringOf(t, a)}, false)
			want := fmt.Sprintf("unexpected data after the data section at offset %d", len(signed))
			if err == nil || atOpen || !strings.Contains(err.Error(), want) || errors.Is(err, ErrChecksum) {
				t.Fatalf("error %v (from Open: %v), want one from Next saying %q", err, atOpen, want)
			}
		})
	}
}

// TestTruncated cuts a package everywhere near its member boundaries and
// in the middle of each member: no cut may read as a complete package.
func TestTruncated(t *testing.T) {
	a, _ := testSigners(t)
	pkg, _ := writeFixture(t, WriteOptions{Signer: a, Alg: sign.SHA256})
	ms := splitMembers(t, pkg)
	var cuts []int
	off := 0
	for _, m := range ms {
		cuts = append(cuts, off+1, off+10, off+len(m)/2, off+len(m)-8, off+len(m)-1)
		off += len(m)
		if off < len(pkg) {
			cuts = append(cuts, off)
		}
	}
	for _, cut := range cuts {
		err, _ := readPackage(pkg[:cut], ReadOptions{Keyring: keyringOf(t, a)}, false)
		if err == nil {
			t.Errorf("package cut to %d of %d bytes read without error", cut, len(pkg))
		} else if errors.Is(err, io.EOF) {
			t.Errorf("cut at %d: error %v looks like io.EOF", cut, err)
		}
	}
}

// TestReadStickyError checks that after a checksum failure Read and Next
// keep failing instead of carrying on with the next file.
func TestReadStickyError(t *testing.T) {
	a, _ := testSigners(t)
	des := preparedFixture(t)
	e := findEntry(t, des, "usr/bin/aa-hello")
	e.data = []byte("\x7fELF tampered")
	e.hdr.Size = int64(len(e.data))
	r, err := Open(bytes.NewReader(assemble(t, a, des)), ReadOptions{Keyring: keyringOf(t, a)})
	if err != nil {
		t.Fatal(err)
	}
	var first error
	for first == nil {
		if _, first = r.Next(); first == nil {
			_, first = io.ReadAll(r)
		}
	}
	if !errors.Is(first, ErrChecksum) {
		t.Fatalf("first error = %v, want ErrChecksum", first)
	}
	if _, err := r.Next(); !errors.Is(err, ErrChecksum) {
		t.Errorf("Next after failure = %v, want the same error", err)
	}
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, ErrChecksum) {
		t.Errorf("Read after failure = %v, want the same error", err)
	}
}

// TestSparseRejected plants an old-style GNU sparse entry claiming a
// huge size in an otherwise valid package.
func TestSparseRejected(t *testing.T) {
	a, _ := testSigners(t)
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "big", Mode: 0o644, Size: 0, Format: tar.FormatGNU}); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	raw := tarBuf.Bytes()
	raw[156] = tar.TypeGNUSparse
	copy(raw[483:495], "77777777777\x00") // realsize: 8 GiB of holes
	var sum int64
	copy(raw[148:156], "        ")
	for _, c := range raw[:512] {
		sum += int64(c)
	}
	copy(raw[148:156], []byte(padOctal(sum)))
	data := gzipLevelBytes(t, 6, raw)
	dh := sha256.Sum256(data)
	pkginfo, err := formatPkgInfo(fixtureInfo(), hex.EncodeToString(dh[:]), nil)
	if err != nil {
		t.Fatal(err)
	}
	err, _ = readPackage(assembleRaw(t, a, pkginfo, data), ReadOptions{Keyring: keyringOf(t, a)}, true)
	if err == nil || !strings.Contains(err.Error(), "sparse") {
		t.Fatalf("error = %v, want sparse files refused", err)
	}
}

// padOctal renders a tar header checksum field.
func padOctal(n int64) string {
	s := strconv.FormatInt(n, 8)
	return strings.Repeat("0", 6-len(s)) + s + "\x00 "
}

// The index lists the package by name and version; a .PKGINFO naming
// another package is refused at Open, before any file is read.
func TestExpectedNameVersion(t *testing.T) {
	s, _ := testSigners(t)
	data := assemble(t, s, preparedFixture(t))
	info := fixtureInfo()
	listed := info.Name + "-" + info.Version
	for _, tt := range []struct {
		expected string
		wantErr  error
	}{
		{"", nil},
		{listed, nil},
		{"other-1.0-r0", ErrNotListed},
		{info.Name + "-9" + info.Version, ErrNotListed},
	} {
		err, atOpen := readPackage(data, ReadOptions{Keyring: keyringOf(t, s), ExpectedNameVersion: tt.expected}, false)
		if !errors.Is(err, tt.wantErr) || err != nil && !atOpen {
			t.Errorf("expected %q: err %v (at open: %v), want %v", tt.expected, err, atOpen, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "not the package the index lists ("+tt.expected+"): its .PKGINFO says "+listed) {
			t.Errorf("error %q does not name both", err)
		}
	}
}
