package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestSameLayersContext extracts a layout's layers as they are (owners,
// setuid bits, symlinks) and copies each by a COPY --link of its own, in
// the image's order.
func TestSameLayersContext(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("extracting owners needs root")
	}
	layers := [][]tar.Header{
		{{Name: "usr/", Typeflag: tar.TypeDir, Mode: 0o755}, {Name: "bin", Typeflag: tar.TypeSymlink, Linkname: "usr/bin"}},
		{{Name: "usr/bin/", Typeflag: tar.TypeDir, Mode: 0o755}, {Name: "usr/bin/tool", Typeflag: tar.TypeReg, Mode: 0o4755, Uid: 1000, Gid: 1001, Size: 4}},
	}
	ociTar := writeLayout(t, layers)
	dir := filepath.Join(t.TempDir(), "ctx")
	// A context written before from another image (a bump's) keeps
	// nothing of it.
	stale := [][]tar.Header{{{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}, {Name: "etc/old", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4}}}
	if err := sameLayersContext(writeLayout(t, stale), dir); err != nil {
		t.Fatal(err)
	}
	if err := sameLayersContext(ociTar, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "l00", "etc")); err == nil {
		t.Error("l00/etc is left from the context written before")
	}
	df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "FROM scratch\nCOPY --link l00/ /\nCOPY --link l01/ /\n"; string(df) != want {
		t.Errorf("Dockerfile:\n%s\nwant:\n%s", df, want)
	}
	if target, err := os.Readlink(filepath.Join(dir, "l00", "bin")); err != nil || target != "usr/bin" {
		t.Errorf("l00/bin: %q, %v; want a symlink to usr/bin", target, err)
	}
	fi, err := os.Lstat(filepath.Join(dir, "l01", "usr", "bin", "tool"))
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode()&os.ModeSetuid == 0 || fi.Mode().Perm() != 0o755 || st.Uid != 1000 || st.Gid != 1001 || fi.Size() != 4 {
		t.Errorf("l01/usr/bin/tool: mode %v, owner %d:%d, %d bytes; want setuid 0755, 1000:1001, 4 bytes", fi.Mode(), st.Uid, st.Gid, fi.Size())
	}
	if _, err := os.Lstat(filepath.Join(dir, "l00", "usr", "bin")); err == nil {
		t.Error("l00 holds usr/bin, which only the second layer has")
	}
}

// writeLayout writes an OCI layout tar of one image with the given
// layers (regular files hold "data"), as ocitest.Load reads it.
func writeLayout(t *testing.T, layers [][]tar.Header) string {
	t.Helper()
	blobs := map[string][]byte{}
	add := func(mediaType string, b []byte) ocispecs.Descriptor {
		d := fmt.Sprintf("sha256:%x", sha256.Sum256(b))
		blobs[d] = b
		return ocispecs.Descriptor{MediaType: mediaType, Digest: digest.Digest(d), Size: int64(len(b))}
	}
	marshal := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var m ocispecs.Manifest
	m.SchemaVersion = 2
	m.MediaType = ocispecs.MediaTypeImageManifest
	for _, hs := range layers {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		for _, h := range hs {
			if err := tw.WriteHeader(&h); err != nil {
				t.Fatal(err)
			}
			if h.Size > 0 {
				tw.Write([]byte("data")[:h.Size])
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		zw.Close()
		m.Layers = append(m.Layers, add(ocispecs.MediaTypeImageLayerGzip, buf.Bytes()))
	}
	m.Config = add(ocispecs.MediaTypeImageConfig, marshal(ocispecs.Image{Platform: ocispecs.Platform{OS: "linux", Architecture: "amd64"}}))
	idx := ocispecs.Index{Manifests: []ocispecs.Descriptor{add(ocispecs.MediaTypeImageManifest, marshal(m))}}
	idx.SchemaVersion = 2
	p := filepath.Join(t.TempDir(), "layout.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	write := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	write("index.json", marshal(idx))
	for d, b := range blobs {
		write("blobs/sha256/"+d[len("sha256:"):], b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}
