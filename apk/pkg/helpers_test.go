package pkg

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/kiln-build/kiln/apk/sign/signtest"

	"github.com/kiln-build/kiln/internal/testkit"

	"github.com/kiln-build/kiln/apk/sign"
)

// testSigners returns the two keys the package tests sign with.
func testSigners(t testing.TB) (*sign.Signer, *sign.Signer) {
	t.Helper()
	return signtest.Signer(t, "kiln-a.rsa.pub"), signtest.Signer(t, "kiln-b.rsa.pub")
}

// keyringOf trusts the given signers' public keys under their names.
func keyringOf(t testing.TB, signers ...*sign.Signer) *sign.Keyring {
	t.Helper()
	return signtest.Keyring(t, signers...)
}

// splitMembers cuts a package into its gzip members independently of the
// code under test: bytes.Reader is an io.ByteReader, so gzip stops at each
// member's end and the remaining length gives the boundary.
func splitMembers(t testing.TB, data []byte) [][]byte {
	t.Helper()
	br := bytes.NewReader(data)
	var out [][]byte
	for br.Len() > 0 {
		start := len(data) - br.Len()
		zr, err := gzip.NewReader(br)
		if err != nil {
			t.Fatalf("member at %d: %v", start, err)
		}
		zr.Multistream(false)
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Fatalf("member at %d: %v", start, err)
		}
		out = append(out, data[start:len(data)-br.Len()])
	}
	return out
}

func gunzip(t testing.TB, member []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(member))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipLevelBytes(t testing.TB, level int, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readEntry is one data entry as a caller sees it.
type readEntry struct {
	hdr  *tar.Header
	data []byte
}

// drain reads every entry and its contents; it returns the first error
// other than the final io.EOF.
func drain(r *Reader) ([]readEntry, error) {
	var out []readEntry
	for {
		h, err := r.Next()
		// The end must be a bare io.EOF: a wrapped one would hide a failure
		// from callers that compare with ==.
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return out, err
		}
		out = append(out, readEntry{h, b})
	}
}

// testdataDir is ../shared/testdata, or the test skips.
func testdataDir(t testing.TB) string {
	t.Helper()
	return testkit.SharedTestdata(t, "")
}
