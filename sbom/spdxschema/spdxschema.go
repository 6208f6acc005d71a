// Package spdxschema validates SPDX 2.3 JSON documents against the official
// SPDX 2.3 JSON schema (embedded, see README.md for its provenance).
//
// It exists for tests: integration tests use [Validate] to assert that the
// SBOMs kiln writes are schema-valid. Production code must not import it.
//
// The schema checks structure only: required properties, property types,
// unknown properties (additionalProperties is false throughout), enums and
// minItems. It has no "pattern" or "format" keywords, so it does NOT check
// SPDXID syntax, date-time syntax, the dataLicense or spdxVersion values, and
// it does not require documentNamespace.
package spdxschema

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// schemaJSON is the SPDX 2.3 JSON schema, byte for byte as published.
//
//go:embed spdx-schema-2.3.json
var schemaJSON []byte

// SchemaID is the "$id" of the embedded schema.
const SchemaID = "http://spdx.org/rdf/terms/2.3"

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("spdxschema: parsing embedded schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	// Draft-07 asserts "format" by default in this validator; make it explicit
	// so a future schema or library change cannot silently turn it off.
	c.AssertFormat()
	if err := c.AddResource(SchemaID, doc); err != nil {
		return nil, fmt.Errorf("spdxschema: adding embedded schema: %w", err)
	}
	sch, err := c.Compile(SchemaID)
	if err != nil {
		return nil, fmt.Errorf("spdxschema: compiling embedded schema: %w", err)
	}
	return sch, nil
})

// Violation is one schema violation.
type Violation struct {
	// InstanceLocation is a JSON pointer (RFC 6901) into the validated
	// document; "" is the document root. For a missing required property it
	// points at the object that lacks it.
	InstanceLocation string
	// KeywordLocation is a JSON pointer into the schema naming the keyword
	// that failed, e.g. "/properties/relationships/items/properties/relationshipType/enum".
	KeywordLocation string
	// Message is the validator's description of the failure.
	Message string
}

func (v Violation) String() string {
	return fmt.Sprintf("%q: %s (schema %s)", v.InstanceLocation, v.Message, v.KeywordLocation)
}

// ValidationError is returned by [Validate] when the document is well-formed
// JSON but does not conform to the schema. Violations are sorted by
// InstanceLocation, then KeywordLocation.
type ValidationError struct {
	Violations []Violation
}

func (e *ValidationError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "document does not validate against the SPDX 2.3 JSON schema (%d violation(s)):", len(e.Violations))
	for _, v := range e.Violations {
		sb.WriteString("\n  ")
		sb.WriteString(v.String())
	}
	return sb.String()
}

// Validate validates doc, an SPDX 2.3 JSON document, against the embedded
// schema. It returns nil if doc is valid, a *ValidationError listing every
// violation if it is not, or another error if doc is not a single JSON value.
func Validate(doc []byte) error {
	sch, err := compiled()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("spdxschema: document is not valid JSON: %w", err)
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("spdxschema: %w", err)
	}
	out := &ValidationError{}
	collect(ve, message.NewPrinter(language.English), &out.Violations)
	sort.SliceStable(out.Violations, func(i, j int) bool {
		a, b := out.Violations[i], out.Violations[j]
		if a.InstanceLocation != b.InstanceLocation {
			return a.InstanceLocation < b.InstanceLocation
		}
		return a.KeywordLocation < b.KeywordLocation
	})
	return out
}

// collect appends the leaves of the validator's error tree (the errors with
// no causes; inner nodes only group them) to vs.
func collect(e *jsonschema.ValidationError, p *message.Printer, vs *[]Violation) {
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			collect(c, p, vs)
		}
		return
	}
	kw := ""
	if _, frag, ok := strings.Cut(e.SchemaURL, "#"); ok {
		kw = frag
	}
	msg := e.ErrorKind.LocalizedString(p)
	if k, ok := e.ErrorKind.(*kind.Enum); ok {
		// The validator's enum message omits the offending value.
		if got, err := json.Marshal(k.Got); err == nil {
			msg = fmt.Sprintf("got %s, %s", got, msg)
		}
	}
	*vs = append(*vs, Violation{
		InstanceLocation: pointer(e.InstanceLocation),
		KeywordLocation:  kw + pointer(e.ErrorKind.KeywordPath()),
		Message:          msg,
	})
}

// pointer builds an RFC 6901 JSON pointer from unescaped reference tokens.
func pointer(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		sb.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return sb.String()
}
