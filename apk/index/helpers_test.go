package index

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/kiln-build/kiln/apk/sign/signtest"

	"github.com/kiln-build/kiln/internal/testkit"

	"github.com/kiln-build/kiln/apk/sign"
)

// sharedTestdata finds ../shared/testdata/rel, or skips.
func sharedTestdata(t testing.TB, rel string) string {
	t.Helper()
	return testkit.SharedTestdata(t, rel)
}

// signers returns the two keys the index tests sign with.
func signers(t testing.TB) (*sign.Signer, *sign.Signer) {
	t.Helper()
	return signtest.Signer(t, "a.rsa.pub"), signtest.Signer(t, "b.rsa.pub")
}

// keyring trusts the public keys of ss, each under its signer's name.
func keyring(t testing.TB, ss ...*sign.Signer) *sign.Keyring {
	t.Helper()
	k := sign.NewKeyring()
	for _, s := range ss {
		addKey(t, k, s.KeyName, s)
	}
	return k
}

func addKey(t testing.TB, k *sign.Keyring, name string, s *sign.Signer) {
	t.Helper()
	p, err := s.PublicKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Add(name, p); err != nil {
		t.Fatal(err)
	}
}

// samplePackages is already in Write's order (name, then version).
func samplePackages() []*Package {
	return []*Package{
		{Name: "busybox", Version: "1.35.0-r2", Arch: "x86_64", Checksum: "Q1xxxxxxxxxxxxxxxxxxxxxxxxxxx="},
		{Name: "busybox", Version: "1.35.0-r17", Arch: "x86_64", Size: 500000, InstalledSize: 900000, License: "GPL-2.0-only",
			Checksum: "Q1Zs1r2EMyc8YY0jTGyY7xRCbFbLo=", Provides: []string{"/bin/sh", "cmd:busybox=1.35.0-r17"},
			InstallIf: []string{"a", "b=1"}, Replaces: []string{"busybox-initscripts"}, ProviderPriority: 100, HasProviderPrio: true,
			ReplacesPriority: 5, Extra: []Field{{Key: 'Z', Value: "unknown-but-kept"}, {Key: 'g', Value: "second unknown"}}},
		{Name: "zlib", Version: "1.2.13-r0", Arch: "x86_64", Size: 53000, InstalledSize: 110000, Description: "A compression library",
			URL: "https://zlib.net/", License: "Zlib", Origin: "zlib", Maintainer: "A <a@b>", BuildTime: 1667000000,
			Commit: "abc123", Checksum: "Q1a3dTvsj0tG5Ejz1ToM+nFDcZ2Q8=", Dependencies: []string{"so:libc.musl-x86_64.so.1"},
			Provides: []string{"so:libz.so.1=1.2.13"}},
	}
}

func writeIndex(t testing.TB, pkgs []*Package, opts WriteOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, pkgs, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sigOffset is where the signed part of an index starts.
func sigOffset(t testing.TB, data []byte) int {
	t.Helper()
	br := bytes.NewReader(data)
	src := bufio.NewReader(br)
	if _, err := readSignatureMember(src); err != nil {
		t.Fatal(err)
	}
	return len(data) - br.Len() - src.Buffered()
}

// gunzipAll inflates every gzip member of data with compress/gzip, a
// decoder independent of the one Read uses.
func gunzipAll(t testing.TB, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type tarEntry struct {
	name string
	size int64 // header size; -1: len(data)
	data []byte
}

// rawIndex builds an unsigned index by hand, so tests can feed Read
// archives that Write would never produce.
func rawIndex(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		size := e.size
		if size < 0 {
			size = int64(len(e.data))
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil && size == int64(len(e.data)) {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil && entries[len(entries)-1].size < 0 {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
