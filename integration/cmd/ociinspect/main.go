// Command ociinspect prints, for each platform image in an OCI layout tar
// (docker buildx --output type=oci), its manifest digest, layer count and
// the apk packages its installed database lists, and a summary of the
// SPDX SBOM attached to it, if any.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"

	"github.com/kiln-build/kiln/apk/install"
	"github.com/kiln-build/kiln/integration/ocitest"
)

func main() {
	layersOnly := len(os.Args) == 3 && os.Args[1] == "-layers"
	if len(os.Args) != 2 && !layersOnly {
		fmt.Fprintln(os.Stderr, "usage: ociinspect [-layers] OUT.tar")
		os.Exit(2)
	}
	if err := run(os.Args[len(os.Args)-1], layersOnly); err != nil {
		fmt.Fprintln(os.Stderr, "ociinspect:", err)
		os.Exit(1)
	}
}

// run prints packages per platform, or with layersOnly one
// "digest size" line per layer (for benchmark diffs).
func run(path string, layersOnly bool) error {
	l, err := ocitest.Load(path)
	if err != nil {
		return err
	}
	imgs, err := l.Images()
	if err != nil {
		return err
	}
	stmts, err := l.Statements()
	if err != nil {
		return err
	}
	for _, img := range imgs {
		if layersOnly {
			for _, d := range img.Manifest.Layers {
				fmt.Printf("%s %d\n", d.Digest, d.Size)
			}
			continue
		}
		fs, err := l.Rootfs(img)
		if err != nil {
			return err
		}
		plat := img.Config.OS + "/" + img.Config.Architecture
		fmt.Printf("%s %s (%d layers)\n", plat, img.Descriptor.Digest, len(img.Manifest.Layers))
		db, ok := fs[install.DefaultDBPath]
		if !ok {
			return fmt.Errorf("%s: no %s", plat, install.DefaultDBPath)
		}
		pkgs, err := install.ReadDatabase(bytes.NewReader(db.Data))
		if err != nil {
			return err
		}
		for _, p := range pkgs {
			fmt.Printf("  %s-%s\n", p.Name, p.Version)
		}
		for _, st := range stmts {
			if st.For != img.Descriptor.Digest.String() || st.PredicateType != "https://spdx.dev/Document" {
				continue
			}
			var doc struct {
				Packages      []json.RawMessage `json:"packages"`
				Files         []json.RawMessage `json:"files"`
				Relationships []json.RawMessage `json:"relationships"`
			}
			if err := json.Unmarshal(st.Parsed.Predicate, &doc); err != nil {
				return fmt.Errorf("%s: SBOM: %w", plat, err)
			}
			sum := sha256.Sum256(st.Raw)
			fmt.Printf("  SBOM: SPDX, %d packages, %d files, %d relationships, %d bytes, statement sha256:%x\n",
				len(doc.Packages), len(doc.Files), len(doc.Relationships), len(st.Parsed.Predicate), sum)
		}
	}
	return nil
}
