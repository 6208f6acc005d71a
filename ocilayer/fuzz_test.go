//go:build linux

package ocilayer

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzApply applies arbitrary tars: whatever they hold, Apply must not
// panic and must write nothing outside the root, whose parent holds only
// the root and a file beside it that must stay as it was.
func FuzzApply(f *testing.F) {
	for _, ents := range [][]ent{
		{dir("usr/"), reg("usr/a", "a"), sym("bin", "usr"), reg("bin/b", "b"), {name: "h", typ: tar.TypeLink, link: "usr/a"}},
		{sym("up", "../../.."), reg("up/x", "x"), sym("abs", "/"), reg("abs/y", "y")},
		{dir("d/"), reg("d/f", "f"), whiteout("d/.wh..wh..opq"), whiteout(".wh.d"), reg("../z", "z")},
		{sym("loop", "loop/x"), reg("loop/x/y", "y"), reg("beside", "b")},
	} {
		f.Add(tarOf(f, ents...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		root := filepath.Join(parent, "root")
		beside := filepath.Join(parent, "beside")
		os.Mkdir(root, 0o755)
		os.WriteFile(beside, []byte("keep"), 0o644)
		d := Descriptor{MediaType: "application/vnd.oci.image.layer.v1.tar", Digest: sha(data), DiffID: sha(data)}
		Apply(root, bytes.NewReader(data), d) // errors are fine; escapes are not
		entries, _ := os.ReadDir(parent)
		if len(entries) != 2 {
			t.Fatalf("the root's parent holds %v", entries)
		}
		if b, err := os.ReadFile(beside); err != nil || string(b) != "keep" {
			t.Fatalf("the file beside the root is now %q (%v)", b, err)
		}
		if fi, err := os.Lstat(beside); err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("the file beside the root is now %v (%v)", fi, err)
		}
	})
}
