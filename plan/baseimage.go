package plan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/config/apko"
)

// BaseImageRequest is contents.baseimage as a build reaches it: two
// directories in the build context.
type BaseImageRequest struct {
	Entry *apko.BaseImage
	// Layout is the OCI image layout directory (index.json, blobs/).
	Layout string
	// APKIndex holds <apk arch>/APKINDEX, the base's installed database.
	APKIndex string
}

// BaseImage is one platform's base image: its layers, its config and
// the packages it has installed.
type BaseImage struct {
	Layers []BaseLayer // bottom first
	Config *dockerspec.DockerOCIImage
	// APKIndex is the base's installed database in the build context, and
	// APKIndexSHA256 the digest of the bytes planning read, which the
	// metadata step checks before merging the records into the image's.
	APKIndex       string
	APKIndexSHA256 string
	Packages       []*index.Package // the database's records, in its order
}

// BaseLayer is one layer of a base image.
type BaseLayer struct {
	ocispecs.Descriptor               // digest, size and media type of the blob
	DiffID              digest.Digest // of the uncompressed tar, from the image config
	ContextPath         string        // the blob in the build context
}

// Layer media types kiln can apply: OCI's and Docker's tar, uncompressed,
// gzip or zstd.
var baseLayerTypes = map[string]bool{
	ocispecs.MediaTypeImageLayer:                        true,
	ocispecs.MediaTypeImageLayerGzip:                    true,
	ocispecs.MediaTypeImageLayerZstd:                    true,
	"application/vnd.docker.image.rootfs.diff.tar":      true,
	"application/vnd.docker.image.rootfs.diff.tar.gzip": true,
	"application/vnd.docker.image.rootfs.diff.tar.zstd": true,
}

const (
	mediaTypeDockerManifest  = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerIndex     = "application/vnd.docker.distribution.manifest.list.v2+json"
	maxNestedIndexes         = 4
	baseImageHistoryFallback = "kiln: base image layer"
)

func baseImageRequest(b *apko.BaseImage) (*BaseImageRequest, error) {
	layout, err := ContextPath(b.Image.Value)
	if err != nil {
		return nil, b.Image.Pos.Errorf("contents.baseimage.image: %v", err)
	}
	idx, err := ContextPath(b.APKIndex.Value)
	if err != nil {
		return nil, b.APKIndex.Pos.Errorf("contents.baseimage.apkindex: %v", err)
	}
	return &BaseImageRequest{Entry: b, Layout: layout, APKIndex: idx}, nil
}

// loadBaseImages reads the base image of every target through src: the
// layout's index (and nested indexes), its image manifests and configs,
// and each target's installed database. As apko does, a target takes the
// first image whose config names its architecture.
func loadBaseImages(ctx context.Context, req *Request, targets []Target, src Source) (map[string]*BaseImage, error) {
	b := req.Base
	imgErr := func(format string, args ...any) error {
		return b.Entry.Image.Pos.Errorf("contents.baseimage.image %s: %s", b.Entry.Image.Value, fmt.Sprintf(format, args...))
	}
	read := func(paths []string) (map[string][]byte, error) {
		files, err := src.ReadContext(ctx, paths, MaxConfigBytes)
		if err != nil {
			if p, ok := failedPath(err); ok && strings.HasPrefix(p, b.Layout+"/") {
				return nil, imgErr("%v", err)
			}
			return nil, err
		}
		return files, nil
	}
	indexFile := path.Join(b.Layout, "index.json")
	files, err := read([]string{indexFile})
	if err != nil {
		return nil, err
	}
	var top ocispecs.Index
	if err := json.Unmarshal(files[indexFile], &top); err != nil {
		return nil, imgErr("index.json: %v", err)
	}

	// Descend through nested indexes (buildx and crane write one for a
	// multi-platform image) to the image manifests, in index order.
	var manifests []ocispecs.Descriptor
	pending := top.Manifests
	for depth := 0; len(pending) > 0; depth++ {
		if depth > maxNestedIndexes {
			return nil, imgErr("image indexes nested more than %d deep", maxNestedIndexes)
		}
		var nested []ocispecs.Descriptor
		for _, d := range pending {
			switch d.MediaType {
			case ocispecs.MediaTypeImageIndex, mediaTypeDockerIndex:
				nested = append(nested, d)
			case ocispecs.MediaTypeImageManifest, mediaTypeDockerManifest:
				manifests = append(manifests, d)
			}
		}
		blobs, err := readBlobs(b.Layout, nested, read, imgErr)
		if err != nil {
			return nil, err
		}
		pending = nil
		for _, d := range nested {
			var idx ocispecs.Index
			if err := json.Unmarshal(blobs[d.Digest], &idx); err != nil {
				return nil, imgErr("index %s: %v", d.Digest, err)
			}
			pending = append(pending, idx.Manifests...)
		}
	}
	mblobs, err := readBlobs(b.Layout, manifests, read, imgErr)
	if err != nil {
		return nil, err
	}
	parsed := make([]ocispecs.Manifest, len(manifests))
	var configs []ocispecs.Descriptor
	for i, d := range manifests {
		if err := json.Unmarshal(mblobs[d.Digest], &parsed[i]); err != nil {
			return nil, imgErr("manifest %s: %v", d.Digest, err)
		}
		configs = append(configs, parsed[i].Config)
	}
	cblobs, err := readBlobs(b.Layout, configs, read, imgErr)
	if err != nil {
		return nil, err
	}

	out := map[string]*BaseImage{}
	var dbFiles []string
	for _, t := range targets {
		bi, err := pickBaseImage(t, manifests, parsed, cblobs, b, imgErr)
		if err != nil {
			return nil, err
		}
		bi.APKIndex = path.Join(b.APKIndex, t.Arch, "APKINDEX")
		dbFiles = append(dbFiles, bi.APKIndex)
		out[t.Arch] = bi
	}
	dbs, err := src.ReadContext(ctx, dbFiles, MaxIndexBytes)
	if err != nil {
		if _, ok := failedPath(err); ok {
			return nil, b.Entry.APKIndex.Pos.Errorf("contents.baseimage.apkindex %s: %v", b.Entry.APKIndex.Value, err)
		}
		return nil, err
	}
	for _, t := range targets {
		bi := out[t.Arch]
		data := dbs[bi.APKIndex]
		sum := sha256.Sum256(data)
		bi.APKIndexSHA256 = hex.EncodeToString(sum[:])
		if bi.Packages, err = index.ParseInstalled(data); err != nil {
			return nil, b.Entry.APKIndex.Pos.Errorf("contents.baseimage.apkindex %s: %s: %v", b.Entry.APKIndex.Value, bi.APKIndex, err)
		}
		for _, p := range bi.Packages {
			if p.Arch != "" && p.Arch != t.Arch && p.Arch != "noarch" {
				return nil, b.Entry.APKIndex.Pos.Errorf("contents.baseimage.apkindex %s: %s: package %s is for %s", b.Entry.APKIndex.Value, bi.APKIndex, p, p.Arch)
			}
		}
	}
	return out, nil
}

// readBlobs reads small blobs (indexes, manifests, configs) of a layout
// and checks each against its digest.
func readBlobs(layout string, descs []ocispecs.Descriptor, read func([]string) (map[string][]byte, error),
	imgErr func(string, ...any) error) (map[digest.Digest][]byte, error) {
	var paths []string
	for _, d := range descs {
		p, err := blobPath(layout, d)
		if err != nil {
			return nil, imgErr("%v", err)
		}
		paths = append(paths, p)
	}
	if len(paths) == 0 {
		return nil, nil
	}
	files, err := read(paths)
	if err != nil {
		return nil, err
	}
	out := map[digest.Digest][]byte{}
	for i, d := range descs {
		data := files[paths[i]]
		if got := digest.FromBytes(data); got != d.Digest {
			return nil, imgErr("blob %s has digest %s", d.Digest, got)
		}
		out[d.Digest] = data
	}
	return out, nil
}

// blobPath is where a layout keeps a blob. Only sha256 digests are taken:
// that is what layouts use, and a validated digest cannot leave blobs/.
func blobPath(layout string, d ocispecs.Descriptor) (string, error) {
	if err := d.Digest.Validate(); err != nil {
		return "", fmt.Errorf("descriptor digest %q: %v", d.Digest, err)
	}
	if d.Digest.Algorithm() != digest.SHA256 {
		return "", fmt.Errorf("descriptor digest %s: only sha256 blobs are supported", d.Digest)
	}
	return path.Join(layout, "blobs", "sha256", d.Digest.Encoded()), nil
}

// pickBaseImage chooses a target's image: the first whose config is for
// linux on the target's architecture (and variant, when both name one).
func pickBaseImage(t Target, descs []ocispecs.Descriptor, manifests []ocispecs.Manifest, configs map[digest.Digest][]byte,
	b *BaseImageRequest, imgErr func(string, ...any) error) (*BaseImage, error) {
	var seen []string
	for i, m := range manifests {
		var cfg dockerspec.DockerOCIImage
		if err := json.Unmarshal(configs[m.Config.Digest], &cfg); err != nil {
			return nil, imgErr("config %s: %v", m.Config.Digest, err)
		}
		seen = append(seen, cfg.OS+"/"+cfg.Architecture)
		if cfg.Architecture != t.Platform.Architecture || (cfg.OS != "" && cfg.OS != "linux") ||
			(cfg.Variant != "" && t.Platform.Variant != "" && cfg.Variant != t.Platform.Variant) {
			continue
		}
		if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
			return nil, imgErr("manifest %s has %d layers but its config %d diff_ids", descs[i].Digest, len(m.Layers), len(cfg.RootFS.DiffIDs))
		}
		bi := &BaseImage{Config: &cfg}
		for j, l := range m.Layers {
			if !baseLayerTypes[l.MediaType] {
				return nil, imgErr("layer %s has media type %q, which kiln cannot apply (tar, tar+gzip or tar+zstd)", l.Digest, l.MediaType)
			}
			if len(l.URLs) > 0 {
				return nil, imgErr("layer %s is a foreign layer fetched from %v; kiln reads layers from the layout only", l.Digest, l.URLs)
			}
			p, err := blobPath(b.Layout, l)
			if err != nil {
				return nil, imgErr("%v", err)
			}
			if err := cfg.RootFS.DiffIDs[j].Validate(); err != nil {
				return nil, imgErr("config %s: diff_id %d: %v", m.Config.Digest, j, err)
			}
			bi.Layers = append(bi.Layers, BaseLayer{Descriptor: l, DiffID: cfg.RootFS.DiffIDs[j], ContextPath: p})
		}
		return bi, nil
	}
	return nil, imgErr("no image for linux/%s (the layout has %s)", t.Platform.Architecture, strings.Join(seen, ", "))
}

// baseImageConfig is the image config of an image built on base: a copy
// of the base's, with what apko overwrites overwritten (platform, author,
// created; labels replaced by the annotations; env replaced by its
// defaults, as a config on a base image sets none; volumes when the config
// sets them), and the base's history followed by kiln's layers.
func baseImageConfig(base *dockerspec.DockerOCIImage, ic ImageConfigInput, baseLayers int) (*dockerspec.DockerOCIImage, error) {
	own, err := ImageConfig(ic)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(base)
	if err != nil {
		return nil, err
	}
	img := &dockerspec.DockerOCIImage{}
	if err := json.Unmarshal(raw, img); err != nil {
		return nil, err
	}
	img.Created, img.Author, img.Platform = own.Created, own.Author, own.Platform
	img.Config.Labels = own.Config.Labels
	img.Config.Env = own.Config.Env
	if own.Config.Volumes != nil {
		img.Config.Volumes = own.Config.Volumes
	}
	img.RootFS = ocispecs.RootFS{Type: "layers"} // the exporter fills the diff_ids
	img.History = append(baseHistory(base.History, baseLayers), own.History...)
	return img, nil
}

// baseHistory keeps the base's history when it accounts for every base
// layer; otherwise the exporter would pin kiln's entries on the base's
// layers, so each base layer gets a plain entry instead.
func baseHistory(h []ocispecs.History, layers int) []ocispecs.History {
	n := 0
	for _, e := range h {
		if !e.EmptyLayer {
			n++
		}
	}
	if n == layers {
		return append([]ocispecs.History(nil), h...)
	}
	out := make([]ocispecs.History, layers)
	for i := range out {
		out[i] = ocispecs.History{CreatedBy: fmt.Sprintf("%s %d", baseImageHistoryFallback, i+1)}
	}
	return out
}
