package sbom

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// PackageDoc describes one built apk for the SPDX document melange packs
// into every package it builds, under EmbeddedDir.
type PackageDoc struct {
	Name    string
	Version string // full version, <version>-r<epoch>
	Arch    string
	// Licenses are the licences of the package's copyright entries,
	// which melange declares together with AND. Each is an SPDX
	// expression or else text kept as a LicenseRef-. None is NOASSERTION.
	Licenses  []string
	Copyright string // copyright attestation text; "" is NOASSERTION
	// Namespace is the distribution building the package (melange's
	// --namespace): the purl namespace and supplier. "" is "unknown".
	Namespace       string
	Description     string
	URL             string
	CPE             string // cpe:2.3 name, when the configuration gives one
	SourceDateEpoch int64  // the creation time
	Files           []PackageFile
	// Sources are the upstream sources the package was built from
	// (GENERATED_FROM), BuildConfig the build recipe (DESCRIBED_BY).
	Sources     []SourcePackage
	BuildConfig *SourcePackage
}

// PackageFile is one regular file of the package.
type PackageFile struct {
	Path   string // relative, as in the package ("usr/bin/hello")
	SHA1   string // hex
	SHA256 string // hex
}

// SourcePackage is a non-apk package the document names: an upstream
// tarball or repository, or the build configuration.
type SourcePackage struct {
	Name             string
	Version          string
	License          string // SPDX expression; "" is NOASSERTION
	DownloadLocation string // "" is NOASSERTION
	PURL             string
	Checksums        map[string]string // "SHA256" → hex
}

// PackageDocumentPath is where a package carries its own document.
func PackageDocumentPath(name, version string) string {
	return EmbeddedDir + "/" + name + "-" + version + ".spdx.json"
}

// PackageDocument builds the document a package ships: the apk as the
// described package, CONTAINS each of its files with SHA-1 and SHA-256,
// GENERATED_FROM its sources and DESCRIBED_BY its recipe. The same input
// gives the same bytes.
func PackageDocument(d PackageDoc) ([]byte, error) {
	doc, err := buildPackageDocument(d)
	if err != nil {
		return nil, err
	}
	return Encode(doc)
}

func buildPackageDocument(d PackageDoc) (*spdx.Document, error) {
	if d.Name == "" || d.Version == "" || d.Arch == "" {
		return nil, fmt.Errorf("sbom: package document needs name, version and arch (have %q %q %q)", d.Name, d.Version, d.Arch)
	}
	ns := d.Namespace
	if ns == "" {
		ns = "unknown"
	}
	files := slices.Clone(d.Files)
	slices.SortFunc(files, func(a, b PackageFile) int { return strings.Compare(a.Path, b.Path) })

	ids := newIDs()
	ids.reserve("DOCUMENT")
	licenses := map[string]*spdx.OtherLicense{}
	declared := func(l string) string {
		expr, extracted := DeclaredLicense(l)
		for _, e := range extracted {
			if licenses[e.ID] == nil {
				licenses[e.ID] = &spdx.OtherLicense{LicenseIdentifier: e.ID, ExtractedText: e.Text, LicenseName: e.Text}
			}
		}
		return expr
	}

	apk := &spdx.Package{
		PackageName:             d.Name,
		PackageSPDXIdentifier:   ids.take("Package-" + d.Name + "-" + d.Version),
		PackageVersion:          d.Version,
		PackageFileName:         d.Name + "-" + d.Version + ".apk",
		PackageDownloadLocation: noAssertion,
		PackageHomePage:         d.URL,
		PackageDescription:      d.Description,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  declaredAll(d.Licenses, declared),
		PackageCopyrightText:    orDefault(d.Copyright, noAssertion),
		PrimaryPackagePurpose:   "APPLICATION",
		PackageExternalReferences: []*spdx.PackageExternalReference{
			{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: builtPURL(ns, d)},
		},
	}
	if d.CPE != "" {
		apk.PackageExternalReferences = append(apk.PackageExternalReferences,
			&spdx.PackageExternalReference{Category: common.CategorySecurity, RefType: common.TypeSecurityCPE23Type, Locator: d.CPE})
	}
	if supplier := supplierOf(ns); supplier != "" {
		apk.PackageSupplier = &common.Supplier{SupplierType: "Organization", Supplier: supplier}
		apk.PackageOriginator = &common.Originator{OriginatorType: "Organization", Originator: supplier}
	} else {
		apk.PackageSupplier = &common.Supplier{Supplier: noAssertion}
	}

	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      "apk-" + d.Name + "-" + d.Version,
		DocumentNamespace: "https://spdx.org/spdxdocs/kiln/apk/" + url.PathEscape(d.Name+"-"+d.Version) + "-" + packageContentID(ns, d, files),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: Creator}},
			Created:  time.Unix(d.SourceDateEpoch, 0).UTC().Format(time.RFC3339),
		},
		Packages: []*spdx.Package{apk},
	}
	rels := &relationships{}
	rels.add("DOCUMENT", common.TypeRelationshipDescribe, apk.PackageSPDXIdentifier)

	if len(files) > 0 {
		apk.FilesAnalyzed, apk.IsFilesAnalyzedTagPresent = true, true
		sums := make([]string, 0, len(files))
		for _, f := range files {
			if err := checkHex(f.SHA1, sha1.Size); err != nil {
				return nil, fmt.Errorf("sbom: file %s: SHA-1: %w", f.Path, err)
			}
			if err := checkHex(f.SHA256, sha256.Size); err != nil {
				return nil, fmt.Errorf("sbom: file %s: SHA-256: %w", f.Path, err)
			}
			sums = append(sums, strings.ToLower(f.SHA1))
			sf := &spdx.File{
				FileName:           "/" + strings.TrimPrefix(f.Path, "/"),
				FileSPDXIdentifier: ids.take("File-" + f.Path),
				Checksums: []common.Checksum{
					{Algorithm: common.SHA1, Value: strings.ToLower(f.SHA1)},
					{Algorithm: common.SHA256, Value: strings.ToLower(f.SHA256)},
				},
				LicenseConcluded:  noAssertion,
				FileCopyrightText: noAssertion,
			}
			doc.Files = append(doc.Files, sf)
			rels.add(apk.PackageSPDXIdentifier, common.TypeRelationshipContains, sf.FileSPDXIdentifier)
		}
		apk.PackageVerificationCode = &common.PackageVerificationCode{Value: verificationCode(sums)}
	} else {
		apk.IsFilesAnalyzedTagPresent = true
	}

	add := func(s SourcePackage, kind, purpose, rel string) error {
		if s.Name == "" {
			return fmt.Errorf("sbom: %s package without a name", kind)
		}
		sp := &spdx.Package{
			PackageName:               s.Name,
			PackageSPDXIdentifier:     ids.take("Package-" + kind + "-" + s.Name + "-" + s.Version),
			PackageVersion:            s.Version,
			PackageDownloadLocation:   orDefault(s.DownloadLocation, noAssertion),
			PackageLicenseConcluded:   noAssertion,
			PackageLicenseDeclared:    declared(s.License),
			PackageCopyrightText:      noAssertion,
			PrimaryPackagePurpose:     purpose,
			IsFilesAnalyzedTagPresent: true,
		}
		if s.PURL != "" {
			sp.PackageExternalReferences = []*spdx.PackageExternalReference{
				{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: s.PURL},
			}
		}
		algs := make([]string, 0, len(s.Checksums))
		for a := range s.Checksums {
			algs = append(algs, a)
		}
		slices.Sort(algs)
		for _, a := range algs {
			sp.PackageChecksums = append(sp.PackageChecksums, common.Checksum{Algorithm: common.ChecksumAlgorithm(a), Value: strings.ToLower(s.Checksums[a])})
		}
		doc.Packages = append(doc.Packages, sp)
		rels.add(apk.PackageSPDXIdentifier, rel, sp.PackageSPDXIdentifier)
		return nil
	}
	for _, s := range d.Sources {
		if err := add(s, "source", "SOURCE", common.TypeRelationshipGeneratedFrom); err != nil {
			return nil, err
		}
	}
	if d.BuildConfig != nil {
		if err := add(*d.BuildConfig, "recipe", "INSTALL", common.TypeRelationshipDescribeBy); err != nil {
			return nil, err
		}
	}
	doc.Relationships = rels.list
	doc.OtherLicenses = otherLicenses(licenses)
	return doc, nil
}

// declaredAll joins the copyright entries' licences with AND,
// parenthesising compound ones.
func declaredAll(licenses []string, declared func(string) string) string {
	var parts []string
	for _, l := range licenses {
		if strings.TrimSpace(l) == "" {
			continue
		}
		e := declared(l)
		if len(licenses) > 1 && strings.Contains(e, " ") {
			e = "(" + e + ")"
		}
		if !slices.Contains(parts, e) {
			parts = append(parts, e)
		}
	}
	if len(parts) == 0 {
		return noAssertion
	}
	return strings.Join(parts, " AND ")
}

// builtPURL is melange's purl for a built apk:
// pkg:apk/<namespace>/<name>@<version>?arch=<arch>&distro=<namespace>,
// without the distro qualifier for the "unknown" namespace.
func builtPURL(ns string, d PackageDoc) string {
	s := "pkg:apk/" + purlSegment(ns) + "/" + purlSegment(d.Name) + "@" + purlSegment(d.Version) + "?arch=" + url.QueryEscape(d.Arch)
	if ns != "unknown" {
		s += "&distro=" + url.QueryEscape(ns)
	}
	return s
}

// supplierOf names the organisation behind a namespace: the known
// distributions by their names, others as written; none for "unknown".
func supplierOf(ns string) string {
	if ns == "unknown" {
		return ""
	}
	for _, d := range distros {
		if d.namespace == ns {
			return d.supplier
		}
	}
	return ns
}

// verificationCode is SPDX's package verification code: the SHA-1 of the
// sorted, concatenated SHA-1s of the package's files.
func verificationCode(sha1s []string) string {
	sorted := slices.Sorted(slices.Values(sha1s))
	s := sha1.Sum([]byte(strings.Join(sorted, "")))
	return hex.EncodeToString(s[:])
}

// packageContentID makes the namespace unique per package content and the
// same on every rebuild.
func packageContentID(ns string, d PackageDoc, files []PackageFile) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", ns, d.Name, d.Version, d.Arch)
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%s\x00", f.Path, f.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func checkHex(s string, size int) error {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != size {
		return fmt.Errorf("%q is not %d hex bytes", s, size)
	}
	return nil
}
