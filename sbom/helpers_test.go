package sbom

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/kiln-build/kiln/apk/pkg"
)

// readEmbeddedFromAPK returns the one SPDX document a real .apk ships.
// The package's signing key is not ours, so only its checksums are checked.
func readEmbeddedFromAPK(t *testing.T, file string) []byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, err := pkg.Open(f, pkg.ReadOptions{AllowUntrusted: true, Name: file})
	if err != nil {
		t.Fatal(err)
	}
	var found []byte
	for {
		h, err := pr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if IsEmbeddedSBOM(h.Name) {
			if found, err = io.ReadAll(pr); err != nil {
				t.Fatal(err)
			}
		}
	}
	if found == nil {
		t.Fatalf("%s ships no SPDX document", file)
	}
	return found
}
