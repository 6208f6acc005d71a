package sbom

import (
	"strings"
	"testing"
)

func TestDeclaredLicense(t *testing.T) {
	tests := []struct {
		in, want  string
		extracted []ExtractedLicense
	}{
		{"", "NOASSERTION", nil},
		{"   ", "NOASSERTION", nil},
		{"MIT", "MIT", nil},
		{"mit", "MIT", nil},
		{"GPL-2.0-or-later", "GPL-2.0-or-later", nil},
		{"GPL-2.0-only AND MIT", "GPL-2.0-only AND MIT", nil},
		{"MIT and BSD-2-Clause", "MIT AND BSD-2-Clause", nil},
		{"BSD-3-Clause OR MIT", "BSD-3-Clause OR MIT", nil},
		{"GPL-2.0+", "GPL-2.0+", nil},       // deprecated, still listed
		{"LGPL-2.1+", "LGPL-2.1+", nil},     // likewise
		{"Apache-2.0+", "Apache-2.0+", nil}, // listed id with the "or later" operator
		{"apache-2.0 with llvm-exception", "Apache-2.0 WITH LLVM-exception", nil},
		{"GPL-2.0-or-later WITH Linux-syscall-note", "GPL-2.0-or-later WITH Linux-syscall-note", nil},
		{"(MIT OR Apache-2.0) AND Unicode-DFS-2016", "(MIT OR Apache-2.0) AND Unicode-DFS-2016", nil},
		{"( MIT  OR (Apache-2.0 AND Zlib) )", "(MIT OR (Apache-2.0 AND Zlib))", nil},
		{"LicenseRef-custom", "LicenseRef-custom", []ExtractedLicense{{"LicenseRef-custom", "LicenseRef-custom"}}},
		{"MIT AND custom", "MIT AND LicenseRef-custom", []ExtractedLicense{{"LicenseRef-custom", "custom"}}},
		{"GPL2+ OR Artistic", "LicenseRef-GPL2 OR LicenseRef-Artistic",
			[]ExtractedLicense{{"LicenseRef-Artistic", "Artistic"}, {"LicenseRef-GPL2", "GPL2+"}}},
		{"custom", "LicenseRef-custom", []ExtractedLicense{{"LicenseRef-custom", "custom"}}},
		{"MIT BSD GPL2+", "LicenseRef-MIT-BSD-GPL2", []ExtractedLicense{{"LicenseRef-MIT-BSD-GPL2", "MIT BSD GPL2+"}}},
		{"Public Domain", "LicenseRef-Public-Domain", []ExtractedLicense{{"LicenseRef-Public-Domain", "Public Domain"}}},
		{"(MIT", "LicenseRef-MIT", []ExtractedLicense{{"LicenseRef-MIT", "(MIT"}}},
		{"MIT AND", "LicenseRef-MIT-AND", []ExtractedLicense{{"LicenseRef-MIT-AND", "MIT AND"}}},
		{"GPL-2.0-or-later WITH Unknown-exception", "LicenseRef-GPL-2.0-or-later-WITH-Unknown-exception",
			[]ExtractedLicense{{"LicenseRef-GPL-2.0-or-later-WITH-Unknown-exception", "GPL-2.0-or-later WITH Unknown-exception"}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ext := DeclaredLicense(tt.in)
			if got != tt.want {
				t.Errorf("expression %q, want %q", got, tt.want)
			}
			if len(ext) != len(tt.extracted) {
				t.Fatalf("extracted %v, want %v", ext, tt.extracted)
			}
			for i := range ext {
				if ext[i] != tt.extracted[i] {
					t.Errorf("extracted %v, want %v", ext, tt.extracted)
				}
			}
		})
	}
}

func TestDeclaredLicenseLongText(t *testing.T) {
	a := strings.Repeat("All rights reserved by somebody. ", 200)
	b := a + "Really."
	ea, xa := DeclaredLicense(a)
	eb, _ := DeclaredLicense(b)
	if ea == eb {
		t.Errorf("two long licence texts share the id %s", ea)
	}
	if len(ea) > len("LicenseRef-")+64+9 || len(xa) != 1 || xa[0].Text != strings.TrimSpace(a) {
		t.Errorf("long text: %q, %d extracted", ea, len(xa))
	}
}

// checkLicenseExpression re-reads an expression DeclaredLicense wrote: it
// must parse with listed ids only, and every LicenseRef- it uses must be
// among the extracted ones.
func checkLicenseExpression(t *testing.T, in, expr string, extracted []ExtractedLicense) {
	t.Helper()
	if expr == "NOASSERTION" {
		return
	}
	p := &licenseParser{toks: tokenizeLicense(expr), refs: map[string]string{}}
	if _, ok := p.parse(); !ok {
		t.Fatalf("%q gave %q, which does not parse", in, expr)
	}
	have := map[string]bool{}
	for _, e := range extracted {
		have[e.ID] = true
	}
	for id := range p.refs {
		if !have[id] {
			t.Fatalf("%q gave %q using %s with no extracted text", in, expr, id)
		}
	}
}

func FuzzDeclaredLicense(f *testing.F) {
	for _, s := range []string{"MIT", "GPL-2.0-or-later WITH Linux-syscall-note", "(MIT OR X) and Y", "MIT BSD GPL2+", "((", "LicenseRef-a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		expr, extracted := DeclaredLicense(s)
		checkLicenseExpression(t, s, expr, extracted)
	})
}
