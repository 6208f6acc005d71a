// Command ociinspect prints, for each platform image in an OCI layout tar
// (docker buildx --output type=oci), its manifest digest, layer count and
// the apk packages its installed database lists.
package main

import (
	"bytes"
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
	}
	return nil
}
