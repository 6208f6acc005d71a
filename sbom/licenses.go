package sbom

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"sort"
	"strings"
	"sync"
)

// ExtractedLicense is a licence the SPDX list does not know, kept as text
// under a LicenseRef- identifier.
type ExtractedLicense struct {
	ID   string // "LicenseRef-..."
	Text string // the apk L: text it stands for
}

//go:embed spdx-license-ids.txt
var licenseList string

var (
	listOnce   sync.Once
	licenseIDs map[string]string // lower case → canonical
	exceptions map[string]string
)

func loadLicenseList() {
	licenseIDs, exceptions = map[string]string{}, map[string]string{}
	for _, line := range strings.Split(licenseList, "\n") {
		kind, id, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || strings.HasPrefix(kind, "#") {
			continue
		}
		switch kind {
		case "license":
			licenseIDs[strings.ToLower(id)] = id
		case "exception":
			exceptions[strings.ToLower(id)] = id
		}
	}
}

// maxLicenseText bounds the L: values parsed as expressions; longer ones
// are kept whole as text.
const maxLicenseText = 4 << 10

// DeclaredLicense turns an apk L: value into an SPDX 2.3 licence
// expression. Valid expressions over listed licences come back in the
// list's spelling; unlisted licences inside an expression become
// LicenseRef-s; a space-separated list of listed licences (Alpine's older
// style, "GPL-2.0-or-later LGPL-2.1-or-later") is their AND; anything else
// (Alpine's "MIT BSD GPL2+", "Public Domain") becomes one LicenseRef- for
// the whole text.
// Every LicenseRef- used comes back in extracted, so the document can
// carry its text.
func DeclaredLicense(apkLicense string) (expr string, extracted []ExtractedLicense) {
	text := strings.TrimSpace(apkLicense)
	if text == "" {
		return noAssertion, nil
	}
	listOnce.Do(loadLicenseList)
	if len(text) <= maxLicenseText {
		p := &licenseParser{toks: tokenizeLicense(text), refs: map[string]string{}}
		if out, ok := p.parse(); ok {
			return out, sortedRefs(p.refs)
		}
		if out, ok := spaceSeparated(text); ok {
			return out, nil
		}
	}
	id := licenseRef(text)
	return id, []ExtractedLicense{{ID: id, Text: text}}
}

// spaceSeparated reads the older Alpine convention, licences separated by
// spaces (or commas), all of which apply to parts of the package: when
// every one is on the SPDX list, that is their conjunction. Anything less
// certain ("Public Domain", "GPL PerlArtistic") stays text.
func spaceSeparated(text string) (string, bool) {
	fields := strings.Fields(strings.ReplaceAll(text, ",", " "))
	if len(fields) < 2 {
		return "", false
	}
	out := make([]string, len(fields))
	for i, f := range fields {
		if id, ok := licenseIDs[strings.ToLower(f)]; ok {
			out[i] = id
		} else if id, ok := licenseIDs[strings.ToLower(strings.TrimSuffix(f, "+"))]; ok && strings.HasSuffix(f, "+") {
			out[i] = id + "+"
		} else {
			return "", false
		}
	}
	return strings.Join(out, " AND "), true
}

// licenseRef makes a LicenseRef- identifier from free text: only letters,
// digits, '.' and '-'. When that loses anything (spaces, '+', length) a
// hash of the text follows, so "GPL2" and "GPL2+" never share an id, in
// one package or across the document.
func licenseRef(text string) string {
	id := strings.Trim(notIDChar.ReplaceAllString(text, "-"), "-")
	if id == text && len(id) <= 64 {
		return "LicenseRef-" + id
	}
	if len(id) > 64 {
		id = strings.TrimRight(id[:64], "-")
	}
	sum := sha256.Sum256([]byte(text))
	return "LicenseRef-" + strings.TrimLeft(id+"-"+hex.EncodeToString(sum[:4]), "-")
}

func sortedRefs(m map[string]string) []ExtractedLicense {
	if len(m) == 0 {
		return nil
	}
	out := make([]ExtractedLicense, 0, len(m))
	for id, text := range m {
		out = append(out, ExtractedLicense{ID: id, Text: text})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func tokenizeLicense(s string) []string {
	var toks []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r == '(' || r == ')':
			flush()
			toks = append(toks, string(r))
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return toks
}

// licenseParser reads SPDX licence expressions (SPDX 2.3 Annex D):
//
//	or   := and ("OR" and)*
//	and  := with ("AND" with)*
//	with := atom ["WITH" exception]
//	atom := "(" or ")" | id ["+"] | LicenseRef-...
//
// Operators are accepted in lower case too, as apk packagers write them.
type licenseParser struct {
	toks []string
	pos  int
	out  []string
	refs map[string]string // LicenseRef- id → text
}

func (p *licenseParser) parse() (string, bool) {
	if !p.or() || p.pos != len(p.toks) {
		return "", false
	}
	// One space between tokens, none inside parentheses: "(MIT OR X)".
	var b strings.Builder
	for i, t := range p.out {
		if i > 0 && p.out[i-1] != "(" && t != ")" {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String(), true
}

func (p *licenseParser) peekOp(op string) bool {
	return p.pos < len(p.toks) && isOp(p.toks[p.pos], op)
}

// isOp accepts an operator as SPDX writes it or in lower case, as apk
// packagers often do; "And" is neither.
func isOp(tok, op string) bool { return tok == op || tok == strings.ToLower(op) }

func (p *licenseParser) or() bool {
	if !p.and() {
		return false
	}
	for p.peekOp("OR") {
		p.pos++
		p.out = append(p.out, "OR")
		if !p.and() {
			return false
		}
	}
	return true
}

func (p *licenseParser) and() bool {
	if !p.with() {
		return false
	}
	for p.peekOp("AND") {
		p.pos++
		p.out = append(p.out, "AND")
		if !p.with() {
			return false
		}
	}
	return true
}

func (p *licenseParser) with() bool {
	simple := p.pos < len(p.toks) && p.toks[p.pos] != "("
	if !p.atom() {
		return false
	}
	if p.peekOp("WITH") {
		if !simple {
			return false // SPDX allows WITH after one licence, not a group
		}
		p.pos++
		if p.pos >= len(p.toks) {
			return false
		}
		exc, ok := exceptions[strings.ToLower(p.toks[p.pos])]
		if !ok {
			return false // an unlisted exception: keep the whole text instead
		}
		p.pos++
		p.out = append(p.out, "WITH", exc)
	}
	return true
}

func (p *licenseParser) atom() bool {
	if p.pos >= len(p.toks) {
		return false
	}
	tok := p.toks[p.pos]
	switch {
	case tok == "(":
		p.pos++
		p.out = append(p.out, "(")
		if !p.or() || p.pos >= len(p.toks) || p.toks[p.pos] != ")" {
			return false
		}
		p.pos++
		p.out = append(p.out, ")")
		return true
	case tok == ")" || isLicenseOp(tok):
		return false
	}
	p.pos++
	p.out = append(p.out, p.licenseID(tok))
	return true
}

func isLicenseOp(tok string) bool {
	return isOp(tok, "AND") || isOp(tok, "OR") || isOp(tok, "WITH")
}

// licenseID spells a listed licence as the list does and turns anything
// else into a LicenseRef- whose text is the id as written.
func (p *licenseParser) licenseID(tok string) string {
	if id, ok := licenseIDs[strings.ToLower(tok)]; ok {
		return id
	}
	if base, plus := strings.CutSuffix(tok, "+"); plus {
		if id, ok := licenseIDs[strings.ToLower(base)]; ok {
			return id + "+"
		}
	}
	if rest, ok := strings.CutPrefix(tok, "LicenseRef-"); ok && rest != "" && !notIDChar.MatchString(rest) {
		p.refs[tok] = tok
		return tok
	}
	ref := licenseRef(tok)
	p.refs[ref] = tok
	return ref
}
