package apktest

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
)

// readAll opens a package as kiln does and reads every entry; it returns
// the entry names and the first error.
func readAll(t *testing.T, data []byte, rec *index.Package, kr *sign.Keyring) ([]string, error) {
	t.Helper()
	r, err := pkg.Open(bytes.NewReader(data), pkg.ReadOptions{Keyring: kr, ExpectedChecksum: rec.Checksum, Name: rec.Filename()})
	if err != nil {
		return nil, err
	}
	var names []string
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			return names, nil
		}
		if err != nil {
			return names, err
		}
		names = append(names, h.Name)
		if _, err := io.Copy(io.Discard, r); err != nil {
			return names, err
		}
	}
}

// A Raw package that breaks nothing reads as a valid package; each broken
// promise is caught where apk's chain of trust says it must be.
func TestRawPackage(t *testing.T) {
	s, kr := TrustedSigner(t)
	entries := []RawEntry{
		{Header: tar.Header{Name: "dev", Typeflag: tar.TypeDir, Mode: 0o755}},
		{Header: tar.Header{Name: "dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3}},
		{Header: tar.Header{Name: "../escape", Typeflag: tar.TypeReg, Mode: 0o644}, Data: []byte("x")},
	}
	tests := []struct {
		name    string
		raw     Raw
		wantErr error
	}{
		{"valid", Raw{Signer: s, Alg: sign.SHA256}, nil},
		{"unsigned, pinned by the index", Raw{}, nil},
		{"unsigned without datahash", Raw{NoDataHash: true}, pkg.ErrNoDataHash},
		{"wrong datahash", Raw{Signer: s, Alg: sign.SHA256, DataHash: "00" + string(bytes.Repeat([]byte("11"), 31))}, pkg.ErrChecksum},
		{"bad file checksum", Raw{Signer: s, Alg: sign.SHA256, Entries: []RawEntry{{
			Header: tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644, PAXRecords: map[string]string{"APK-TOOLS.checksum.SHA1": "0000000000000000000000000000000000000000"}},
			Data:   []byte("data")}}}, pkg.ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.raw
			r.Name, r.Version, r.Arch = "raw", "1.0-r0", "x86_64"
			if r.Entries == nil {
				r.Entries = entries
			}
			data, rec, err := r.Build()
			if err != nil {
				t.Fatal(err)
			}
			if rec.Size != uint64(len(data)) {
				t.Errorf("record size %d, file %d", rec.Size, len(data))
			}
			names, err := readAll(t, data, rec, kr)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("read: %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && len(names) != len(r.Entries) {
				t.Errorf("read %v, wrote %d entries", names, len(r.Entries))
			}
		})
	}
}

// RawIndex wraps text as given, signed; a padded DESCRIPTION sits before it.
func TestRawIndex(t *testing.T) {
	s, kr := TrustedSigner(t)
	text, err := IndexText([]*index.Package{{Name: "a", Version: "1.0-r0", Arch: "x86_64", Checksum: "Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=", Size: 1}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := RawIndex(text, s, sign.SHA256, Pad{"DESCRIPTION", 1000})
	if err != nil {
		t.Fatal(err)
	}
	idx, err := index.Read(bytes.NewReader(b), index.ReadOptions{Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Packages) != 1 || idx.Packages[0].Name != "a" {
		t.Errorf("packages %v", idx.Packages)
	}
}
