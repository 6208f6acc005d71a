package sbom

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/kiln-build/kiln/internal/testkit"
	"github.com/kiln-build/kiln/sbom/spdxschema"
)

func testInput() Input {
	return Input{
		Arch: "x86_64", Platform: "linux/amd64", ImageName: "demo", SourceDateEpoch: 1700000000,
		Packages: []Package{
			{Name: "musl", Version: "1.2.3-r4", Arch: "x86_64", License: "MIT", Origin: "musl",
				Maintainer: "Timo Teräs <timo.teras@iki.fi>", URL: "https://musl.libc.org/",
				Checksum: "Q1ag8oI5ZJpwFf0vfUBwdKtE1hAT0=", Repository: "https://dl-cdn.alpinelinux.org/alpine/v3.16/main",
				SHA256: strings.Repeat("ab", 32)},
			{Name: "busybox", Version: "1.35.0-r17", Arch: "x86_64", License: "GPL-2.0-only", Origin: "busybox",
				Commit: "deadbeef", Checksum: "Q1TqaF4oBlfj/nW5xi+aL1PcXqhAw=",
				Repository: "https://dl-cdn.alpinelinux.org/alpine/v3.16/main", Depends: []string{"musl"}},
			{Name: "hello+extra", Version: "2.12_git20230101-r0", Arch: "noarch", License: "MIT BSD GPL2+",
				Checksum: "Q1ag8oI5ZJpwFf0vfUBwdKtE1hAT0=", Repository: "./packages",
				Depends: []string{"busybox", "musl"}},
		},
	}
}

// build builds and encodes a document, and checks it against the SPDX 2.3
// JSON schema.
func build(t *testing.T, in Input) (*spdx.Document, []byte) {
	t.Helper()
	doc, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := spdxschema.Validate(enc); err != nil {
		t.Fatalf("not valid SPDX 2.3: %v", err)
	}
	// What the schema leaves to the spec: identifier syntax, timestamps.
	for _, m := range spdxIDField.FindAllStringSubmatch(string(enc), -1) {
		if !validSPDXID.MatchString(m[1]) {
			t.Errorf("SPDXID %q is not SPDXRef-[A-Za-z0-9.-]+", m[1])
		}
	}
	if _, err := time.Parse(time.RFC3339, doc.CreationInfo.Created); err != nil || !strings.HasSuffix(doc.CreationInfo.Created, "Z") {
		t.Errorf("created %q is not a UTC date-time", doc.CreationInfo.Created)
	}
	return doc, enc
}

var (
	spdxIDField = regexp.MustCompile(`"SPDXID": "([^"]*)"`)
	validSPDXID = regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)
)

func findPackage(doc *spdx.Document, name string) *spdx.Package {
	for _, p := range doc.Packages {
		if p.PackageName == name {
			return p
		}
	}
	return nil
}

func hasRel(doc *spdx.Document, a, typ, b string) bool {
	for _, r := range doc.Relationships {
		if string(r.RefA.ElementRefID) == a && r.Relationship == typ && string(r.RefB.ElementRefID) == b {
			return true
		}
	}
	return false
}

func TestBuildPackages(t *testing.T) {
	doc, enc := build(t, testInput())
	if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" {
		t.Errorf("version %q license %q", doc.SPDXVersion, doc.DataLicense)
	}
	if got := doc.CreationInfo.Created; got != "2023-11-14T22:13:20Z" {
		t.Errorf("created %q, want SOURCE_DATE_EPOCH 1700000000", got)
	}
	if len(doc.Packages) != 4 {
		t.Fatalf("%d packages, want the image and 3 apks", len(doc.Packages))
	}
	tests := []struct {
		name, id, purl, cpe, license, download, supplier, originator string
		sums                                                         []string
	}{
		{"musl", "Package-musl-1.2.3-r4", "pkg:apk/alpine/musl@1.2.3-r4?arch=x86_64",
			"cpe:2.3:a:musl:musl:1.2.3:*:*:*:*:*:*:*", "MIT",
			"https://dl-cdn.alpinelinux.org/alpine/v3.16/main/x86_64/musl-1.2.3-r4.apk",
			"Organization: Alpine Linux", "Person: Timo Teräs (timo.teras@iki.fi)",
			[]string{"SHA1:6a0f28239649a7015fd2f7d407074ab44d61013d", "SHA256:" + strings.Repeat("ab", 32)}},
		{"busybox", "Package-busybox-1.35.0-r17", "pkg:apk/alpine/busybox@1.35.0-r17?arch=x86_64",
			"cpe:2.3:a:busybox:busybox:1.35.0:*:*:*:*:*:*:*", "GPL-2.0-only",
			"https://dl-cdn.alpinelinux.org/alpine/v3.16/main/x86_64/busybox-1.35.0-r17.apk",
			"Organization: Alpine Linux", "",
			[]string{"SHA1:4ea685e280657e3fe75b9c62f9a2f53dc5ea840c"}},
		{"hello+extra", "Package-hello-extra-2.12-git20230101-r0", "pkg:apk/packages/hello%2Bextra@2.12_git20230101-r0?arch=noarch",
			`cpe:2.3:a:hello\+extra:hello\+extra:2.12_git20230101:*:*:*:*:*:*:*`, "LicenseRef-MIT-BSD-GPL2-00d9e44b",
			"NOASSERTION", "NOASSERTION", "",
			[]string{"SHA1:6a0f28239649a7015fd2f7d407074ab44d61013d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := findPackage(doc, tt.name)
			if p == nil {
				t.Fatal("missing")
			}
			if string(p.PackageSPDXIdentifier) != tt.id {
				t.Errorf("SPDXID %q, want %q", p.PackageSPDXIdentifier, tt.id)
			}
			var purl, cpe string
			for _, r := range p.PackageExternalReferences {
				switch r.RefType {
				case "purl":
					purl = r.Locator
				case "cpe23Type":
					cpe = r.Locator
				}
			}
			if purl != tt.purl || cpe != tt.cpe {
				t.Errorf("purl %q cpe %q, want %q %q", purl, cpe, tt.purl, tt.cpe)
			}
			if p.PackageLicenseDeclared != tt.license || p.PackageDownloadLocation != tt.download {
				t.Errorf("license %q download %q, want %q %q", p.PackageLicenseDeclared, p.PackageDownloadLocation, tt.license, tt.download)
			}
			supplier, _ := json.Marshal(p.PackageSupplier)
			if string(supplier) != `"`+tt.supplier+`"` {
				t.Errorf("supplier %s, want %q", supplier, tt.supplier)
			}
			originator := ""
			if p.PackageOriginator != nil {
				b, _ := json.Marshal(p.PackageOriginator)
				json.Unmarshal(b, &originator)
			}
			if originator != tt.originator {
				t.Errorf("originator %q, want %q", originator, tt.originator)
			}
			var sums []string
			for _, c := range p.PackageChecksums {
				sums = append(sums, string(c.Algorithm)+":"+c.Value)
			}
			if strings.Join(sums, " ") != strings.Join(tt.sums, " ") {
				t.Errorf("checksums %v, want %v", sums, tt.sums)
			}
		})
	}
	if !strings.Contains(string(enc), `"licenseId": "LicenseRef-MIT-BSD-GPL2-00d9e44b"`) {
		t.Errorf("the LicenseRef has no extracted licensing info:\n%s", enc)
	}
}

func TestBuildRelationships(t *testing.T) {
	doc, _ := build(t, testInput())
	want := [][3]string{
		{"DOCUMENT", "DESCRIBES", "Image"},
		{"Image", "CONTAINS", "Package-musl-1.2.3-r4"},
		{"Image", "CONTAINS", "Package-busybox-1.35.0-r17"},
		{"Image", "CONTAINS", "Package-hello-extra-2.12-git20230101-r0"},
		{"Package-busybox-1.35.0-r17", "DEPENDS_ON", "Package-musl-1.2.3-r4"},
		{"Package-hello-extra-2.12-git20230101-r0", "DEPENDS_ON", "Package-busybox-1.35.0-r17"},
		{"Package-hello-extra-2.12-git20230101-r0", "DEPENDS_ON", "Package-musl-1.2.3-r4"},
	}
	if len(doc.Relationships) != len(want) {
		t.Errorf("%d relationships, want %d", len(doc.Relationships), len(want))
	}
	for _, w := range want {
		if !hasRel(doc, w[0], w[1], w[2]) {
			t.Errorf("no %s %s %s", w[0], w[1], w[2])
		}
	}
}

// TestBuildReproducible: the same input gives the same bytes, and the
// namespace changes with the content it names.
func TestBuildReproducible(t *testing.T) {
	_, a := build(t, testInput())
	_, b := build(t, testInput())
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of one input differ")
	}
	in := testInput()
	in.Packages[0].Version = "1.2.3-r5"
	d1, _ := build(t, testInput())
	d2, _ := build(t, in)
	if d1.DocumentNamespace == d2.DocumentNamespace {
		t.Error("a different package set kept the same document namespace")
	}
}

// TestBuildParsesBack: what kiln writes, tools-golang reads back intact.
func TestBuildParsesBack(t *testing.T) {
	doc, enc := build(t, testInput())
	back, err := spdxjson.Read(bytes.NewReader(enc))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Packages) != len(doc.Packages) || len(back.Relationships) != len(doc.Relationships) {
		t.Errorf("read back %d packages %d relationships, wrote %d %d",
			len(back.Packages), len(back.Relationships), len(doc.Packages), len(doc.Relationships))
	}
	reached := Reachable(back, imageID)
	for _, p := range back.Packages {
		if !reached[p.PackageSPDXIdentifier] {
			t.Errorf("%s is not reachable from the image", p.PackageSPDXIdentifier)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Input)
		want   string
	}{
		{"missing dependency", func(in *Input) { in.Packages[1].Depends = []string{"glibc"} }, "busybox depends on glibc, which is not installed"},
		{"duplicate", func(in *Input) { in.Packages[2].Name = "musl" }, "musl listed twice"},
		{"bad checksum", func(in *Input) { in.Packages[0].Checksum = "sha1:abc" }, `"sha1:abc" is not a Q1`},
		{"bad sha256", func(in *Input) { in.Packages[0].SHA256 = "xyz" }, `bad SHA-256 "xyz"`},
		{"embedded not SPDX", func(in *Input) {
			in.Packages[2].Embedded = []Embedded{{Path: "var/lib/db/sbom/x.spdx.json", Data: []byte("{}")}}
		}, "hello+extra-2.12_git20230101-r0: var/lib/db/sbom/x.spdx.json: not an SPDX JSON document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testInput()
			tt.change(&in)
			_, err := Build(in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNamespace(t *testing.T) {
	tests := []struct{ repo, ns, supplier string }{
		{"https://packages.wolfi.dev/os", "wolfi", "Wolfi"},
		{"https://dl-cdn.alpinelinux.org/alpine/edge/main", "alpine", "Alpine Linux"},
		{"https://apk.cgr.dev/chainguard", "chainguard", ""},
		{"https://packages.cgr.dev/extras", "extras", ""},
		{"http://127.0.0.1:8080/repo", "repo", ""},
		{"http://127.0.0.1:8080", "127.0.0.1", ""},
		{"./packages", "packages", ""},
		{"/work/My Repo", "my-repo", ""},
		{"file:///srv/apk/main", "main", ""},
		{".", "local", ""},
	}
	for _, tt := range tests {
		ns, supplier := namespace(tt.repo)
		if ns != tt.ns || supplier != tt.supplier {
			t.Errorf("namespace(%q) = %q, %q; want %q, %q", tt.repo, ns, supplier, tt.ns, tt.supplier)
		}
	}
}

func TestIsEmbeddedSBOM(t *testing.T) {
	tests := map[string]bool{
		"var/lib/db/sbom/hello-2.12-r0.spdx.json":   true,
		"/var/lib/db/sbom/hello-2.12-r0.spdx.json":  true,
		"./var/lib/db/sbom/hello-2.12-r0.spdx.json": true,
		"var/lib/db/sbom/.spdx.json":                false,
		"var/lib/db/sbom/sub/x.spdx.json":           false,
		"var/lib/db/sbom/hello.json":                false,
		"usr/share/var/lib/db/sbom/x.spdx.json":     false,
	}
	for name, want := range tests {
		if got := IsEmbeddedSBOM(name); got != want {
			t.Errorf("IsEmbeddedSBOM(%q) = %v", name, got)
		}
	}
}

// melangeDoc is a package's own document the way melange writes one:
// the apk described, the recipe DESCRIBED_BY, the upstream source
// GENERATED_FROM, and a file the apk CONTAINS.
func melangeDoc(name, version string) []byte {
	return []byte(`{
  "SPDXID": "SPDXRef-DOCUMENT",
  "name": "apk-` + name + `-` + version + `",
  "spdxVersion": "SPDX-2.3",
  "creationInfo": {"created": "2025-01-01T00:00:00Z", "creators": ["Tool: melange"]},
  "dataLicense": "CC0-1.0",
  "documentNamespace": "https://spdx.org/spdxdocs/melange/` + name + `",
  "documentDescribes": ["SPDXRef-Package-` + name + `-` + version + `"],
  "files": [{"SPDXID": "SPDXRef-File--usr-bin-` + name + `", "fileName": "/usr/bin/` + name + `",
    "checksums": [{"algorithm": "SHA1", "checksumValue": "5445a8546f7818d0d624f62328bee1c4ffdf0c2d"}]}],
  "packages": [
    {"SPDXID": "SPDXRef-Package-` + name + `-` + version + `", "name": "` + name + `", "versionInfo": "` + version + `",
     "downloadLocation": "NOASSERTION", "filesAnalyzed": false, "licenseDeclared": "LicenseRef-upstream"},
    {"SPDXID": "SPDXRef-Package-recipe.yaml-abc", "name": "recipe.yaml", "versionInfo": "abc", "downloadLocation": "NOASSERTION", "filesAnalyzed": false},
    {"SPDXID": "SPDXRef-Package-upstream-1.0", "name": "upstream", "versionInfo": "1.0", "downloadLocation": "https://example.org/upstream-1.0.tar.gz", "filesAnalyzed": false},
    {"SPDXID": "SPDXRef-Package-stray", "name": "stray", "versionInfo": "0", "downloadLocation": "NOASSERTION", "filesAnalyzed": false}
  ],
  "hasExtractedLicensingInfos": [{"licenseId": "LicenseRef-upstream", "extractedText": "upstream's own terms"}],
  "relationships": [
    {"spdxElementId": "SPDXRef-Package-` + name + `-` + version + `", "relationshipType": "DESCRIBED_BY", "relatedSpdxElement": "SPDXRef-Package-recipe.yaml-abc"},
    {"spdxElementId": "SPDXRef-Package-` + name + `-` + version + `", "relationshipType": "GENERATED_FROM", "relatedSpdxElement": "SPDXRef-Package-upstream-1.0"},
    {"spdxElementId": "SPDXRef-Package-` + name + `-` + version + `", "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-File--usr-bin-` + name + `"},
    {"spdxElementId": "SPDXRef-Package-upstream-1.0", "relationshipType": "OTHER", "relatedSpdxElement": "DocumentRef-elsewhere:SPDXRef-x"}
  ]
}`)
}

// TestMergeEmbedded: subpackages of one melange build share their recipe
// and source packages; the image document lists them once, keeps kiln's
// own entry for each apk, and leaves nothing unreachable.
func TestMergeEmbedded(t *testing.T) {
	in := testInput()
	in.Packages[0].Embedded = []Embedded{{Path: "var/lib/db/sbom/musl-1.2.3-r4.spdx.json", Data: melangeDoc("musl", "1.2.3-r4")}}
	in.Packages[1].Embedded = []Embedded{{Path: "var/lib/db/sbom/busybox-1.35.0-r17.spdx.json", Data: melangeDoc("busybox", "1.35.0-r17")}}
	doc, enc := build(t, in)

	count := map[string]int{}
	for _, p := range doc.Packages {
		count[p.PackageName]++
	}
	for name, want := range map[string]int{"musl": 1, "busybox": 1, "recipe.yaml": 1, "upstream": 1, "stray": 1} {
		if count[name] != want {
			t.Errorf("%d packages named %s, want %d", count[name], name, want)
		}
	}
	if p := findPackage(doc, "musl"); p.PackageLicenseDeclared != "MIT" || len(p.PackageChecksums) != 2 {
		t.Errorf("kiln's entry for musl was replaced: %+v", p)
	}
	if len(doc.Files) != 2 {
		t.Errorf("%d files, want one from each document", len(doc.Files))
	}
	for _, w := range [][3]string{
		{"Package-musl-1.2.3-r4", "DESCRIBED_BY", "Package-recipe.yaml-abc"},
		{"Package-busybox-1.35.0-r17", "DESCRIBED_BY", "Package-recipe.yaml-abc"},
		{"Package-musl-1.2.3-r4", "GENERATED_FROM", "Package-upstream-1.0"},
		{"Package-musl-1.2.3-r4", "CONTAINS", "File--usr-bin-musl"},
		{"Package-busybox-1.35.0-r17", "CONTAINS", "File--usr-bin-busybox"},
		{"Package-musl-1.2.3-r4", "OTHER", "Package-stray"},
	} {
		if !hasRel(doc, w[0], w[1], w[2]) {
			t.Errorf("no %s %s %s", w[0], w[1], w[2])
		}
	}
	others := 0
	for _, r := range doc.Relationships {
		if r.Relationship == "OTHER" {
			others++
		}
	}
	if others != 1 {
		t.Errorf("%d OTHER relationships, want one, for the stray package only", others)
	}
	for _, r := range doc.Relationships {
		if r.RefB.DocumentRefID != "" || strings.HasPrefix(string(r.RefA.ElementRefID), "DOCUMENT") && r.Relationship != "DESCRIBES" {
			t.Errorf("carried over %+v", r)
		}
	}
	if !strings.Contains(string(enc), `"extractedText": "upstream's own terms"`) {
		t.Error("the embedded document's extracted licence was dropped")
	}
	reached := Reachable(doc, imageID)
	for _, p := range doc.Packages {
		if !reached[p.PackageSPDXIdentifier] {
			t.Errorf("package %s unreachable from the image", p.PackageSPDXIdentifier)
		}
	}
	for _, f := range doc.Files {
		if !reached[f.FileSPDXIdentifier] {
			t.Errorf("file %s unreachable from the image", f.FileSPDXIdentifier)
		}
	}
	// Order of embedded documents does not change the bytes.
	in2 := in
	in2.Packages = append([]Package(nil), in.Packages...)
	in2.Packages[0].Embedded = append([]Embedded{{Path: "var/lib/db/sbom/zz.spdx.json", Data: melangeDoc("musl", "1.2.3-r4")}}, in.Packages[0].Embedded...)
	in3 := in2
	in3.Packages = append([]Package(nil), in2.Packages...)
	in3.Packages[0].Embedded = []Embedded{in2.Packages[0].Embedded[1], in2.Packages[0].Embedded[0]}
	_, a := build(t, in2)
	_, b := build(t, in3)
	if !bytes.Equal(a, b) {
		t.Error("the order embedded documents arrive in changed the document")
	}
}

// TestMergeRealMelangeSBOM merges the SPDX document a real melange build
// shipped in hello-wolfi (files with checksums, a non-DOCUMENT SPDXID).
func TestMergeRealMelangeSBOM(t *testing.T) {
	apk := testkit.SharedTestdata(t, "packages/hello-wolfi-2.12.1-r0.apk")
	data := readEmbeddedFromAPK(t, apk)
	in := Input{Arch: "x86_64", Platform: "linux/amd64", Packages: []Package{{
		Name: "hello-wolfi", Version: "2.12.1-r0", Arch: "x86_64", License: "GPL-3.0-or-later",
		Checksum: "Q1ag8oI5ZJpwFf0vfUBwdKtE1hAT0=", Repository: "https://packages.wolfi.dev/os",
		Embedded: []Embedded{{Path: "var/lib/db/sbom/hello-wolfi-2.12.1-r0.spdx.json", Data: data}},
	}}}
	doc, _ := build(t, in)
	if len(doc.Files) != 46 {
		t.Errorf("%d files merged, want melange's 46", len(doc.Files))
	}
	if len(doc.Packages) != 2 {
		t.Errorf("%d packages, want the image and hello-wolfi", len(doc.Packages))
	}
	reached := Reachable(doc, imageID)
	for _, f := range doc.Files {
		if !reached[f.FileSPDXIdentifier] {
			t.Errorf("%s (%s) unreachable", f.FileSPDXIdentifier, f.FileName)
		}
	}
	if !hasRel(doc, "Package-hello-wolfi-2.12.1-r0", "CONTAINS", "File--usr-bin-hello") {
		t.Error("hello-wolfi does not CONTAIN /usr/bin/hello")
	}
}

// A package's own document may name elements with nothing an SPDX ID can
// be made of: they still get valid, distinct IDs in the image's document
// (found by FuzzBuildEmbedded).
func TestEmbeddedElementsWithoutIDs(t *testing.T) {
	in := testInput()
	in.Packages[0].Embedded = []Embedded{{Path: "var/lib/db/sbom/x.spdx.json", Data: []byte(
		`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"x","dataLicense":"CC0-1.0","documentNamespace":"https://example.org/x",` +
			`"creationInfo":{"created":"1970-01-01T00:00:00Z","creators":["Tool: x"]},` +
			`"packages":[{"name":"","downloadLocation":"NOASSERTION"},{"SPDXID":"SPDXRef-%%%","name":"odd","downloadLocation":"NOASSERTION"}]}`)}}
	doc, _ := build(t, in)
	seen := map[string]bool{}
	for _, p := range doc.Packages {
		if p.PackageSPDXIdentifier == "" || seen[string(p.PackageSPDXIdentifier)] {
			t.Errorf("package %q has ID %q", p.PackageName, p.PackageSPDXIdentifier)
		}
		seen[string(p.PackageSPDXIdentifier)] = true
	}
}
