package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/imagefs"
)

// TestHostileBounds: what kiln reads into memory has a bound (keys, the
// index entry, the SPDX documents packages ship), named in the error;
// a large but honest repository builds.
func TestHostileBounds(t *testing.T) {
	requireStack(t)
	tool := raw("tool", rawDir("opt"), rawFile("opt/tool", "tool", 0o755))
	t.Run("key past its bound", func(t *testing.T) {
		r := newHostileRepo(t).addRaw(tool).writeIndex(nil)
		key := filepath.Join(r.dir, apktest.KeyName)
		pemData, err := os.ReadFile(key)
		if err != nil {
			t.Fatal(err)
		}
		big := append(pemData, bytes.Repeat([]byte("# padding\n"), 7000)...)
		if err := os.WriteFile(key, big, 0o644); err != nil {
			t.Fatal(err)
		}
		refused(t, r.config("tool"), fmt.Sprintf("apko.yaml:5:7: keyring: packages/%s: %d bytes is over the 65536-byte limit", apktest.KeyName, len(big)))
	})
	t.Run("index entry claiming terabytes", func(t *testing.T) {
		r := newHostileRepo(t).addRaw(tool)
		// A tar header's size is only a claim; the body stops short.
		var body bytes.Buffer
		zw := gzip.NewWriter(&body)
		tw := tar.NewWriter(zw)
		if err := tw.WriteHeader(&tar.Header{Name: "APKINDEX", Mode: 0o644, Typeflag: tar.TypeReg, Size: 1 << 40}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte("P:tool\n"))
		zw.Close()
		signed, err := signIndex(r.signer, body.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		r.writeIndexBytes(signed)
		refused(t, r.config("tool"), "apko.yaml:3:7: repository ./packages: index ./packages/x86_64/APKINDEX.tar.gz: exceeds the size cap: APKINDEX entry of 1099511627776 bytes, more than 314572800")
	})
	t.Run("SPDX document past its bound", func(t *testing.T) {
		size := imagefs.MaxEmbeddedSBOM + 1
		p := raw("tool", rawDir("var"), rawDir("var/lib"), rawDir("var/lib/db"), rawDir("var/lib/db/sbom"),
			rawFile("var/lib/db/sbom/tool-1.0-r0.spdx.json", strings.Repeat(" ", size), 0o644))
		r := newHostileRepo(t).addRaw(p).writeIndex(nil)
		refused(t, r.config("tool"), fmt.Sprintf("[x86_64] tool: var/lib/db/sbom/tool-1.0-r0.spdx.json is %d bytes, more than kiln reads of a package's SBOM", size))
	})
	// 100000 packages in the index, resolved and the one asked for
	// installed: reading and resolving grow with the index, no more.
	t.Run("large honest index", func(t *testing.T) {
		r := newHostileRepo(t).addRaw(tool)
		recs := append([]*index.Package{}, r.recs...)
		for i := 0; i < 100000; i++ {
			recs = append(recs, &index.Package{Name: fmt.Sprintf("filler%06d", i), Version: "1.0-r0", Arch: hostileArch,
				Checksum: r.recs[0].Checksum, Size: 1000, InstalledSize: 1000, License: "MIT", Description: "filler",
				Dependencies: []string{fmt.Sprintf("filler%06d", (i+1)%100000)}})
		}
		var buf bytes.Buffer
		if err := index.Write(&buf, recs, index.WriteOptions{Signer: r.signer, Alg: sign.SHA256}); err != nil {
			t.Fatal(err)
		}
		r.writeIndexBytes(buf.Bytes())
		files, _ := builtRootfs(t, r.config("tool"))
		if _, ok := files["opt/tool"]; !ok {
			t.Error("image lacks opt/tool")
		}
	})
	checkServes(t)
}

// signIndex puts signer's signature section in front of an index body.
func signIndex(signer *sign.Signer, body []byte) ([]byte, error) {
	s, err := signer.Sign(sign.SHA256, sign.Digest(sign.SHA256, body))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := sign.WriteSegment(&out, s); err != nil {
		return nil, err
	}
	out.Write(body)
	return out.Bytes(), nil
}
