package sbom

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// Creator is the tool named in every document kiln writes.
const Creator = "kiln"

const (
	noAssertion = "NOASSERTION"
	imageID     = "Image"
)

// Build makes the SPDX 2.3 document for one platform's image: the image as
// the described root, one package per apk, the image CONTAINS every apk,
// each apk DEPENDS_ON what the resolver chose for its dependencies, and
// the packages' own documents merged in.
func Build(in Input) (*spdx.Document, error) {
	name := in.ImageName
	if name == "" {
		name = "image"
	}
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      "sbom-" + name + "-" + in.Arch,
		DocumentNamespace: "https://spdx.org/spdxdocs/kiln/" + in.Arch + "-" + contentID(in),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: Creator}},
			Created:  time.Unix(in.SourceDateEpoch, 0).UTC().Format(time.RFC3339),
		},
	}
	image := &spdx.Package{
		PackageName:             name,
		PackageSPDXIdentifier:   imageID,
		PackageVersion:          in.ImageVersion,
		PackageDownloadLocation: noAssertion,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
		PackageDescription:      fmt.Sprintf("container image of %d apk packages for %s", len(in.Packages), in.Platform),
		PrimaryPackagePurpose:   "CONTAINER",
		PackageExternalReferences: []*spdx.PackageExternalReference{
			{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: imagePURL(name, in.Platform)},
		},
	}
	doc.Packages = append(doc.Packages, image)
	rels := &relationships{}
	rels.add("DOCUMENT", common.TypeRelationshipDescribe, imageID)

	ids := newIDs()
	ids.reserve(imageID)
	if in.OS != nil {
		osp := osPackage(*in.OS, ids)
		doc.Packages = append(doc.Packages, osp)
		// apko leaves it unrelated; kiln ties everything to the image.
		rels.add(imageID, common.TypeRelationshipContains, osp.PackageSPDXIdentifier)
	}
	byName := map[string]common.ElementID{}
	licenses := map[string]*spdx.OtherLicense{} // by LicenseRef id
	for _, p := range in.Packages {
		if _, dup := byName[p.Name]; dup {
			return nil, fmt.Errorf("sbom: package %s listed twice", p.Name)
		}
		sp, err := apkPackage(in.Arch, p, licenses)
		if err != nil {
			return nil, err
		}
		sp.PackageSPDXIdentifier = ids.take("Package-" + p.Name + "-" + p.Version)
		byName[p.Name] = sp.PackageSPDXIdentifier
		doc.Packages = append(doc.Packages, sp)
		rels.add(imageID, common.TypeRelationshipContains, sp.PackageSPDXIdentifier)
	}
	for _, p := range in.Packages {
		for _, d := range p.Depends {
			dep, ok := byName[d]
			if !ok {
				return nil, fmt.Errorf("sbom: %s depends on %s, which is not installed", p.Name, d)
			}
			rels.add(byName[p.Name], common.TypeRelationshipDependsOn, dep)
		}
	}
	m := &merger{doc: doc, rels: rels, ids: ids, licenses: licenses}
	for _, p := range in.Packages {
		// Documents merge in path order, whoever listed them in whatever order.
		embedded := append([]Embedded(nil), p.Embedded...)
		sort.Slice(embedded, func(i, j int) bool { return embedded[i].Path < embedded[j].Path })
		for _, e := range embedded {
			if err := m.merge(byName[p.Name], p, e); err != nil {
				return nil, fmt.Errorf("sbom: %s-%s: %s: %w", p.Name, p.Version, e.Path, err)
			}
		}
	}
	m.linkOrphans()
	doc.OtherLicenses = otherLicenses(licenses)
	doc.Relationships = rels.list
	return doc, nil
}

// osPackage describes the image's distribution as apko does: named by its
// os-release ID, versioned by VERSION_ID, supplied by its NAME.
func osPackage(os OS, ids *ids) *spdx.Package {
	p := &spdx.Package{
		PackageName:             os.ID,
		PackageSPDXIdentifier:   ids.take("OperatingSystem-" + os.ID),
		PackageVersion:          os.VersionID,
		PackageDownloadLocation: noAssertion,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
		PackageDescription:      "Operating System",
		PrimaryPackagePurpose:   "OPERATING_SYSTEM",
		PackageSupplier:         &common.Supplier{Supplier: noAssertion},
		// Nothing was analysed: the document lists no files of it.
		IsFilesAnalyzedTagPresent: true,
	}
	if os.Name != "" {
		p.PackageSupplier = &common.Supplier{SupplierType: "Organization", Supplier: os.Name}
	}
	return p
}

// apkPackage describes one apk. Its checksums are both apk's own (the
// control member's SHA-1, as the index C: field has it) and the SHA-256 of
// the .apk file when known.
func apkPackage(targetArch string, p Package, licenses map[string]*spdx.OtherLicense) (*spdx.Package, error) {
	if p.Arch == "" {
		p.Arch = targetArch
	}
	ns, supplier := namespace(p.Repository)
	sp := &spdx.Package{
		PackageName:             p.Name,
		PackageVersion:          p.Version,
		PackageFileName:         p.Name + "-" + p.Version + ".apk",
		PackageDownloadLocation: downloadLocation(targetArch, p),
		PackageHomePage:         p.URL,
		PackageDescription:      p.Description,
		PackageLicenseConcluded: noAssertion,
		PackageCopyrightText:    noAssertion,
		PrimaryPackagePurpose:   "LIBRARY",
		PackageExternalReferences: []*spdx.PackageExternalReference{
			{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: purl(ns, p)},
			{Category: common.CategorySecurity, RefType: common.TypeSecurityCPE23Type, Locator: cpe(p)},
		},
	}
	expr, extracted := DeclaredLicense(p.License)
	sp.PackageLicenseDeclared = expr
	for _, e := range extracted {
		if licenses[e.ID] == nil {
			licenses[e.ID] = &spdx.OtherLicense{LicenseIdentifier: e.ID, ExtractedText: e.Text, LicenseName: e.Text}
		}
	}
	if supplier != "" {
		sp.PackageSupplier = &common.Supplier{SupplierType: "Organization", Supplier: supplier}
	} else {
		sp.PackageSupplier = &common.Supplier{Supplier: noAssertion}
	}
	if who, ok := originator(p.Maintainer); ok {
		sp.PackageOriginator = &common.Originator{OriginatorType: "Person", Originator: who}
	}
	if p.Origin != "" || p.Commit != "" {
		src := "built from apk origin " + orDefault(p.Origin, p.Name)
		if p.Commit != "" {
			src += " at commit " + p.Commit
		}
		sp.PackageSourceInfo = src
	}
	sum, err := controlSHA1(p.Checksum)
	if err != nil {
		return nil, fmt.Errorf("sbom: %s-%s: %w", p.Name, p.Version, err)
	}
	sp.PackageChecksums = append(sp.PackageChecksums, common.Checksum{Algorithm: common.SHA1, Value: sum})
	sp.PackageComment = "SHA1 is apk's checksum of the package's control section (APKINDEX C:)"
	if p.SHA256 != "" {
		if b, err := hex.DecodeString(p.SHA256); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("sbom: %s-%s: bad SHA-256 %q", p.Name, p.Version, p.SHA256)
		}
		sp.PackageChecksums = append(sp.PackageChecksums, common.Checksum{Algorithm: common.SHA256, Value: strings.ToLower(p.SHA256)})
		sp.PackageComment += "; SHA256 is of the .apk file"
	}
	return sp, nil
}

// controlSHA1 turns apk's "Q1<base64>" checksum into hex.
func controlSHA1(q1 string) (string, error) {
	b64, ok := strings.CutPrefix(q1, "Q1")
	if !ok {
		return "", fmt.Errorf("checksum %q is not a Q1 (SHA-1) checksum", q1)
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) != 20 {
		return "", fmt.Errorf("checksum %q is not a Q1 (SHA-1) checksum", q1)
	}
	return hex.EncodeToString(b), nil
}

// contentID names the document after what it describes, so the namespace
// is unique per image content yet the same on every rebuild.
func contentID(in Input) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", in.Arch, in.Platform, in.ImageName, in.ImageVersion)
	for _, p := range in.Packages {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", p.Name, p.Version, p.Checksum, p.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func otherLicenses(m map[string]*spdx.OtherLicense) []*spdx.OtherLicense {
	out := make([]*spdx.OtherLicense, 0, len(m))
	for _, l := range m {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LicenseIdentifier < out[j].LicenseIdentifier })
	return out
}

// Document builds in's document and encodes it: what both the build step
// and `kiln sbom` write.
func Document(in Input) ([]byte, error) {
	doc, err := Build(in)
	if err != nil {
		return nil, err
	}
	return Encode(doc)
}

// Encode writes a document as indented JSON; the same document always
// gives the same bytes.
func Encode(doc *spdx.Document) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// relationships keeps relationships in the order added, once each.
type relationships struct {
	list []*spdx.Relationship
	seen map[string]bool
}

func (r *relationships) add(a common.ElementID, typ string, b common.ElementID) {
	r.addRel(&spdx.Relationship{RefA: common.MakeDocElementID("", string(a)), RefB: common.MakeDocElementID("", string(b)), Relationship: typ})
}

func (r *relationships) addRel(rel *spdx.Relationship) {
	key := common.RenderDocElementID(rel.RefA) + " " + rel.Relationship + " " + common.RenderDocElementID(rel.RefB)
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if r.seen[key] {
		return
	}
	r.seen[key] = true
	r.list = append(r.list, rel)
}

// ids hands out SPDX element IDs, which allow only letters, digits, '.'
// and '-', unique within the document.
type ids struct{ used map[common.ElementID]bool }

func newIDs() *ids { return &ids{used: map[common.ElementID]bool{}} }

var notIDChar = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

func (s *ids) reserve(id common.ElementID) { s.used[id] = true }

func (s *ids) take(want string) common.ElementID {
	base := strings.Trim(notIDChar.ReplaceAllString(want, "-"), "-")
	if base == "" {
		// A package's own document may name an element with nothing an
		// ID can be made of (or nothing at all).
		base = "Element"
	}
	id := common.ElementID(base)
	for n := 2; s.used[id]; n++ {
		id = common.ElementID(fmt.Sprintf("%s-%d", base, n))
	}
	s.used[id] = true
	return id
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
