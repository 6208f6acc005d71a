// Command treediff compares the root filesystems of the single-platform
// images in two OCI layout tars entry by entry (type, mode, owner, link
// target, contents) and prints every path where they differ: how kiln's
// image tree is checked against apko's on the same config.
package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"

	"github.com/kiln-build/kiln/integration/ocitest"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: treediff A.tar B.tar")
		os.Exit(2)
	}
	a, err := tree(os.Args[1])
	if err == nil {
		var b map[string]string
		if b, err = tree(os.Args[2]); err == nil {
			os.Exit(diff(a, b))
		}
	}
	fmt.Fprintln(os.Stderr, "treediff:", err)
	os.Exit(1)
}

// tree describes every entry of the only image in a layout tar.
func tree(path string) (map[string]string, error) {
	l, err := ocitest.Load(path)
	if err != nil {
		return nil, err
	}
	imgs, err := l.Images()
	if err != nil {
		return nil, err
	}
	if len(imgs) != 1 {
		return nil, fmt.Errorf("%s: %d images, want 1", path, len(imgs))
	}
	fs, err := l.Rootfs(imgs[0])
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for p, e := range fs {
		h := e.Header
		desc := fmt.Sprintf("%c %04o %d:%d", h.Typeflag, h.Mode&0o7777, h.Uid, h.Gid)
		switch h.Typeflag {
		case tar.TypeSymlink:
			desc += " -> " + h.Linkname
		case tar.TypeReg, tar.TypeLink:
			sum := sha256.Sum256(e.Data)
			desc += fmt.Sprintf(" %d %s", len(e.Data), hex.EncodeToString(sum[:6]))
		case tar.TypeChar, tar.TypeBlock:
			desc += fmt.Sprintf(" %d,%d", h.Devmajor, h.Devminor)
		}
		out[p] = desc
	}
	return out, nil
}

func diff(a, b map[string]string) int {
	var paths []string
	for p := range a {
		paths = append(paths, p)
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	n := 0
	for _, p := range paths {
		if a[p] != b[p] {
			fmt.Printf("%-45s %-40s | %s\n", p, orNone(a[p]), orNone(b[p]))
			n++
		}
	}
	fmt.Printf("%d of %d paths differ\n", n, len(paths))
	if n > 0 {
		return 1
	}
	return 0
}

func orNone(s string) string {
	if s == "" {
		return "(absent)"
	}
	return s
}
