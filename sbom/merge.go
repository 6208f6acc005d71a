package sbom

import (
	"bytes"
	"fmt"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// merger folds packages' own SPDX documents into the image's, the way
// apko does: the document's described package is the apk already listed
// (kiln's entry stays, it knows the checksums), its other packages (the
// sources, the build recipe) and files join the image document once each,
// and so do the relationships between them.
type merger struct {
	doc      *spdx.Document
	rels     *relationships
	ids      *ids
	licenses map[string]*spdx.OtherLicense

	// Elements merged in so far: by their ID in the embedded document
	// (with the name and version that make two documents' entries the
	// same package), and which apk brought each one.
	merged map[string]common.ElementID
	owner  map[common.ElementID]common.ElementID
	source map[common.ElementID]string
}

// mergeKey identifies a package across embedded documents: subpackages of
// one melange build all list the same source packages under the same IDs.
func mergeKey(id common.ElementID, name, version string) string {
	return string(id) + "\x00" + name + "\x00" + version
}

func (m *merger) merge(owner common.ElementID, p Package, e Embedded) error {
	in, err := spdxjson.Read(bytes.NewReader(e.Data))
	if err != nil {
		return fmt.Errorf("not an SPDX JSON document: %w", err)
	}
	if m.merged == nil {
		m.merged = map[string]common.ElementID{}
		m.owner = map[common.ElementID]common.ElementID{}
		m.source = map[common.ElementID]string{}
	}
	described := map[common.ElementID]bool{}
	for _, r := range in.Relationships {
		if r == nil {
			continue
		}
		if r.Relationship == common.TypeRelationshipDescribe && r.RefA.ElementRefID == in.SPDXIdentifier && r.RefA.DocumentRefID == "" {
			described[r.RefB.ElementRefID] = true
		}
	}

	remap := map[common.ElementID]common.ElementID{in.SPDXIdentifier: "DOCUMENT"}
	for _, ep := range in.Packages {
		if ep == nil {
			continue
		}
		if described[ep.PackageSPDXIdentifier] && ep.PackageName == p.Name {
			remap[ep.PackageSPDXIdentifier] = owner
			continue
		}
		key := mergeKey(ep.PackageSPDXIdentifier, ep.PackageName, ep.PackageVersion)
		if id, ok := m.merged[key]; ok {
			remap[ep.PackageSPDXIdentifier] = id
			continue
		}
		cp := *ep
		cp.PackageSPDXIdentifier = m.ids.take(string(ep.PackageSPDXIdentifier))
		// SPDX JSON lists files at the top level, tied to their package
		// by CONTAINS; a reader may have nested them (tag-value input).
		cp.Files = nil
		for _, f := range ep.Files {
			if f == nil {
				continue
			}
			if fc, ok := m.addFile(f, owner, e.Path); ok {
				remap[f.FileSPDXIdentifier] = fc
				m.rels.add(cp.PackageSPDXIdentifier, common.TypeRelationshipContains, fc)
			}
		}
		m.merged[key] = cp.PackageSPDXIdentifier
		remap[ep.PackageSPDXIdentifier] = cp.PackageSPDXIdentifier
		m.owner[cp.PackageSPDXIdentifier] = owner
		m.source[cp.PackageSPDXIdentifier] = e.Path
		m.doc.Packages = append(m.doc.Packages, &cp)
	}
	for _, f := range in.Files {
		if f == nil {
			continue
		}
		if fc, ok := m.addFile(f, owner, e.Path); ok {
			remap[f.FileSPDXIdentifier] = fc
		}
	}
	for _, r := range in.Relationships {
		if r == nil || r.RefA.ElementRefID == in.SPDXIdentifier && r.RefA.DocumentRefID == "" {
			continue // the embedded document's own DESCRIBES: the image CONTAINS the apk instead
		}
		a, okA := remapRef(r.RefA, remap)
		b, okB := remapRef(r.RefB, remap)
		if !okA || !okB {
			continue // points into another document, which the image's does not carry
		}
		m.rels.addRel(&spdx.Relationship{RefA: a, RefB: b, Relationship: r.Relationship, RelationshipComment: r.RelationshipComment})
	}
	for _, l := range in.OtherLicenses {
		if l != nil && m.licenses[l.LicenseIdentifier] == nil {
			cp := *l
			m.licenses[l.LicenseIdentifier] = &cp
		}
	}
	return nil
}

// addFile lists a file once (by its ID, name and checksums) and returns
// its ID in the image document. A file without checksums is not a valid
// SPDX 2.3 file entry and is left out, with the relationships naming it.
func (m *merger) addFile(f *spdx.File, owner common.ElementID, source string) (common.ElementID, bool) {
	if len(f.Checksums) == 0 {
		return "", false
	}
	key := mergeKey(f.FileSPDXIdentifier, f.FileName, checksumsKey(f.Checksums))
	if id, ok := m.merged[key]; ok {
		return id, true
	}
	fc := *f
	fc.FileSPDXIdentifier = m.ids.take(string(f.FileSPDXIdentifier))
	m.merged[key] = fc.FileSPDXIdentifier
	m.owner[fc.FileSPDXIdentifier] = owner
	m.source[fc.FileSPDXIdentifier] = source
	m.doc.Files = append(m.doc.Files, &fc)
	return fc.FileSPDXIdentifier, true
}

func remapRef(ref common.DocElementID, remap map[common.ElementID]common.ElementID) (common.DocElementID, bool) {
	if ref.SpecialID != "" {
		return ref, true
	}
	if ref.DocumentRefID != "" {
		return ref, false
	}
	id, ok := remap[ref.ElementRefID]
	return common.DocElementID{ElementRefID: id}, ok
}

func checksumsKey(cs []common.Checksum) string {
	var b bytes.Buffer
	for _, c := range cs {
		fmt.Fprintf(&b, "%s:%s,", c.Algorithm, c.Value)
	}
	return b.String()
}

// linkOrphans ties every merged element that no relationship reaches from
// the image to the apk whose document listed it, so that nothing in the
// document floats free.
func (m *merger) linkOrphans() {
	if len(m.owner) == 0 {
		return
	}
	m.doc.Relationships = m.rels.list
	reached := Reachable(m.doc, imageID)
	add := func(id common.ElementID) {
		if reached[id] {
			return
		}
		m.rels.addRel(&spdx.Relationship{
			RefA:                common.DocElementID{ElementRefID: m.owner[id]},
			RefB:                common.DocElementID{ElementRefID: id},
			Relationship:        common.TypeRelationshipOther,
			RelationshipComment: "listed in the package's own SBOM, " + m.source[id],
		})
	}
	for _, p := range m.doc.Packages {
		if _, ok := m.owner[p.PackageSPDXIdentifier]; ok {
			add(p.PackageSPDXIdentifier)
		}
	}
	for _, f := range m.doc.Files {
		if _, ok := m.owner[f.FileSPDXIdentifier]; ok {
			add(f.FileSPDXIdentifier)
		}
	}
}

// Reachable follows relationships from one element, in the direction they
// are written (plus a package's own files), and returns every element
// reached, the start included. The inverse relationship types
// (CONTAINED_BY, DESCRIBED_BY, ...) are written from the far end, so they
// are followed backwards.
func Reachable(doc *spdx.Document, from common.ElementID) map[common.ElementID]bool {
	edges := map[common.ElementID][]common.ElementID{}
	for _, r := range doc.Relationships {
		if r.RefA.ElementRefID == "" || r.RefB.ElementRefID == "" || r.RefA.DocumentRefID != "" || r.RefB.DocumentRefID != "" {
			continue
		}
		a, b := r.RefA.ElementRefID, r.RefB.ElementRefID
		if inverse[r.Relationship] {
			a, b = b, a
		}
		edges[a] = append(edges[a], b)
	}
	for _, p := range doc.Packages {
		for _, f := range p.Files {
			edges[p.PackageSPDXIdentifier] = append(edges[p.PackageSPDXIdentifier], f.FileSPDXIdentifier)
		}
	}
	seen := map[common.ElementID]bool{from: true}
	queue := []common.ElementID{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, next := range edges[cur] {
			if !seen[next] {
				seen[next] = true
				queue = append(queue, next)
			}
		}
	}
	return seen
}

// inverse lists the relationship types that point from the part to the
// whole; reachability follows them the other way. (DESCRIBED_BY is not
// among them: melange writes "apk DESCRIBED_BY its recipe".)
var inverse = map[string]bool{
	common.TypeRelationshipContainedBy:  true,
	common.TypeRelationshipDependencyOf: true,
	"BUILD_DEPENDENCY_OF":               true,
	"DEV_DEPENDENCY_OF":                 true,
	"OPTIONAL_DEPENDENCY_OF":            true,
	"PROVIDED_DEPENDENCY_OF":            true,
	"TEST_DEPENDENCY_OF":                true,
	"RUNTIME_DEPENDENCY_OF":             true,
	"DESCENDANT_OF":                     true,
	"PACKAGE_OF":                        true,
	"GENERATES":                         true,
}
