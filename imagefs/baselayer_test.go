package imagefs

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kiln-build/kiln/step"
)

// baseLayerBlob is an uncompressed base layer: a usr-merged tree with a
// link to a file (not a directory link) and a dangling one.
func baseLayerBlob(t *testing.T) (blob []byte, digest string) {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	add := func(h tar.Header, data string) {
		h.ModTime, h.Size = time.Unix(1, 0), int64(len(data))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(data))
	}
	for _, d := range []string{"usr/", "usr/bin/", "usr/lib/", "etc/", "etc/ssl/", "etc/ssl/certs/"} {
		add(tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}, "")
	}
	add(tar.Header{Name: "var/", Typeflag: tar.TypeDir, Mode: 0o750, Uid: 7, Gid: 7}, "")
	add(tar.Header{Name: "usr/bin/sh", Typeflag: tar.TypeReg, Mode: 0o755}, "base shell")
	add(tar.Header{Name: "etc/ssl/certs/ca.crt", Typeflag: tar.TypeReg, Mode: 0o644}, "CA")
	for name, target := range map[string]string{"bin": "usr/bin", "lib": "usr/lib", "sbin": "usr/bin",
		"etc/ssl/cert.pem": "certs/ca.crt", "var/run": "/run"} {
		add(tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}, "")
	}
	tw.Close()
	sum := sha256.Sum256(b.Bytes())
	return b.Bytes(), "sha256:" + hex.EncodeToString(sum[:])
}

func TestApplyLayerRecordsBaseLinks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("applying owners needs root (the build step runs as root)")
	}
	dir := t.TempDir()
	blob, digest := baseLayerBlob(t)
	blobFile := filepath.Join(dir, "blob")
	os.WriteFile(blobFile, blob, 0o644)
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(p, 0o755)
		return p
	}
	s := step.ApplyLayer{Blob: blobFile, MediaType: "application/vnd.oci.image.layer.v1.tar", Digest: digest, DiffID: digest,
		Rootfs: mk("rootfs"), Links: mk("links"), Tree: mk("tree")}
	if err := ApplyLayer(s); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(s.Rootfs, "usr/bin/sh")); err != nil || string(b) != "base shell" {
		t.Fatalf("the layer was not applied: %q %v", b, err)
	}
	var rec []step.Link
	data, _ := os.ReadFile(filepath.Join(s.Links, step.LinksFile))
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	want := []step.Link{{Path: "bin", Target: "usr/bin"}, {Path: "lib", Target: "usr/lib"}, {Path: "sbin", Target: "usr/bin"}, {Path: "var/run", Target: "/run"}}
	if !reflect.DeepEqual(rec, want) {
		t.Errorf("links record %+v, want %+v (etc/ssl/cert.pem leads to a file)", rec, want)
	}
	// The tree holds the same links, under directories with the base's owners and modes.
	for _, l := range want {
		if got, err := os.Readlink(filepath.Join(s.Tree, l.Path)); err != nil || got != l.Target {
			t.Errorf("tree %s: %q %v", l.Path, got, err)
		}
	}
	fi, err := os.Lstat(filepath.Join(s.Tree, "var"))
	if err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("tree var: %v %v", fi, err)
	}
	if uid, gid := owner(fi); uid != 7 || gid != 7 {
		t.Errorf("tree var owned by %d:%d, want the base's 7:7", uid, gid)
	}
	if _, err := os.Lstat(filepath.Join(s.Tree, "usr")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the tree holds usr, which holds no link: %v", err)
	}

	// The install step above goes through the base's links ...
	repo, pkgs := usrMergeRepo(t)
	inst := step.InstallAPK{Keyring: filepath.Join(repo, "keys"), Lower: s.Links, Links: mk("links2"),
		Layers: []step.InstallLayer{{Out: mk("out"), Meta: mk("meta"), Packages: []step.APKFile{
			{Path: filepath.Join(repo, "repo", "x86_64", pkgs["legacy"].Filename()), Checksum: pkgs["legacy"].Checksum}}}}}
	if err := InstallAPK(inst); err != nil {
		t.Fatal(err)
	}
	out := inst.Layers[0].Out
	if _, err := os.Lstat(filepath.Join(out, "bin")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the package layer has a bin that would hide the base's link: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(out, "usr/bin/legacy")); err != nil {
		t.Errorf("bin/legacy did not land in usr/bin: %v", err)
	}

	// ... and so does the metadata step, which sees the tree under the
	// package layers: no /lib directory over the base's lib -> usr/lib.
	baseDB := "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:baselayout\nV:1-r0\nA:x86_64\ni:[]\nF:usr/bin\nR:sh\nZ:Q1BBBBBBBBBBBBBBBBBBBBBBBBBBB=\n\n"
	dbFile := filepath.Join(dir, "APKINDEX")
	os.WriteFile(dbFile, []byte(baseDB), 0o644)
	sum := sha256.Sum256([]byte(baseDB))
	spec := step.ImageSpec{Arch: "x86_64", World: []string{"baselayout=1-r0", "legacy=3-r0"}, Repositories: []string{"https://r"}, OnBase: true}
	specData, _ := json.Marshal(spec)
	specFile := filepath.Join(dir, "spec.json")
	os.WriteFile(specFile, specData, 0o644)
	meta := step.ImageMeta{Spec: specFile, Layers: []string{s.Tree, out}, Keyring: filepath.Join(repo, "keys"), Out: mk("metaout"),
		Metas: []string{inst.Layers[0].Meta}, BaseDB: dbFile, BaseDBSHA256: hex.EncodeToString(sum[:])}
	if err := ImageMeta(meta); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(meta.Out, "lib")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the metadata layer has lib (%v): it would hide the base's lib -> usr/lib", fi)
	}
	for _, p := range []string{"etc/passwd", "etc/group", "etc/shadow"} {
		if _, err := os.Lstat(filepath.Join(meta.Out, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s written on a base image, whose accounts stand", p)
		}
	}
	db, err := os.ReadFile(filepath.Join(meta.Out, InstalledDBPath))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(db), "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:baselayout\n") || !strings.Contains(string(db), "\nP:legacy\n") ||
		!strings.Contains(string(db), "F:usr/bin\nR:sh\nZ:Q1BBBBBBBBBBBBBBBBBBBBBBBBBBB=\n") {
		t.Errorf("installed database does not hold the base's record, then the new one:\n%s", db)
	}
	if w, _ := os.ReadFile(filepath.Join(meta.Out, "etc/apk/world")); string(w) != "baselayout=1-r0\nlegacy=3-r0\n" {
		t.Errorf("world %q", w)
	}

	// A database that changed since planning is refused.
	meta.Out = mk("metaout2")
	meta.BaseDBSHA256 = strings.Repeat("0", 64)
	if err := ImageMeta(meta); err == nil || !strings.Contains(err.Error(), "changed since the build was planned") {
		t.Errorf("err = %v", err)
	}
}
