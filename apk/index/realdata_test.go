package index

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/sign"
)

func TestRealAlpineIndex(t *testing.T) {
	path := sharedTestdata(t, "alpine-3.16/x86_64/APKINDEX.tar.gz")
	kr, err := sign.LoadKeyring(sharedTestdata(t, "alpine-3.16/alpine-devel@lists.alpinelinux.org-4a6a0840.rsa.pub"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Signed by 6165ee59, which is not in shared/testdata: with the key
	// that is there, a correct verifier must refuse it.
	_, err = Read(bytes.NewReader(data), ReadOptions{Keyring: kr, Name: "alpine-3.16"})
	if !errors.Is(err, sign.ErrUntrusted) || !strings.Contains(err.Error(), "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub") {
		t.Fatalf("real index with the wrong key: err = %v, want ErrUntrusted naming 6165ee59", err)
	}

	// From here on, verification is skipped explicitly. Read from the
	// file itself, as callers with a cached index do.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	idx, err := Read(f, ReadOptions{Keyring: kr, AllowUntrusted: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Packages) != 4929 || idx.Description != "v3.16.3-13-g4d933a1fa3" {
		t.Fatalf("%d packages, description %q", len(idx.Packages), idx.Description)
	}
	if len(idx.Signatures) != 1 || idx.Signatures[0].Alg != sign.SHA1 || idx.Signatures[0].KeyName != "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub" {
		t.Fatalf("signatures %+v", idx.Signatures)
	}

	// Every record, against the raw text split by hand: the parsed record
	// written back must have exactly the lines the original has (as sets:
	// apk-tools' line order is not ours to check here).
	raw := gunzipAll(t, data[sigOffset(t, data):])
	start := bytes.Index(raw, []byte("C:"))
	end := bytes.LastIndex(raw, []byte("\n\n")) + 2
	blocks := strings.Split(strings.TrimSuffix(string(raw[start:end]), "\n\n"), "\n\n")
	if len(blocks) != len(idx.Packages) {
		t.Fatalf("%d text blocks, %d packages", len(blocks), len(idx.Packages))
	}
	for i, p := range idx.Packages {
		want := strings.Split(blocks[i], "\n")
		got := strings.Split(strings.TrimSuffix(string(AppendRecord(nil, p)), "\n"), "\n")
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("record %d (%s) differs:\n got %q\nwant %q", i, p, got, want)
		}
	}

	byName := map[string]*Package{}
	for _, p := range idx.Packages {
		byName[p.Name] = p
	}
	musl, busybox := byName["musl"], byName["busybox"]
	if musl == nil || busybox == nil {
		t.Fatal("musl or busybox missing")
	}
	if musl.Arch != "x86_64" || musl.Origin != "musl" || musl.License != "MIT" || musl.Size == 0 || musl.BuildTime < 1600000000 ||
		!slices.ContainsFunc(musl.Provides, func(s string) bool { return strings.HasPrefix(s, "so:libc.musl-x86_64.so.1=") }) {
		t.Errorf("musl: %+v", musl)
	}
	if !slices.Contains(busybox.Provides, "/bin/sh") || !slices.ContainsFunc(busybox.Dependencies, func(s string) bool { return strings.HasPrefix(s, "so:libc.musl") }) {
		t.Errorf("busybox provides %v, depends %v", busybox.Provides, busybox.Dependencies)
	}

	// Write it back and read that: same records, now in Write's order.
	var buf bytes.Buffer
	if err := Write(&buf, idx.Packages, WriteOptions{Description: idx.Description}); err != nil {
		t.Fatal(err)
	}
	again, err := Read(&buf, ReadOptions{AllowUntrusted: true})
	if err != nil {
		t.Fatal(err)
	}
	records := func(pkgs []*Package) []string {
		var out []string
		for _, p := range pkgs {
			out = append(out, string(AppendRecord(nil, p)))
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(records(again.Packages), records(idx.Packages)) {
		t.Fatal("rewritten index holds different records")
	}
}
