package pkg_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha1"
	"io"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
)

// ContentSHA1 gives the whole file's SHA-1 however much of it the caller
// read, only for a file whose header has a checksum, and the reader still
// checks the file and the data section after it.
func TestContentSHA1(t *testing.T) {
	signer, keys := apktest.TrustedSigner(t)
	body := bytes.Repeat([]byte("contents "), 10000)
	data, rec, err := apktest.Raw{Name: "a", Version: "1.0-r0", Arch: "x86_64", Signer: signer, Alg: sign.SHA256,
		Entries: []apktest.RawEntry{
			{Header: tar.Header{Name: "summed", Typeflag: tar.TypeReg, Mode: 0o644}, Data: body},
			{Header: tar.Header{Name: "unsummed", Typeflag: tar.TypeReg, Mode: 0o644}, Data: body, NoChecksum: true},
		}}.Build()
	if err != nil {
		t.Fatal(err)
	}
	pr, err := pkg.Open(bytes.NewReader(data), pkg.ReadOptions{Keyring: keys, ExpectedChecksum: rec.Checksum, Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	want := sha1.Sum(body)
	for _, read := range []int64{100, 0} {
		h, err := pr.Next()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(io.Discard, pr, read); err != nil {
			t.Fatal(err)
		}
		sum, ok, err := pr.ContentSHA1()
		switch {
		case err != nil:
			t.Fatalf("%s: %v", h.Name, err)
		case h.Name == "summed" && (!ok || !bytes.Equal(sum, want[:])):
			t.Errorf("%s: sum %x, %v; want %x", h.Name, sum, ok, want)
		case h.Name == "unsummed" && ok:
			t.Errorf("%s: a sum for a file without a checksum", h.Name)
		}
	}
	if _, err := pr.Next(); err != io.EOF {
		t.Errorf("after the last file: %v, want io.EOF", err)
	}
}
