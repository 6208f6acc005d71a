package plan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// testBase is one platform image of a test base layout.
type testBase struct {
	arch    string // OCI architecture
	layers  [][]byte
	config  func(*dockerspec.DockerOCIImage)
	apkArch string // where its installed database goes
	db      string
}

// writeBlob stores data in the layout and returns its descriptor.
func writeBlob(t *testing.T, layout, mediaType string, data []byte) ocispecs.Descriptor {
	t.Helper()
	d := digest.FromBytes(data)
	dir := filepath.Join(layout, "blobs", "sha256")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, d.Encoded()), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return ocispecs.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeBaseLayout writes an OCI layout at ctx/layout (images behind one
// nested index, as buildx writes a multi-platform image) and each image's
// installed database at ctx/apkindex/<arch>/APKINDEX. Layer "blobs" are
// opaque bytes: planning never reads them.
func writeBaseLayout(t *testing.T, ctx string, images ...testBase) {
	t.Helper()
	layout := filepath.Join(ctx, "layout")
	var manifests []ocispecs.Descriptor
	for _, im := range images {
		cfg := dockerspec.DockerOCIImage{}
		cfg.OS, cfg.Architecture = "linux", im.arch
		cfg.Config.Entrypoint = []string{"/bin/sh", "-l"}
		cfg.Config.Env = []string{"BASE_ONLY=1", "PATH=/base/bin"}
		cfg.Config.User = "65532"
		cfg.Config.WorkingDir = "/work"
		cfg.Config.Labels = map[string]string{"base.label": "x"}
		var m ocispecs.Manifest
		m.SchemaVersion = 2
		m.MediaType = ocispecs.MediaTypeImageManifest
		for _, l := range im.layers {
			m.Layers = append(m.Layers, writeBlob(t, layout, ocispecs.MediaTypeImageLayerGzip, l))
			cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(append([]byte("diff:"), l...)))
			cfg.History = append(cfg.History, ocispecs.History{CreatedBy: "base layer"}, ocispecs.History{CreatedBy: "ENV", EmptyLayer: true})
		}
		if im.config != nil {
			im.config(&cfg)
		}
		m.Config = writeBlob(t, layout, ocispecs.MediaTypeImageConfig, mustJSON(t, cfg))
		manifests = append(manifests, writeBlob(t, layout, ocispecs.MediaTypeImageManifest, mustJSON(t, m)))
		if im.db != "" {
			dir := filepath.Join(ctx, "apkindex", im.apkArch)
			os.MkdirAll(dir, 0o755)
			if err := os.WriteFile(filepath.Join(dir, "APKINDEX"), []byte(im.db), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	nested := writeBlob(t, layout, ocispecs.MediaTypeImageIndex, mustJSON(t, ocispecs.Index{Manifests: manifests}))
	top := ocispecs.Index{Manifests: []ocispecs.Descriptor{nested}}
	if err := os.WriteFile(filepath.Join(layout, "index.json"), mustJSON(t, top), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(layout, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

// installedDB renders installed-database records (files included, as a
// base image's are) for "name-version[:deps[:provides]]" specs.
func installedDB(arch string, specs ...string) string {
	var b strings.Builder
	for _, s := range specs {
		parts := strings.SplitN(s, ":", 3)
		nv := parts[0]
		i := strings.LastIndex(nv[:strings.LastIndex(nv, "-")], "-")
		b.WriteString("C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:" + nv[:i] + "\nV:" + nv[i+1:] + "\nA:" + arch + "\nL:MIT\ni:[]\n")
		if len(parts) > 1 && parts[1] != "" {
			b.WriteString("D:" + parts[1] + "\n")
		}
		if len(parts) > 2 {
			b.WriteString("p:" + parts[2] + "\n")
		}
		b.WriteString("F:etc\nR:" + nv[:i] + ".conf\nZ:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n")
	}
	return b.String()
}

const baseImageYAML = "  baseimage:\n    image: ./layout\n    apkindex: ./apkindex\n"

func TestResolveOnBaseImage(t *testing.T) {
	dir := testContext(t, testRepoConfig+baseImageYAML+"  packages: [hello]\nvolumes: [/data]\n")
	// The base has base and an older libhello than the repository has.
	writeBaseLayout(t, dir, testBase{arch: "amd64", layers: [][]byte{[]byte("l1"), []byte("l2")}, apkArch: "x86_64",
		db: installedDB("x86_64", "base-1.0-r0", "libhello-0.9-r0::so:libhello.so.1=0.9")})
	pl, err := planContext(t, dir, Options{SourceDateEpoch: 10})
	if err != nil {
		t.Fatal(err)
	}
	p := pl.Platforms[0]
	var names []string
	for _, pk := range p.Packages {
		names = append(names, pk.String())
	}
	// Only hello is installed: its dependencies are the base's.
	if !reflect.DeepEqual(names, []string{"hello-2.12-r1"}) {
		t.Errorf("packages %v, want only hello", names)
	}
	if want := []string{"base=1.0-r0", "hello=2.12-r1", "libhello=0.9-r0"}; !reflect.DeepEqual(p.Meta.World, want) {
		t.Errorf("world %q, want %q", p.Meta.World, want)
	}
	if !p.Meta.OnBase {
		t.Error("the metadata step is not told the image is on a base")
	}
	if p.Base == nil || len(p.Base.Layers) != 2 || len(p.Base.Packages) != 2 {
		t.Fatalf("base %+v", p.Base)
	}
	for i, l := range p.Base.Layers {
		want := "layout/blobs/sha256/" + l.Digest.Encoded()
		if l.ContextPath != want || l.MediaType != ocispecs.MediaTypeImageLayerGzip || l.DiffID == "" {
			t.Errorf("layer %d: %+v", i, l)
		}
	}
	if p.Base.APKIndex != "apkindex/x86_64/APKINDEX" || len(p.Base.APKIndexSHA256) != 64 {
		t.Errorf("apkindex %q %q", p.Base.APKIndex, p.Base.APKIndexSHA256)
	}
	paths := pl.ContextPaths()
	for _, want := range []string{p.Base.Layers[0].ContextPath, p.Base.Layers[1].ContextPath, "apkindex/x86_64/APKINDEX", "packages/x86_64/hello-2.12-r1.apk"} {
		if !slices.Contains(paths, want) {
			t.Errorf("context paths %q lack %s", paths, want)
		}
	}

	// The image config is the base's, with apko's changes.
	c := p.Image.Config
	if !reflect.DeepEqual(c.Entrypoint, []string{"/bin/sh", "-l"}) || c.User != "65532" || c.WorkingDir != "/work" {
		t.Errorf("inherited config %+v", c)
	}
	if slices.Contains(c.Env, "BASE_ONLY=1") || !slices.Contains(c.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") {
		t.Errorf("env %q, want apko's defaults only", c.Env)
	}
	if _, ok := c.Labels["base.label"]; ok || c.Labels["org.opencontainers.image.created"] == "" {
		t.Errorf("labels %v, want the annotations only", c.Labels)
	}
	if _, ok := c.Volumes["/data"]; !ok || len(c.Volumes) != 1 {
		t.Errorf("volumes %v", c.Volumes)
	}
	if p.Image.Created.Unix() != 10 || p.Image.Architecture != "amd64" || len(p.Image.RootFS.DiffIDs) != 0 {
		t.Errorf("image %+v", p.Image)
	}
	// The base's history (4 entries, 2 layers), then a layer for hello and the metadata layer.
	if h := p.Image.History; len(h) != 6 || h[0].CreatedBy != "base layer" || !h[1].EmptyLayer || h[4].CreatedBy != "apk add hello-2.12-r1" {
		t.Errorf("history %+v", h)
	}
	// The SBOM covers what kiln installs, with no edges into the base.
	if len(p.SBOM.Packages) != 1 || p.SBOM.Packages[0].Name != "hello" || len(p.SBOM.Packages[0].Depends) != 0 {
		t.Errorf("sbom packages %+v", p.SBOM.Packages)
	}
}

func TestResolveOnBaseImageArchs(t *testing.T) {
	dir := testContext(t, testRepoConfig+baseImageYAML+"  packages: [hello]\narchs: [x86_64, aarch64]\n")
	// Each architecture's base has its own layers and its own libhello.
	writeBaseLayout(t, dir,
		testBase{arch: "arm64", layers: [][]byte{[]byte("arm")}, apkArch: "aarch64", db: installedDB("aarch64", "libhello-0.8-r0::so:libhello.so.1=0.8")},
		testBase{arch: "amd64", layers: [][]byte{[]byte("x1"), []byte("x2")}, apkArch: "x86_64", db: installedDB("x86_64", "libhello-0.9-r0::so:libhello.so.1=0.9")},
	)
	pl, err := planContext(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		layers int
		world  []string
	}{
		"x86_64":  {2, []string{"base=1.0-r0", "hello=2.12-r1", "libhello=0.9-r0"}},
		"aarch64": {1, []string{"base=1.0-r0", "hello=2.12-r1", "libhello=0.8-r0"}},
	}
	for _, p := range pl.Platforms {
		w := want[p.Arch]
		if len(p.Base.Layers) != w.layers || !reflect.DeepEqual(p.Meta.World, w.world) || p.Image.Architecture != p.Platform.Architecture {
			t.Errorf("%s: %d base layers, world %q, arch %s; want %d, %q", p.Arch, len(p.Base.Layers), p.Meta.World, p.Image.Architecture, w.layers, w.world)
		}
	}
}

func TestResolveOnBaseImageErrors(t *testing.T) {
	db := installedDB("x86_64", "base-1.0-r0")
	tests := []struct {
		name  string
		base  []testBase
		edit  func(t *testing.T, dir string)
		want  string
		extra string
	}{
		{"no image for the arch", []testBase{{arch: "arm64", apkArch: "x86_64", db: db}}, nil,
			"apko.yaml:5:12: contents.baseimage.image ./layout: no image for linux/amd64 (the layout has linux/arm64)", ""},
		{"no installed database", []testBase{{arch: "amd64"}}, nil,
			"apko.yaml:6:15: contents.baseimage.apkindex ./apkindex: apkindex/x86_64/APKINDEX: not found in the build context", ""},
		{"installed database of another arch", []testBase{{arch: "amd64", apkArch: "x86_64", db: installedDB("aarch64", "base-1.0-r0")}}, nil,
			"apko.yaml:6:15: contents.baseimage.apkindex ./apkindex: apkindex/x86_64/APKINDEX: package base-1.0-r0 is for aarch64", ""},
		{"no layout", nil, nil, "apko.yaml:5:12: contents.baseimage.image ./layout: layout/index.json: not found in the build context", ""},
		{"a blob that does not match its digest", []testBase{{arch: "amd64", apkArch: "x86_64", db: db}}, func(t *testing.T, dir string) {
			// Rewrite the nested index's bytes in place.
			var top ocispecs.Index
			b, _ := os.ReadFile(filepath.Join(dir, "layout", "index.json"))
			json.Unmarshal(b, &top)
			os.WriteFile(filepath.Join(dir, "layout", "blobs", "sha256", top.Manifests[0].Digest.Encoded()), []byte(`{"manifests":[]}`), 0o644)
		}, "apko.yaml:5:12: contents.baseimage.image ./layout: blob sha256:", "has digest sha256:"},
		{"a layer kiln cannot apply", []testBase{{arch: "amd64", apkArch: "x86_64", db: db, layers: [][]byte{[]byte("x")},
			config: nil}}, func(t *testing.T, dir string) {
			retypeLayers(t, dir, "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")
		}, "cannot apply (tar, tar+gzip or tar+zstd)", ""},
		{"diff_ids that do not match the layers", []testBase{{arch: "amd64", apkArch: "x86_64", db: db, layers: [][]byte{[]byte("x")},
			config: func(c *dockerspec.DockerOCIImage) { c.RootFS.DiffIDs = nil }}}, nil,
			"has 1 layers but its config 0 diff_ids", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testContext(t, testRepoConfig+baseImageYAML+"  packages: [hello]\n")
			if tt.base != nil {
				writeBaseLayout(t, dir, tt.base...)
			}
			if tt.edit != nil {
				tt.edit(t, dir)
			}
			_, err := planContext(t, dir, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.extra) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// retypeLayers rewrites every manifest of the layout's nested index with
// its layers' media type changed (and the index, for the new digests).
func retypeLayers(t *testing.T, dir, mediaType string) {
	t.Helper()
	layout := filepath.Join(dir, "layout")
	read := func(d ocispecs.Descriptor, v any) {
		b, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", d.Digest.Encoded()))
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(b, v)
	}
	var top, nested ocispecs.Index
	b, _ := os.ReadFile(filepath.Join(layout, "index.json"))
	json.Unmarshal(b, &top)
	read(top.Manifests[0], &nested)
	for i, d := range nested.Manifests {
		var m ocispecs.Manifest
		read(d, &m)
		for j := range m.Layers {
			m.Layers[j].MediaType = mediaType
		}
		nested.Manifests[i] = writeBlob(t, layout, ocispecs.MediaTypeImageManifest, mustJSON(t, m))
	}
	top.Manifests[0] = writeBlob(t, layout, ocispecs.MediaTypeImageIndex, mustJSON(t, nested))
	os.WriteFile(filepath.Join(layout, "index.json"), mustJSON(t, top), 0o644)
}
