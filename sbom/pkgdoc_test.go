package sbom

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	spdxjson "github.com/spdx/tools-golang/json"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/kiln-build/kiln/sbom/spdxschema"
)

func testFile(path, content string) PackageFile {
	s1 := sha1.Sum([]byte(content))
	s256 := sha256.Sum256([]byte(content))
	return PackageFile{Path: path, SHA1: hex.EncodeToString(s1[:]), SHA256: hex.EncodeToString(s256[:])}
}

func testPackageDoc() PackageDoc {
	return PackageDoc{
		Name: "hello", Version: "2.12-r0", Arch: "x86_64", Licenses: []string{"GPL-3.0-or-later", "MIT"},
		Namespace: "wolfi", Description: "the GNU hello program", URL: "https://www.gnu.org/software/hello/",
		SourceDateEpoch: 1700000000,
		Files: []PackageFile{
			testFile("usr/share/locale/pt_BR/LC_MESSAGES/hello.mo", "mo"),
			testFile("usr/bin/hello", "elf"),
		},
		Sources: []SourcePackage{{
			Name: "hello", Version: "2.12", License: "GPL-3.0-or-later",
			DownloadLocation: "https://ftp.gnu.org/gnu/hello/hello-2.12.tar.gz",
			PURL:             "pkg:generic/hello@2.12?download_url=https://ftp.gnu.org/gnu/hello/hello-2.12.tar.gz",
			Checksums:        map[string]string{"SHA256": strings.Repeat("ab", 32)},
		}},
		BuildConfig: &SourcePackage{Name: "hello.yaml", Version: "0123abcd", License: "Apache-2.0",
			PURL: "pkg:github/wolfi-dev/os@0123abcd#hello.yaml"},
	}
}

func packageDoc(t *testing.T, d PackageDoc) (*spdx.Document, []byte) {
	t.Helper()
	enc, err := PackageDocument(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := spdxschema.Validate(enc); err != nil {
		t.Fatalf("not valid SPDX 2.3: %v\n%s", err, enc)
	}
	doc, err := spdxjson.Read(bytes.NewReader(enc))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range spdxIDField.FindAllStringSubmatch(string(enc), -1) {
		if !validSPDXID.MatchString(m[1]) {
			t.Errorf("SPDXID %q is not SPDXRef-[A-Za-z0-9.-]+", m[1])
		}
	}
	return doc, enc
}

func TestPackageDocument(t *testing.T) {
	d := testPackageDoc()
	doc, enc := packageDoc(t, d)

	if doc.DocumentName != "apk-hello-2.12-r0" || doc.CreationInfo.Created != "2023-11-14T22:13:20Z" {
		t.Errorf("name %q created %q", doc.DocumentName, doc.CreationInfo.Created)
	}
	apk := findPackage(doc, "hello")
	if apk == nil || apk.PackageVersion != "2.12-r0" || apk.PrimaryPackagePurpose != "APPLICATION" {
		t.Fatalf("described package %+v", apk)
	}
	if got := apk.PackageExternalReferences[0].Locator; got != "pkg:apk/wolfi/hello@2.12-r0?arch=x86_64&distro=wolfi" {
		t.Errorf("purl %s", got)
	}
	if apk.PackageSupplier == nil || apk.PackageSupplier.Supplier != "Wolfi" {
		t.Errorf("supplier %+v", apk.PackageSupplier)
	}
	if apk.PackageLicenseDeclared != "GPL-3.0-or-later AND MIT" {
		t.Errorf("licence %q", apk.PackageLicenseDeclared)
	}
	// Verification code per SPDX 2.3 7.9, computed independently here.
	var sums []string
	for _, f := range d.Files {
		sums = append(sums, f.SHA1)
	}
	if sums[0] > sums[1] {
		sums[0], sums[1] = sums[1], sums[0]
	}
	want := sha1.Sum([]byte(sums[0] + sums[1]))
	if apk.PackageVerificationCode == nil || apk.PackageVerificationCode.Value != hex.EncodeToString(want[:]) {
		t.Errorf("verification code %+v", apk.PackageVerificationCode)
	}
	if len(doc.Files) != 2 || doc.Files[0].FileName != "/usr/bin/hello" {
		t.Fatalf("files %+v", doc.Files)
	}
	for _, r := range []struct{ a, typ, b string }{
		{"DOCUMENT", "DESCRIBES", string(apk.PackageSPDXIdentifier)},
		{string(apk.PackageSPDXIdentifier), "CONTAINS", string(doc.Files[0].FileSPDXIdentifier)},
		{string(apk.PackageSPDXIdentifier), "CONTAINS", string(doc.Files[1].FileSPDXIdentifier)},
		{string(apk.PackageSPDXIdentifier), "GENERATED_FROM", "Package-source-hello-2.12"},
		{string(apk.PackageSPDXIdentifier), "DESCRIBED_BY", "Package-recipe-hello.yaml-0123abcd"},
	} {
		if !hasRel(doc, r.a, r.typ, r.b) {
			t.Errorf("missing %s %s %s", r.a, r.typ, r.b)
		}
	}

	// Same input in another order: same bytes.
	d2 := testPackageDoc()
	d2.Files[0], d2.Files[1] = d2.Files[1], d2.Files[0]
	_, enc2 := packageDoc(t, d2)
	if !bytes.Equal(enc, enc2) {
		t.Error("file order changes the document")
	}
	// Other content: another namespace URI.
	d3 := testPackageDoc()
	d3.Files = d3.Files[:1]
	doc3, _ := packageDoc(t, d3)
	if doc3.DocumentNamespace == doc.DocumentNamespace {
		t.Error("different contents share a document namespace")
	}
}

func TestPackageDocumentVariants(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*PackageDoc)
		purl     string
		license  string
		supplier string
	}{
		{"unknown namespace", func(d *PackageDoc) { d.Namespace = "" },
			"pkg:apk/unknown/hello@2.12-r0?arch=x86_64", "GPL-3.0-or-later AND MIT", "NOASSERTION"},
		{"own namespace", func(d *PackageDoc) { d.Namespace = "acme" },
			"pkg:apk/acme/hello@2.12-r0?arch=x86_64&distro=acme", "GPL-3.0-or-later AND MIT", "acme"},
		{"plus in name", func(d *PackageDoc) { d.Name = "g++" },
			"pkg:apk/wolfi/g%2B%2B@2.12-r0?arch=x86_64&distro=wolfi", "GPL-3.0-or-later AND MIT", "Wolfi"},
		{"no licence", func(d *PackageDoc) { d.Licenses = nil },
			"pkg:apk/wolfi/hello@2.12-r0?arch=x86_64&distro=wolfi", "NOASSERTION", "Wolfi"},
		{"non-SPDX licence", func(d *PackageDoc) { d.Licenses = []string{"Custom licence"} },
			"pkg:apk/wolfi/hello@2.12-r0?arch=x86_64&distro=wolfi", "LicenseRef-", "Wolfi"},
		{"compound licences", func(d *PackageDoc) { d.Licenses = []string{"MIT OR Apache-2.0", "BSD-3-Clause", "MIT OR Apache-2.0"} },
			"pkg:apk/wolfi/hello@2.12-r0?arch=x86_64&distro=wolfi", "(MIT OR Apache-2.0) AND BSD-3-Clause", "Wolfi"},
		{"no files, no sources", func(d *PackageDoc) { d.Files, d.Sources, d.BuildConfig = nil, nil, nil },
			"pkg:apk/wolfi/hello@2.12-r0?arch=x86_64&distro=wolfi", "GPL-3.0-or-later AND MIT", "Wolfi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testPackageDoc()
			tt.edit(&d)
			doc, _ := packageDoc(t, d)
			apk := doc.Packages[0]
			if got := apk.PackageExternalReferences[0].Locator; got != tt.purl {
				t.Errorf("purl %s, want %s", got, tt.purl)
			}
			if !strings.HasPrefix(apk.PackageLicenseDeclared, tt.license) {
				t.Errorf("licence %q, want %q...", apk.PackageLicenseDeclared, tt.license)
			}
			if apk.PackageSupplier.Supplier != tt.supplier {
				t.Errorf("supplier %q, want %q", apk.PackageSupplier.Supplier, tt.supplier)
			}
			if strings.HasPrefix(tt.license, "LicenseRef-") && len(doc.OtherLicenses) != 1 {
				t.Errorf("extracted licences %+v", doc.OtherLicenses)
			}
			if d.Files == nil && (apk.FilesAnalyzed || apk.PackageVerificationCode != nil) {
				t.Error("a package without files claims analysed files")
			}
		})
	}
}

func TestPackageDocumentErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*PackageDoc)
		want string
	}{
		{"no arch", func(d *PackageDoc) { d.Arch = "" }, "needs name, version and arch"},
		{"bad sha1", func(d *PackageDoc) { d.Files[0].SHA1 = "xyz" }, "SHA-1"},
		{"short sha256", func(d *PackageDoc) { d.Files[0].SHA256 = "abcd" }, "SHA-256"},
		{"nameless source", func(d *PackageDoc) { d.Sources[0].Name = "" }, "without a name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testPackageDoc()
			tt.edit(&d)
			if _, err := PackageDocument(d); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

// The document must merge into an image SBOM the way melange's do.
func TestPackageDocumentMerges(t *testing.T) {
	d := testPackageDoc()
	enc, err := PackageDocument(d)
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Arch: "x86_64", Platform: "linux/amd64", ImageName: "img", Packages: []Package{{
		Name: d.Name, Version: d.Version, Arch: d.Arch, License: "GPL-3.0-or-later AND MIT",
		Checksum:   "Q1" + strings.Repeat("A", 27) + "=",
		Repository: "https://packages.wolfi.dev/os",
		Embedded:   []Embedded{{Path: PackageDocumentPath(d.Name, d.Version), Data: enc}},
	}}}
	doc, _ := build(t, in)
	owner := findPackage(doc, "hello")
	if owner == nil {
		t.Fatal("no apk package in the image document")
	}
	if n := countPackages(doc, "hello"); n != 2 { // the apk and its upstream source
		t.Errorf("%d packages named hello, want the apk and its source", n)
	}
	if len(doc.Files) != 2 {
		t.Errorf("%d files merged, want 2", len(doc.Files))
	}
	reached := Reachable(doc, imageID)
	for _, f := range doc.Files {
		if !reached[f.FileSPDXIdentifier] {
			t.Errorf("file %s unreachable from the image", f.FileName)
		}
		if !hasRel(doc, string(owner.PackageSPDXIdentifier), "CONTAINS", string(f.FileSPDXIdentifier)) {
			t.Errorf("apk does not CONTAIN %s", f.FileName)
		}
	}
	for _, p := range doc.Packages {
		if !reached[p.PackageSPDXIdentifier] {
			t.Errorf("package %s unreachable from the image", p.PackageSPDXIdentifier)
		}
	}
}

func countPackages(doc *spdx.Document, name string) int {
	n := 0
	for _, p := range doc.Packages {
		if p.PackageName == name {
			n++
		}
	}
	return n
}
