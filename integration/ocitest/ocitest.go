// Package ocitest reads an OCI image layout tar (what buildx writes with
// --output type=oci) so integration tests can assert on real bytes:
// index, manifests, configs, attestations and every layer entry.
package ocitest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Layout is an OCI layout loaded into memory.
type Layout struct {
	Path  string // the tar it was read from
	Index ocispecs.Index
	Blobs map[string][]byte // "sha256:..." → bytes (digest verified)
}

// Load reads an OCI layout tar and verifies every blob's digest.
func Load(tarPath string) (*Layout, error) {
	f, err := os.Open(tarPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	l := &Layout{Path: tarPath, Blobs: map[string][]byte{}}
	tr := tar.NewReader(f)
	var indexJSON []byte
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		switch {
		case h.Name == "index.json":
			indexJSON = data
		case strings.HasPrefix(h.Name, "blobs/sha256/"):
			want := strings.TrimPrefix(h.Name, "blobs/sha256/")
			sum := sha256.Sum256(data)
			if hex.EncodeToString(sum[:]) != want {
				return nil, fmt.Errorf("blob %s has digest sha256:%x", h.Name, sum)
			}
			l.Blobs["sha256:"+want] = data
		}
	}
	if indexJSON == nil {
		return nil, fmt.Errorf("%s: no index.json", tarPath)
	}
	if err := json.Unmarshal(indexJSON, &l.Index); err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	return l, nil
}

// Blob returns a blob by descriptor.
func (l *Layout) Blob(d ocispecs.Descriptor) ([]byte, error) {
	b, ok := l.Blobs[d.Digest.String()]
	if !ok {
		return nil, fmt.Errorf("blob %s missing from the layout", d.Digest)
	}
	return b, nil
}

// Image is one platform's image.
type Image struct {
	Descriptor ocispecs.Descriptor
	Manifest   ocispecs.Manifest
	Config     ocispecs.Image
	ConfigRaw  []byte
}

// Images returns the platform images (attestation manifests excluded),
// descending through a nested index as buildx writes for multi-platform.
func (l *Layout) Images() ([]Image, error) {
	var out []Image
	err := l.walkManifests(func(d ocispecs.Descriptor, b []byte) error {
		if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			return nil
		}
		img := Image{Descriptor: d}
		if err := json.Unmarshal(b, &img.Manifest); err != nil {
			return err
		}
		var err error
		if img.ConfigRaw, err = l.Blob(img.Manifest.Config); err != nil {
			return err
		}
		if err := json.Unmarshal(img.ConfigRaw, &img.Config); err != nil {
			return err
		}
		out = append(out, img)
		return nil
	})
	return out, err
}

// walkManifests calls fn with every image manifest the layout's index
// reaches, descending through nested indexes, in index order.
func (l *Layout) walkManifests(fn func(d ocispecs.Descriptor, manifest []byte) error) error {
	var walk func(descs []ocispecs.Descriptor) error
	walk = func(descs []ocispecs.Descriptor) error {
		for _, d := range descs {
			b, err := l.Blob(d)
			if err != nil {
				return err
			}
			switch d.MediaType {
			case ocispecs.MediaTypeImageIndex:
				var idx ocispecs.Index
				if err := json.Unmarshal(b, &idx); err != nil {
					return err
				}
				if err := walk(idx.Manifests); err != nil {
					return err
				}
			case ocispecs.MediaTypeImageManifest:
				if err := fn(d, b); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(l.Index.Manifests)
}

// Entry is one file of a layer.
type Entry struct {
	Header *tar.Header
	Data   []byte
}

// Layer reads every entry of a layer blob (gzip or uncompressed tar).
func (l *Layout) Layer(d ocispecs.Descriptor) ([]Entry, error) {
	b, err := l.Blob(d)
	if err != nil {
		return nil, err
	}
	var r io.Reader = bytes.NewReader(b)
	if strings.HasSuffix(d.MediaType, "gzip") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		r = zr
	}
	var out []Entry
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", d.Digest, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Header: h, Data: data})
	}
}

// Rootfs applies every layer of img in order (whiteouts included) and
// returns the final file system by clean path without leading slash.
func (l *Layout) Rootfs(img Image) (map[string]Entry, error) {
	fs := map[string]Entry{}
	for _, d := range img.Manifest.Layers {
		entries, err := l.Layer(d)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			name := strings.TrimSuffix(strings.TrimPrefix(e.Header.Name, "./"), "/")
			dir, base := splitPath(name)
			switch {
			case base == ".wh..wh..opq":
				for p := range fs {
					if strings.HasPrefix(p, dir+"/") {
						delete(fs, p)
					}
				}
			case strings.HasPrefix(base, ".wh."):
				gone := joinPath(dir, strings.TrimPrefix(base, ".wh."))
				for p := range fs {
					if p == gone || strings.HasPrefix(p, gone+"/") {
						delete(fs, p)
					}
				}
			default:
				fs[name] = e
			}
		}
	}
	return fs, nil
}

func splitPath(p string) (string, string) {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return "", p
}

func joinPath(dir, base string) string {
	if dir == "" {
		return base
	}
	return dir + "/" + base
}

// Paths lists a rootfs's paths, sorted.
func Paths(fs map[string]Entry) []string {
	out := make([]string, 0, len(fs))
	for p := range fs {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Statement is one in-toto statement of an attestation manifest.
type Statement struct {
	For           string // digest of the image manifest the attestation manifest refers to
	PredicateType string // from the layer's in-toto.io/predicate-type annotation
	Raw           []byte // the layer blob as stored
	Parsed        struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		Predicate json.RawMessage `json:"predicate"`
	}
}

// Statements returns the in-toto statements of every attestation manifest
// in the layout, as BuildKit stores them: one manifest per platform image,
// annotated with the digest it refers to, one layer per statement.
func (l *Layout) Statements() ([]Statement, error) {
	var out []Statement
	err := l.walkManifests(func(d ocispecs.Descriptor, b []byte) error {
		if d.Annotations["vnd.docker.reference.type"] != "attestation-manifest" {
			return nil
		}
		var m ocispecs.Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		for _, layer := range m.Layers {
			raw, err := l.Blob(layer)
			if err != nil {
				return err
			}
			s := Statement{For: d.Annotations["vnd.docker.reference.digest"],
				PredicateType: layer.Annotations["in-toto.io/predicate-type"], Raw: raw}
			if err := json.Unmarshal(raw, &s.Parsed); err != nil {
				return fmt.Errorf("attestation layer %s: %w", layer.Digest, err)
			}
			out = append(out, s)
		}
		return nil
	})
	return out, err
}
