package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/apk/install"
	"github.com/kiln-build/kiln/integration/ocitest"
)

// baseContext builds the base image (kiln's no-shell example: hello and
// libhello) and writes the context of dockerfile-syntax-examples/baseimage
// around it: the repository, the base as an OCI layout directory (with
// extra layers appended, each an uncompressed tar) and its installed
// database as the apkindex. It returns the context and the base image.
func baseContext(t *testing.T, extra ...[]byte) (string, *ocitest.Layout, ocitest.Image) {
	t.Helper()
	return baseContextFrom(t, exampleContext(t, "no-shell", nil, 0), extra...)
}

// baseContextFrom is baseContext with the base built from baseCtx. With
// no extra layers the layout is buildx's own, untarred as a user would.
func baseContextFrom(t *testing.T, baseCtx string, extra ...[]byte) (string, *ocitest.Layout, ocitest.Image) {
	t.Helper()
	baseL, _ := buildOCI(t, baseCtx, "--platform", "linux/amd64")
	baseImg := onlyImage(t, baseL)
	ctx := exampleContext(t, "baseimage", nil, 0)
	layout := filepath.Join(ctx, "base", "layout")
	l, img := baseL, baseImg
	if len(extra) > 0 {
		l, img = writeLayout(t, layout, baseL, baseImg, extra)
	} else {
		untarLayout(t, baseL.Path, layout)
	}
	writeAPKIndex(t, ctx, "x86_64", l, img)
	return ctx, l, img
}

// untarLayout unpacks an OCI layout tar into dir.
func untarLayout(t *testing.T, tarPath, dir string) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	if out, err := exec.Command("tar", "-C", dir, "-xf", tarPath).CombinedOutput(); err != nil {
		t.Fatalf("untar %s: %v %s", tarPath, err, out)
	}
}

// writeAPKIndex copies img's installed database to the context's apkindex
// for arch, as apko's examples do.
func writeAPKIndex(t *testing.T, ctx, arch string, l *ocitest.Layout, img ocitest.Image) {
	t.Helper()
	fs, err := l.Rootfs(img)
	if err != nil {
		t.Fatal(err)
	}
	db, ok := fs[install.DefaultDBPath]
	if !ok {
		t.Fatalf("the base image has no %s", install.DefaultDBPath)
	}
	dir := filepath.Join(ctx, "base", "apkindex", arch)
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "APKINDEX"), db.Data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeLayout writes img of src as an OCI layout directory, with extra
// layers (uncompressed tars, gzipped here) on top, and returns it loaded.
func writeLayout(t *testing.T, dir string, src *ocitest.Layout, img ocitest.Image, extra [][]byte) (*ocitest.Layout, ocitest.Image) {
	t.Helper()
	out := &ocitest.Layout{Path: dir, Blobs: map[string][]byte{}}
	put := func(mediaType string, data []byte) ocispecs.Descriptor {
		d := digest.FromBytes(data)
		p := filepath.Join(dir, "blobs", "sha256", d.Encoded())
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out.Blobs[d.String()] = data
		return ocispecs.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}
	}
	m := img.Manifest
	m.Layers = nil
	for _, l := range img.Manifest.Layers {
		b, err := src.Blob(l)
		if err != nil {
			t.Fatal(err)
		}
		m.Layers = append(m.Layers, put(l.MediaType, b))
	}
	var cfg map[string]any
	json.Unmarshal(img.ConfigRaw, &cfg)
	rootfs := cfg["rootfs"].(map[string]any)
	diffIDs := rootfs["diff_ids"].([]any)
	history, _ := cfg["history"].([]any)
	for i, tarData := range extra {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(tarData)
		zw.Close()
		m.Layers = append(m.Layers, put(ocispecs.MediaTypeImageLayerGzip, b.Bytes()))
		diffIDs = append(diffIDs, digest.FromBytes(tarData).String())
		history = append(history, map[string]any{"created_by": fmt.Sprintf("test: extra layer %d", i+1)})
	}
	rootfs["diff_ids"], cfg["history"] = diffIDs, history
	cfgRaw, _ := json.Marshal(cfg)
	m.Config = put(ocispecs.MediaTypeImageConfig, cfgRaw)
	mRaw, _ := json.Marshal(m)
	md := put(ocispecs.MediaTypeImageManifest, mRaw)
	md.Platform = &ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	out.Index = ocispecs.Index{Manifests: []ocispecs.Descriptor{md}}
	out.Index.SchemaVersion = 2
	idx, _ := json.Marshal(out.Index)
	os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	imgs, err := out.Images()
	if err != nil || len(imgs) != 1 {
		t.Fatalf("layout written: %v %d images", err, len(imgs))
	}
	return out, imgs[0]
}

// entryLine is what the tests compare of a layer entry.
func entryLine(e ocitest.Entry) string {
	h := e.Header
	sum := sha256.Sum256(e.Data)
	return fmt.Sprintf("%s %c %o %d:%d %d %s %d,%d %s", strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/"), h.Typeflag,
		h.Mode&0o7777, h.Uid, h.Gid, h.ModTime.Unix(), h.Linkname, h.Devmajor, h.Devminor, hex.EncodeToString(sum[:8]))
}

// layerChanges lists what each layer changes: its entries, except the
// directories that were already there with the same metadata (a diff of
// file systems cannot tell those from no change, and BuildKit's leaves
// them out), sorted.
func layerChanges(t *testing.T, l *ocitest.Layout, layers []ocispecs.Descriptor) [][]string {
	t.Helper()
	below := map[string]string{}
	var out [][]string
	for _, d := range layers {
		entries, err := l.Layer(d)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, e := range entries {
			line := entryLine(e)
			name := strings.TrimSuffix(strings.TrimPrefix(e.Header.Name, "./"), "/")
			if e.Header.Typeflag == tar.TypeDir && below[name] == line {
				continue
			}
			lines = append(lines, line)
		}
		for _, e := range entries {
			below[strings.TrimSuffix(strings.TrimPrefix(e.Header.Name, "./"), "/")] = entryLine(e)
		}
		sort.Strings(lines)
		out = append(out, lines)
	}
	return out
}

func TestBaseImage(t *testing.T) {
	requireStack(t)
	ctx, baseL, base := baseContext(t)
	out := filepath.Join(t.TempDir(), "out.tar")
	log := buildx(t, ctx, "apko.yaml", "--platform", "linux/amd64", "--sbom=true",
		"--output", "type=oci,name="+registry+"/kiln-e2e/baseimage:test,dest="+out)
	l := loadLayout(t, out)
	img := onlyImage(t, l)
	nBase := len(base.Manifest.Layers)

	// The base's layers are the image's lowest, with exactly their files.
	if len(img.Manifest.Layers) <= nBase+1 {
		t.Fatalf("%d layers, want the base's %d and more", len(img.Manifest.Layers), nBase)
	}
	want := layerChanges(t, baseL, base.Manifest.Layers)
	got := layerChanges(t, l, img.Manifest.Layers[:nBase])
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("layer %d differs from the base's:\n got %q\nwant %q", i+1, got[i], want[i])
		}
	}

	// The base's packages are installed; hello, which the config asks for
	// too, is not installed again.
	for step := range installSteps(log) {
		if strings.Contains(step, "hello") {
			t.Errorf("install step %q: the base has hello", step)
		}
	}
	for i, d := range img.Manifest.Layers[nBase:] {
		entries, err := l.Layer(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if n := strings.TrimPrefix(e.Header.Name, "./"); n == "usr/bin/hello" || n == "usr/lib/libhello.so.1.0" {
				t.Errorf("layer %d above the base holds %s", nBase+i+1, n)
			}
		}
	}
	fs, err := l.Rootfs(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"usr/bin/hello", "usr/lib/libhello.so.1.0", "bin/busybox", "usr/bin/suid-tool", "etc/os-release"} {
		if _, ok := fs[p]; !ok {
			t.Errorf("%s is not in the image", p)
		}
	}

	// The database: the base's records, then the new ones.
	baseFS, _ := baseL.Rootfs(base)
	var names, baseNames []string
	for _, p := range installedDB(t, fs) {
		names = append(names, p.Name)
	}
	for _, p := range installedDB(t, baseFS) {
		baseNames = append(baseNames, p.Name)
	}
	if len(names) != len(baseNames)+3 || !slices.Equal(names[:len(baseNames)], baseNames) ||
		!slices.Equal(slices.Sorted(slices.Values(names[len(baseNames):])), []string{"busybox", "kiln-baselayout", "suid-tool"}) {
		t.Errorf("installed database lists %v, want the base's %v then kiln-baselayout, busybox and suid-tool", names, baseNames)
	}
	world := string(fs["etc/apk/world"].Data)
	for _, p := range installedDB(t, fs) {
		if !strings.Contains(world, p.Name+"="+p.Version+"\n") {
			t.Errorf("world lacks %s=%s:\n%s", p.Name, p.Version, world)
		}
	}
	if _, ok := fs["etc/passwd"]; !ok {
		t.Error("no /etc/passwd (the new baselayout ships one)")
	}

	// The SBOM covers what kiln installed, as apko's covers its own layer;
	// the host commands plan the same.
	stmts, err := l.Statements()
	if err != nil {
		t.Fatal(err)
	}
	st := sbomFor(t, stmts, img)
	doc := checkDocument(t, st.Parsed.Predicate)
	added := []string{"busybox-1.36.1-r0", "kiln-baselayout-1.0-r0", "suid-tool-0.3-r1"}
	if got := apkPackages(t, doc, "x86_64"); !slices.Equal(got, added) {
		t.Errorf("SBOM lists %v, want %v", got, added)
	}
	kiln := hostKiln(t)
	host, err := exec.Command(kiln, "sbom", "--context", ctx, "--arch", "x86_64", filepath.Join(ctx, "apko.yaml")).Output()
	if err != nil {
		t.Fatalf("kiln sbom: %v", err)
	}
	var a, b any
	json.Unmarshal(host, &a)
	json.Unmarshal(st.Parsed.Predicate, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("kiln sbom on the host differs from the attestation:\nhost: %.600s\nbuild: %.600s", host, st.Parsed.Predicate)
	}
	shown, err := exec.Command(kiln, "show-packages", "--context", ctx, filepath.Join(ctx, "apko.yaml")).CombinedOutput()
	if err != nil || string(shown) != "kiln-baselayout 1.0-r0\nbusybox 1.36.1-r0\nsuid-tool 0.3-r1\n" {
		t.Errorf("kiln show-packages: %v\n%s", err, shown)
	}

	// A rebuild from scratch gives the same image.
	again := filepath.Join(t.TempDir(), "again.tar")
	buildx(t, ctx, "apko.yaml", "--platform", "linux/amd64", "--sbom=true", "--no-cache",
		"--output", "type=oci,name="+registry+"/kiln-e2e/baseimage:test,dest="+again)
	if d := onlyImage(t, loadLayout(t, again)).Descriptor.Digest; d != img.Descriptor.Digest {
		t.Errorf("a --no-cache rebuild gave %s, the first build %s", d, img.Descriptor.Digest)
	}

	// The config is the base's, with apko's changes.
	c, bc := img.Config.Config, base.Config.Config
	if !slices.Equal(c.Entrypoint, bc.Entrypoint) || len(c.Entrypoint) == 0 || c.WorkingDir != bc.WorkingDir || c.User != bc.User {
		t.Errorf("entrypoint %q workdir %q user %q, want the base's %q %q %q", c.Entrypoint, c.WorkingDir, c.User, bc.Entrypoint, bc.WorkingDir, bc.User)
	}
	if !slices.Contains(c.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") {
		t.Errorf("env %q", c.Env)
	}
	// BuildKit writes the base layers' tars again: for a base it built
	// itself, byte for byte the same, so even the diff_ids are the base's.
	if len(img.Config.RootFS.DiffIDs) != len(img.Manifest.Layers) || !slices.Equal(img.Config.RootFS.DiffIDs[:nBase], base.Config.RootFS.DiffIDs) {
		t.Errorf("diff_ids %v, want the base's %v first", img.Config.RootFS.DiffIDs, base.Config.RootFS.DiffIDs)
	}
	var layered int
	for _, h := range img.Config.History {
		if !h.EmptyLayer {
			layered++
		}
	}
	if layered != len(img.Manifest.Layers) || img.Config.History[0].CreatedBy != base.Config.History[0].CreatedBy {
		t.Errorf("history %+v", img.Config.History)
	}
}

// Deletions in the base's layers (whiteouts, an opaque directory) hold in
// the image built on it.
func TestBaseImageDeletions(t *testing.T) {
	requireStack(t)
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	add := func(h tar.Header, data string) {
		h.ModTime, h.Size = time.Unix(1700000000, 0), int64(len(data))
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		tw.WriteHeader(&h)
		tw.Write([]byte(data))
	}
	add(tar.Header{Name: "usr/bin/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(tar.Header{Name: "usr/bin/.wh.hi", Typeflag: tar.TypeReg}, "")
	add(tar.Header{Name: "var/lib/db/sbom/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(tar.Header{Name: "var/lib/db/sbom/.wh..wh..opq", Typeflag: tar.TypeReg}, "")
	add(tar.Header{Name: "var/lib/db/sbom/replaced.txt", Typeflag: tar.TypeReg}, "the base's own\n")
	add(tar.Header{Name: "opt/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(tar.Header{Name: "opt/added", Typeflag: tar.TypeReg, Mode: 0o600, Uid: 1000, Gid: 1000}, "added\n")
	tw.Close()
	ctx, baseL, base := baseContext(t, b.Bytes())
	baseFS, _ := baseL.Rootfs(base)
	if _, ok := baseFS["usr/bin/hi"]; ok {
		t.Fatal("the test layout still has usr/bin/hi")
	}
	l, _ := buildOCI(t, ctx, "--platform", "linux/amd64")
	img := onlyImage(t, l)
	fs, err := l.Rootfs(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"usr/bin/hi", "var/lib/db/sbom/hello-2.12-r0.spdx.json"} {
		if _, ok := fs[p]; ok {
			t.Errorf("%s, deleted by a base layer, is in the image", p)
		}
	}
	for p, want := range map[string]string{"usr/bin/hello": "", "var/lib/db/sbom/replaced.txt": "the base's own\n", "opt/added": "added\n"} {
		e, ok := fs[p]
		if !ok || want != "" && string(e.Data) != want {
			t.Errorf("%s: %q (present %v)", p, e.Data, ok)
		}
	}
	if h := fs["opt/added"].Header; h == nil || h.Uid != 1000 || h.Mode&0o7777 != 0o600 {
		t.Errorf("opt/added header %+v", h)
	}
	// The base's last layer is still a layer of its own, right under kiln's.
	nBase := len(base.Manifest.Layers)
	got := layerChanges(t, l, img.Manifest.Layers[:nBase])[nBase-1]
	for _, w := range []string{"usr/bin/.wh.hi", "opt/added"} {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, w+" ")
		}
		if !found {
			t.Errorf("the image's layer %d lacks %s: %q", nBase, w, got)
		}
	}
}

// What goes wrong with a base image fails the build, saying where.
func TestBaseImageErrors(t *testing.T) {
	requireStack(t)
	src, _, base := baseContext(t)
	tests := []struct {
		name   string
		mutate func(t *testing.T, ctx string)
		want   []string
	}{
		{"a setting the base image owns", func(t *testing.T, ctx string) {
			editConfig(t, ctx, "contents:\n", "cmd: -l\ncontents:\n")
		}, []string{"apko.yaml:10:6: cmd: not allowed with contents.baseimage"}},
		{"a layer blob that is not what the manifest says", func(t *testing.T, ctx string) {
			p := filepath.Join(ctx, "base", "layout", "blobs", "sha256", base.Manifest.Layers[0].Digest.Encoded())
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0xff
			os.WriteFile(p, b, 0o644)
		}, []string{"apply base image layer 1/", "blob has digest sha256:"}},
		{"no installed database for the arch", func(t *testing.T, ctx string) {
			os.RemoveAll(filepath.Join(ctx, "base", "apkindex", "x86_64"))
		}, []string{"apko.yaml:13:15: contents.baseimage.apkindex ./base/apkindex: base/apkindex/x86_64/APKINDEX: not found in the build context"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.TempDir()
			if out, err := exec.Command("cp", "-a", src+"/.", ctx).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, out)
			}
			tt.mutate(t, ctx)
			buildFails(t, ctx, []string{"--platform", "linux/amd64"}, tt.want...)
		})
	}
}

// On a usr-merged base (/bin -> usr/bin, /lib -> usr/lib), packages that
// ship /bin paths land in /usr/bin through the base's links, and no new
// layer puts a directory over them (which would hide the base's files).
func TestBaseImageUsrMerge(t *testing.T) {
	requireStack(t)
	baseCtx := exampleContext(t, "usr-merge", nil, 0)
	editConfig(t, baseCtx, "    - busybox\n", "")
	ctx, _, base := baseContextFrom(t, baseCtx)
	editConfig(t, ctx, "    - kiln-baselayout\n", "")
	editConfig(t, ctx, "    - suid-tool\n", "    - s6\n")
	l, _ := buildOCI(t, ctx, "--platform", "linux/amd64")
	img := onlyImage(t, l)
	nBase := len(base.Manifest.Layers)
	for i, d := range img.Manifest.Layers[nBase:] {
		entries, err := l.Layer(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if n := strings.TrimSuffix(strings.TrimPrefix(e.Header.Name, "./"), "/"); (n == "bin" || n == "lib" || n == "sbin") && e.Header.Typeflag != tar.TypeSymlink {
				t.Errorf("layer %d above the base has %s as %c, over the base's link", nBase+i+1, n, e.Header.Typeflag)
			}
		}
	}
	fs, err := l.Rootfs(img)
	if err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"bin": "usr/bin", "lib": "usr/lib", "sbin": "usr/sbin"} {
		if h := fs[link].Header; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != target {
			t.Errorf("%s: %+v, want the base's link to %s", link, h, target)
		}
	}
	for _, p := range []string{"usr/bin/busybox", "usr/bin/s6-svscan", "usr/bin/execlineb", "usr/bin/hello", "usr/lib/apk/db/installed"} {
		if _, ok := fs[p]; !ok {
			t.Errorf("%s is not in the image", p)
		}
	}
	var names []string
	for _, p := range installedDB(t, fs) {
		names = append(names, p.Name)
	}
	if !slices.Equal(names[:3], []string{"kiln-merged-baselayout", "libhello", "hello"}) || !slices.Contains(names, "busybox") || !slices.Contains(names, "s6") {
		t.Errorf("installed database lists %v", names)
	}
}

// A multi-platform base (buildx's layout: a nested index, attestations
// beside the images) under a multi-platform build: each platform goes on
// its own base image.
func TestBaseImageMultiPlatform(t *testing.T) {
	requireStack(t)
	requireArm64Busybox(t)
	baseL, _ := buildOCI(t, exampleContext(t, "no-shell", nil, 0), "--platform", "linux/amd64,linux/arm64")
	bases, err := baseL.Images()
	if err != nil || len(bases) != 2 {
		t.Fatalf("base images: %v (%d)", err, len(bases))
	}
	ctx := exampleContext(t, "baseimage", nil, 0)
	untarLayout(t, baseL.Path, filepath.Join(ctx, "base", "layout"))
	apkArch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}
	baseOf := map[string]ocitest.Image{}
	for _, b := range bases {
		a := b.Config.Architecture
		baseOf[a] = b
		writeAPKIndex(t, ctx, apkArch[a], baseL, b)
	}
	l, _ := buildOCI(t, ctx, "--platform", "linux/amd64,linux/arm64")
	imgs, err := l.Images()
	if err != nil || len(imgs) != 2 {
		t.Fatalf("images: %v (%d)", err, len(imgs))
	}
	for _, img := range imgs {
		a := img.Config.Architecture
		base := baseOf[a]
		n := len(base.Manifest.Layers)
		want := layerChanges(t, baseL, base.Manifest.Layers)
		got := layerChanges(t, l, img.Manifest.Layers[:n])
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Errorf("%s: layer %d differs from the base's", a, i+1)
			}
		}
		fs, err := l.Rootfs(img)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(fs["etc/apk/arch"].Data), apkArch[a]) {
			t.Errorf("%s: etc/apk/arch %q", a, fs["etc/apk/arch"].Data)
		}
		var names []string
		for _, p := range installedDB(t, fs) {
			names = append(names, p.Name)
			if p.Arch != apkArch[a] && p.Arch != "noarch" {
				t.Errorf("%s: %s is for %s", a, p.Name, p.Arch)
			}
		}
		if !slices.Equal(names[:2], []string{"libhello", "hello"}) || !slices.Contains(names, "busybox") {
			t.Errorf("%s: installed database lists %v", a, names)
		}
	}
}
