package sbom

import (
	"encoding/json"
	"testing"
)

// os-release files come from packages.
func FuzzParseOSRelease(f *testing.F) {
	f.Add([]byte("ID=wolfi\nNAME=\"Wolfi\"\nVERSION_ID=20230201\n"))
	f.Add([]byte("# comment\n\nID='alpine'\nVERSION_ID=\"3.16.0\"\nPRETTY_NAME=\"Alpine Linux v3.16\"\n"))
	f.Add([]byte("ID=\nNAME=\"unterminated\n=x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		os, err := ParseOSRelease(b)
		if err != nil {
			return
		}
		// The fields become SPDX element IDs and names: they must survive
		// the document's JSON.
		if _, err := json.Marshal(os); err != nil {
			t.Fatal(err)
		}
	})
}

// The SPDX documents packages ship are merged into the image's: any bytes
// either merge or fail the build with an error, and a document that
// merges is valid JSON of the image's document.
func FuzzBuildEmbedded(f *testing.F) {
	doc := map[string]any{
		"SPDXID": "SPDXRef-DOCUMENT", "name": "apk-hello-1.0-r0", "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0",
		"documentNamespace": "https://example.org/x", "creationInfo": map[string]any{"created": "1970-01-01T00:00:00Z", "creators": []string{"Tool: melange"}},
		"documentDescribes": []string{"SPDXRef-Package-hello-1.0-r0"},
		"packages": []map[string]any{
			{"SPDXID": "SPDXRef-Package-hello-1.0-r0", "name": "hello", "versionInfo": "1.0-r0", "downloadLocation": "NOASSERTION", "filesAnalyzed": false},
			{"SPDXID": "SPDXRef-Package-src", "name": "hello", "versionInfo": "1.0", "downloadLocation": "https://example.org/hello.tar.gz", "filesAnalyzed": false},
		},
		"relationships": []map[string]string{
			{"spdxElementId": "SPDXRef-Package-hello-1.0-r0", "relationshipType": "GENERATED_FROM", "relatedSpdxElement": "SPDXRef-Package-src"},
			{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Package-hello-1.0-r0"},
		},
	}
	seed, err := json.Marshal(doc)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"spdxVersion":"SPDX-2.3","packages":[{"SPDXID":"SPDXRef-x"}],"relationships":[{"spdxElementId":"SPDXRef-x","relationshipType":"CONTAINS","relatedSpdxElement":"SPDXRef-x"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := Input{Arch: "x86_64", Platform: "linux/amd64", ImageName: "img", Packages: []Package{{
			Name: "hello", Version: "1.0-r0", Arch: "x86_64", License: "MIT", Checksum: "Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			Repository: "https://example.org/repo",
			Embedded:   []Embedded{{Path: "var/lib/db/sbom/hello-1.0-r0.spdx.json", Data: b}},
		}}}
		d, err := Build(in)
		if err != nil {
			return
		}
		if _, err := json.Marshal(d); err != nil {
			t.Fatalf("merged document does not marshal: %v", err)
		}
	})
}
