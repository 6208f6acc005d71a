package spdxschema

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// schemaSHA256 is the SHA-256 of schemas/spdx-schema.json at spdx/spdx-spec
// tag v2.3 (see README.md). The embedded file must stay unmodified.
const schemaSHA256 = "239208b7ac287b3cf5d9a9af23f9d69863971102a5e1587a27a398b43490b89b"

// minimalDoc is a small, valid SPDX 2.3 JSON document.
const minimalDoc = `{
  "spdxVersion": "SPDX-2.3",
  "dataLicense": "CC0-1.0",
  "SPDXID": "SPDXRef-DOCUMENT",
  "name": "kiln-schema-test",
  "documentNamespace": "https://kiln.invalid/spdx/kiln-schema-test-0001",
  "creationInfo": {
    "created": "2024-05-06T07:08:09Z",
    "creators": ["Tool: kiln-test"]
  },
  "packages": [
    {
      "SPDXID": "SPDXRef-Package-busybox",
      "name": "busybox",
      "downloadLocation": "NOASSERTION"
    }
  ],
  "relationships": [
    {
      "spdxElementId": "SPDXRef-DOCUMENT",
      "relatedSpdxElement": "SPDXRef-Package-busybox",
      "relationshipType": "DESCRIBES"
    }
  ]
}`

// obj and arr index into a decoded document; they panic on a shape mismatch,
// which is a bug in the test table.
func obj(v any, keys ...string) map[string]any {
	m := v.(map[string]any)
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}

func arr(v any, key string) []any { return obj(v)[key].([]any) }

func firstPackage(doc map[string]any) map[string]any {
	return arr(doc, "packages")[0].(map[string]any)
}

func firstRelationship(doc map[string]any) map[string]any {
	return arr(doc, "relationships")[0].(map[string]any)
}

func mutated(t *testing.T, mutate func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(minimalDoc), &doc); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(doc)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEmbeddedSchemaUnmodified(t *testing.T) {
	sum := sha256.Sum256(schemaJSON)
	if got := hex.EncodeToString(sum[:]); got != schemaSHA256 {
		t.Fatalf("embedded schema sha256 = %s, want %s (the schema file must not be edited)", got, schemaSHA256)
	}
	var s struct {
		Schema string `json:"$schema"`
		ID     string `json:"$id"`
	}
	if err := json.Unmarshal(schemaJSON, &s); err != nil {
		t.Fatal(err)
	}
	if s.Schema != "http://json-schema.org/draft-07/schema#" || s.ID != SchemaID {
		t.Fatalf("$schema = %q, $id = %q", s.Schema, s.ID)
	}
	if _, err := compiled(); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	type want struct {
		instance string // InstanceLocation of a violation
		keyword  string // its KeywordLocation
		msg      string // substring of its Message
	}
	tests := []struct {
		name   string
		mutate func(doc map[string]any)
		want   []want // nil: the document must validate
	}{
		{name: "minimal document"},
		{
			name: "optional fields with allowed values",
			mutate: func(d map[string]any) {
				p := firstPackage(d)
				p["versionInfo"] = "1.36.1-r2"
				p["filesAnalyzed"] = false
				p["primaryPackagePurpose"] = "OPERATING_SYSTEM"
				p["checksums"] = []any{map[string]any{"algorithm": "SHA256", "checksumValue": strings.Repeat("ab", 32)}}
				p["externalRefs"] = []any{map[string]any{
					"referenceCategory": "PACKAGE-MANAGER",
					"referenceType":     "purl",
					"referenceLocator":  "pkg:apk/alpine/busybox@1.36.1-r2?arch=x86_64",
				}}
				d["files"] = []any{map[string]any{
					"SPDXID":    "SPDXRef-File-bin-busybox",
					"fileName":  "./bin/busybox",
					"fileTypes": []any{"BINARY"},
					"checksums": []any{map[string]any{"algorithm": "SHA1", "checksumValue": strings.Repeat("cd", 20)}},
				}}
				d["relationships"] = append(arr(d, "relationships"), map[string]any{
					"spdxElementId":      "SPDXRef-Package-busybox",
					"relatedSpdxElement": "SPDXRef-File-bin-busybox",
					"relationshipType":   "CONTAINS",
				})
			},
		},
		{
			name:   "missing spdxVersion",
			mutate: func(d map[string]any) { delete(d, "spdxVersion") },
			want:   []want{{"", "/required", `missing property 'spdxVersion'`}},
		},
		{
			name:   "missing creationInfo.created",
			mutate: func(d map[string]any) { delete(obj(d, "creationInfo"), "created") },
			want:   []want{{"/creationInfo", "/properties/creationInfo/required", `'created'`}},
		},
		{
			name:   "created is not a string",
			mutate: func(d map[string]any) { obj(d, "creationInfo")["created"] = 20240506 },
			want:   []want{{"/creationInfo/created", "/properties/creationInfo/properties/created/type", "want string"}},
		},
		{
			name:   "no creators",
			mutate: func(d map[string]any) { obj(d, "creationInfo")["creators"] = []any{} },
			want:   []want{{"/creationInfo/creators", "/properties/creationInfo/properties/creators/minItems", "minItems"}},
		},
		{
			name:   "package SPDXID is not a string",
			mutate: func(d map[string]any) { firstPackage(d)["SPDXID"] = 42 },
			want:   []want{{"/packages/0/SPDXID", "/properties/packages/items/properties/SPDXID/type", "want string"}},
		},
		{
			name:   "package without downloadLocation",
			mutate: func(d map[string]any) { delete(firstPackage(d), "downloadLocation") },
			want:   []want{{"/packages/0", "/properties/packages/items/required", `'downloadLocation'`}},
		},
		{
			name:   "filesAnalyzed is a string",
			mutate: func(d map[string]any) { firstPackage(d)["filesAnalyzed"] = "false" },
			want:   []want{{"/packages/0/filesAnalyzed", "/properties/packages/items/properties/filesAnalyzed/type", "want boolean"}},
		},
		{
			name:   "relationshipType not in enum",
			mutate: func(d map[string]any) { firstRelationship(d)["relationshipType"] = "DEPENDS-ON" },
			want:   []want{{"/relationships/0/relationshipType", "/properties/relationships/items/properties/relationshipType/enum", `got "DEPENDS-ON", value must be one of`}},
		},
		{
			name: "checksum algorithm not in enum",
			mutate: func(d map[string]any) {
				firstPackage(d)["checksums"] = []any{map[string]any{"algorithm": "sha256", "checksumValue": "00"}}
			},
			want: []want{{"/packages/0/checksums/0/algorithm", "/properties/packages/items/properties/checksums/items/properties/algorithm/enum", `got "sha256", value must be one of`}},
		},
		{
			name:   "primaryPackagePurpose not in enum",
			mutate: func(d map[string]any) { firstPackage(d)["primaryPackagePurpose"] = "LIBARY" },
			want:   []want{{"/packages/0/primaryPackagePurpose", "/properties/packages/items/properties/primaryPackagePurpose/enum", "value must be one of"}},
		},
		{
			// The v2.3 schema only knows the hyphenated categories; the
			// underscore spellings were added in the 2.3.1 schema.
			name: "externalRef category with underscore",
			mutate: func(d map[string]any) {
				firstPackage(d)["externalRefs"] = []any{map[string]any{
					"referenceCategory": "PACKAGE_MANAGER",
					"referenceType":     "purl",
					"referenceLocator":  "pkg:apk/alpine/busybox",
				}}
			},
			want: []want{{"/packages/0/externalRefs/0/referenceCategory", "/properties/packages/items/properties/externalRefs/items/properties/referenceCategory/enum", "value must be one of"}},
		},
		{
			// additionalProperties is false at the top level and the v2.3
			// schema does not declare "$schema".
			name:   "unknown top-level property",
			mutate: func(d map[string]any) { d["$schema"] = "https://example.invalid/schema.json" },
			want:   []want{{"", "/additionalProperties", `'$schema' not allowed`}},
		},
		{
			name:   "files nested in a package",
			mutate: func(d map[string]any) { firstPackage(d)["files"] = []any{} },
			want:   []want{{"/packages/0", "/properties/packages/items/additionalProperties", `'files' not allowed`}},
		},
		{
			name: "every violation is reported",
			mutate: func(d map[string]any) {
				delete(d, "name")
				firstRelationship(d)["relationshipType"] = "describes"
				obj(d, "creationInfo")["creators"] = "Tool: kiln-test"
			},
			want: []want{
				{"", "/required", `missing property 'name'`},
				{"/creationInfo/creators", "/properties/creationInfo/properties/creators/type", "want array"},
				{"/relationships/0/relationshipType", "/properties/relationships/items/properties/relationshipType/enum", "value must be one of"},
			},
		},

		// The SPDX 2.3 schema has no "pattern" or "format" keywords, no
		// const/enum for dataLicense or spdxVersion, and does not require
		// documentNamespace. These documents violate the specification but
		// pass the schema; tests needing these checks must make them
		// separately.
		{
			name:   "not encoded by the schema: SPDXID syntax",
			mutate: func(d map[string]any) { firstPackage(d)["SPDXID"] = "busybox package" },
		},
		{
			name:   "not encoded by the schema: created date-time syntax",
			mutate: func(d map[string]any) { obj(d, "creationInfo")["created"] = "yesterday" },
		},
		{
			name: "not encoded by the schema: dataLicense and spdxVersion values",
			mutate: func(d map[string]any) {
				d["dataLicense"] = "MIT"
				d["spdxVersion"] = "SPDX-2.2"
			},
		},
		{
			name:   "not encoded by the schema: documentNamespace",
			mutate: func(d map[string]any) { delete(d, "documentNamespace") },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(mutated(t, tc.mutate))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate: got %v, want a *ValidationError", err)
			}
			t.Log(err)
			if len(ve.Violations) != len(tc.want) {
				t.Errorf("got %d violations, want %d:\n%v", len(ve.Violations), len(tc.want), err)
			}
			for _, w := range tc.want {
				found := false
				for _, v := range ve.Violations {
					if v.InstanceLocation == w.instance && v.KeywordLocation == w.keyword && strings.Contains(v.Message, w.msg) {
						found = true
					}
				}
				if !found {
					t.Errorf("no violation at %q (schema %s) with message containing %q in:\n%v", w.instance, w.keyword, w.msg, err)
				}
				// The error text names each offending location.
				if !strings.Contains(err.Error(), `"`+w.instance+`": `) {
					t.Errorf("error text does not mention %q:\n%v", w.instance, err)
				}
			}
		})
	}
}

func TestValidateRejectsNonJSON(t *testing.T) {
	for _, in := range []string{"", "{", `{"spdxVersion": "SPDX-2.3"} {}`, "SPDXVersion: SPDX-2.3"} {
		err := Validate([]byte(in))
		var ve *ValidationError
		if err == nil || errors.As(err, &ve) {
			t.Errorf("Validate(%q) = %v, want a JSON syntax error", in, err)
		}
	}
}

func TestValidateNonObject(t *testing.T) {
	for _, in := range []string{"null", "[]", `"SPDX-2.3"`} {
		var ve *ValidationError
		if err := Validate([]byte(in)); !errors.As(err, &ve) {
			t.Errorf("Validate(%s) = %v, want a *ValidationError", in, err)
		}
	}
}

// toolsGolangDoc builds a document covering the fields kiln's SBOMs use
// (image and apk packages, checksums, purls, extracted licences, relationships)
// plus a file and an annotation.
func toolsGolangDoc() *spdx.Document {
	return &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      "kiln-tools-golang-test",
		DocumentNamespace: "https://kiln.invalid/spdx/kiln-tools-golang-test-0001",
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{
				{CreatorType: "Tool", Creator: "kiln-test"},
				{CreatorType: "Organization", Creator: "Kiln"},
			},
			Created:            "2024-05-06T07:08:09Z",
			LicenseListVersion: "3.24",
		},
		Packages: []*spdx.Package{
			{
				PackageName:               "example.invalid/app",
				PackageSPDXIdentifier:     "Package-image",
				PackageVersion:            "sha256:" + strings.Repeat("0", 64),
				PackageDownloadLocation:   "NOASSERTION",
				PrimaryPackagePurpose:     "CONTAINER",
				PackageLicenseConcluded:   "NOASSERTION",
				PackageLicenseDeclared:    "NOASSERTION",
				PackageCopyrightText:      "NOASSERTION",
				PackageSupplier:           &common.Supplier{Supplier: "NOASSERTION"},
				PackageExternalReferences: []*spdx.PackageExternalReference{{Category: common.CategoryPackageManager, RefType: "purl", Locator: "pkg:oci/app@sha256%3A" + strings.Repeat("0", 64)}},
			},
			{
				PackageName:             "musl",
				PackageSPDXIdentifier:   "Package-apk-musl",
				PackageVersion:          "1.2.5-r0",
				PackageDownloadLocation: "https://dl-cdn.alpinelinux.org/alpine/v3.20/main",
				PrimaryPackagePurpose:   "LIBRARY",
				PackageLicenseDeclared:  "MIT AND LicenseRef-musl-extra",
				PackageCopyrightText:    "NOASSERTION",
				PackageSupplier:         &common.Supplier{SupplierType: "Organization", Supplier: "Alpine Linux"},
				PackageOriginator:       &common.Originator{OriginatorType: "Person", Originator: "Rich Felker"},
				PackageChecksums: []common.Checksum{
					{Algorithm: common.SHA1, Value: strings.Repeat("ab", 20)},
					{Algorithm: common.SHA256, Value: strings.Repeat("cd", 32)},
				},
				PackageExternalReferences: []*spdx.PackageExternalReference{
					{Category: common.CategoryPackageManager, RefType: "purl", Locator: "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64"},
					{Category: common.CategorySecurity, RefType: "cpe23Type", Locator: "cpe:2.3:a:musl-libc:musl:1.2.5:*:*:*:*:*:*:*"},
				},
				Annotations: []spdx.Annotation{{
					Annotator:         common.Annotator{AnnotatorType: "Tool", Annotator: "kiln-test"},
					AnnotationDate:    "2024-05-06T07:08:09Z",
					AnnotationType:    "OTHER",
					AnnotationComment: "installed from a repository index",
				}},
			},
		},
		Files: []*spdx.File{{
			FileName:           "./lib/ld-musl-x86_64.so.1",
			FileSPDXIdentifier: "File-ld-musl",
			FileTypes:          []string{"BINARY"},
			Checksums:          []common.Checksum{{Algorithm: common.SHA256, Value: strings.Repeat("ef", 32)}},
			LicenseConcluded:   "NOASSERTION",
			FileCopyrightText:  "NOASSERTION",
		}},
		OtherLicenses: []*spdx.OtherLicense{{
			LicenseIdentifier: "LicenseRef-musl-extra",
			ExtractedText:     "Some extra licence text.",
			LicenseName:       "musl extra",
		}},
		Relationships: []*spdx.Relationship{
			{RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", "Package-image"), Relationship: common.TypeRelationshipDescribe},
			{RefA: common.MakeDocElementID("", "Package-image"), RefB: common.MakeDocElementID("", "Package-apk-musl"), Relationship: common.TypeRelationshipContains},
			{RefA: common.MakeDocElementID("", "Package-apk-musl"), RefB: common.MakeDocElementID("", "File-ld-musl"), Relationship: common.TypeRelationshipContains},
			{RefA: common.MakeDocElementID("", "Package-apk-musl"), RefB: common.DocElementID{SpecialID: "NOASSERTION"}, Relationship: common.TypeRelationshipDependsOn, RelationshipComment: "unresolved"},
		},
	}
}

func writeToolsGolang(t *testing.T, doc *spdx.Document) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf, spdxjson.Indent("  ")); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestToolsGolangWriterOutputValidates checks that the schema and the
// tools-golang v2_3 JSON writer (which kiln uses) agree.
func TestToolsGolangWriterOutputValidates(t *testing.T) {
	b := writeToolsGolang(t, toolsGolangDoc())
	if err := Validate(b); err != nil {
		t.Fatalf("Validate: %v\n%s", err, b)
	}
	// The writer's output also reads back (guards against writing something
	// that only the schema accepts).
	if _, err := spdxjson.Read(bytes.NewReader(b)); err != nil {
		t.Fatalf("spdxjson.Read: %v", err)
	}
}

// TestToolsGolangNestedFilesRejected documents a disagreement: tools-golang
// serialises Package.Files as a "files" array inside the package, which the
// SPDX 2.3 schema forbids. Put files in Document.Files and link them with
// CONTAINS relationships instead.
func TestToolsGolangNestedFilesRejected(t *testing.T) {
	doc := toolsGolangDoc()
	doc.Packages[1].Files = []*spdx.File{doc.Files[0]}
	err := Validate(writeToolsGolang(t, doc))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate: got %v, want a *ValidationError", err)
	}
	if len(ve.Violations) != 1 || ve.Violations[0].InstanceLocation != "/packages/1" ||
		!strings.Contains(ve.Violations[0].Message, "'files' not allowed") {
		t.Fatalf("unexpected violations:\n%v", err)
	}
}
