package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kiln-build/kiln/integration/ocitest"
)

// The same-layers probe builds, with BuildKit's own Dockerfile frontend,
// an image of kiln's layers as they are: each layer's files, extracted
// beforehand into the probe's context, copied by a COPY --link of its own
// (a layer each, merged, as kiln's steps make them). No package is read,
// verified or extracted in the build and no container starts: it measures
// what these layers cost through buildx when their files are already on
// disk (the context's checksums, a snapshot and a copy per layer, the
// merge, the export), next to kiln, which must also make the files. The
// first build sends the context; the others find it in BuildKit already.

// sameLayersContext writes the probe's context into dir from the image of
// a kiln build (an OCI layout tar): l00/, l01/, … holding each layer's
// files with their owners and modes, and a Dockerfile copying them. What
// dir held goes; files that come again keep their metadata (the layers'
// times are the build's epoch), so buildx sends BuildKit only the changes.
func sameLayersContext(ociTar, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	l, err := ocitest.Load(ociTar)
	if err != nil {
		return err
	}
	imgs, err := l.Images()
	if err != nil || len(imgs) != 1 {
		return fmt.Errorf("%s: %d images, %v", ociTar, len(imgs), err)
	}
	df := []string{"FROM scratch"}
	for i, d := range imgs[0].Manifest.Layers {
		name := fmt.Sprintf("l%02d", i)
		blob, err := l.Blob(d)
		if err != nil {
			return err
		}
		if err := untar(blob, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("layer %d (%s): %w", i, d.Digest, err)
		}
		df = append(df, "COPY --link "+name+"/ /")
	}
	return os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(strings.Join(df, "\n")+"\n"), 0o644)
}

// untar extracts a gzipped layer into dir as root would: owners, modes
// and links as the layer has them (tar does this faithfully; the probe
// needs no more).
func untar(layer []byte, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("tar", "-xz", "--same-owner", "--numeric-owner", "--same-permissions", "-C", dir)
	cmd.Stdin = bytes.NewReader(layer)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("tar: %v: %s", err, out)
	}
	return nil
}

// sameLayersProbe is the probe's working directory: its context (ctx/)
// and the image it exports (out.tar), outside kiln's context, so that
// kiln's builds read the same context with or without it.
type sameLayersProbe struct{ dir string }

// build writes the probe's context from a kiln image (an OCI layout tar)
// when given one, then builds the context through buildx and the builder
// kiln's builds use, with BuildKit's built-in Dockerfile frontend, into an
// OCI layout tar as kiln's builds are exported: cold with --no-cache, else
// reusing the layers whose files did not change.
func (p sameLayersProbe) build(ociTar string, noCache bool) (sample, error) {
	ctx := filepath.Join(p.dir, "ctx")
	if ociTar != "" {
		if err := sameLayersContext(ociTar, ctx); err != nil {
			return sample{}, fmt.Errorf("same-layers probe: %w", err)
		}
	}
	argv := []string{"docker", "buildx", "build", "--builder", "kiln", "--progress", "plain",
		"-f", filepath.Join(ctx, "Dockerfile"), "--platform", "linux/amd64", "--output", "type=oci,dest=" + filepath.Join(p.dir, "out.tar")}
	if noCache {
		argv = append(argv, "--no-cache")
	}
	s, _, err := run(ctx, nil, true, append(argv, ctx)...)
	if err != nil {
		return sample{}, fmt.Errorf("same-layers probe: %w", err)
	}
	return s, nil
}
