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
		{"GPL2+ OR Artistic", "LicenseRef-GPL2-8fa29c85 OR LicenseRef-Artistic",
			[]ExtractedLicense{{"LicenseRef-Artistic", "Artistic"}, {"LicenseRef-GPL2-8fa29c85", "GPL2+"}}},
		// Sanitising must not merge two licences: only the lossless one keeps a bare id.
		{"GPL2 OR GPL2+", "LicenseRef-GPL2 OR LicenseRef-GPL2-8fa29c85",
			[]ExtractedLicense{{"LicenseRef-GPL2", "GPL2"}, {"LicenseRef-GPL2-8fa29c85", "GPL2+"}}},
		{"custom", "LicenseRef-custom", []ExtractedLicense{{"LicenseRef-custom", "custom"}}},
		{"MIT BSD GPL2+", "LicenseRef-MIT-BSD-GPL2-00d9e44b", []ExtractedLicense{{"LicenseRef-MIT-BSD-GPL2-00d9e44b", "MIT BSD GPL2+"}}},
		// Alpine's older style: listed licences separated by spaces or commas all apply.
		{"GPL-2.0-or-later LGPL-2.1-or-later", "GPL-2.0-or-later AND LGPL-2.1-or-later", nil},
		{"GPL-2.0+, LGPL-2.1+, Zlib", "GPL-2.0+ AND LGPL-2.1+ AND Zlib", nil},
		{"mit bsd-3-clause", "MIT AND BSD-3-Clause", nil},
		{"Public Domain", "LicenseRef-Public-Domain-f6960be1", []ExtractedLicense{{"LicenseRef-Public-Domain-f6960be1", "Public Domain"}}},
		{"(MIT", "LicenseRef-MIT-81cb5ffc", []ExtractedLicense{{"LicenseRef-MIT-81cb5ffc", "(MIT"}}},
		{"MIT AND", "LicenseRef-MIT-AND-f743c54c", []ExtractedLicense{{"LicenseRef-MIT-AND-f743c54c", "MIT AND"}}},
		// WITH follows one licence, never a group.
		{"(MIT OR Zlib) WITH LLVM-exception", "LicenseRef-MIT-OR-Zlib-WITH-LLVM-exception-d1b66e77",
			[]ExtractedLicense{{"LicenseRef-MIT-OR-Zlib-WITH-LLVM-exception-d1b66e77", "(MIT OR Zlib) WITH LLVM-exception"}}},
		// Operators are upper or lower case, as written by SPDX or by packagers.
		{"MIT And Zlib", "LicenseRef-MIT-And-Zlib-657e7fba", []ExtractedLicense{{"LicenseRef-MIT-And-Zlib-657e7fba", "MIT And Zlib"}}},
		{"GPL-2.0-or-later WITH Unknown-exception", "LicenseRef-GPL-2.0-or-later-WITH-Unknown-exception-49da4ee7",
			[]ExtractedLicense{{"LicenseRef-GPL-2.0-or-later-WITH-Unknown-exception-49da4ee7", "GPL-2.0-or-later WITH Unknown-exception"}}},
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
			checkLicenseExpression(t, tt.in, got, ext)
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

// checkLicenseExpression checks an expression DeclaredLicense wrote
// without its parser: operators upper case, parentheses balanced, every
// licence listed (spelt as listed, maybe with "+"), every exception listed
// and after WITH, every LicenseRef- among the extracted ones and every
// extracted one used.
func checkLicenseExpression(t *testing.T, in, expr string, extracted []ExtractedLicense) {
	t.Helper()
	if expr == "NOASSERTION" {
		if len(extracted) != 0 {
			t.Fatalf("%q: NOASSERTION with extracted %v", in, extracted)
		}
		return
	}
	listOnce.Do(loadLicenseList)
	have := map[string]bool{}
	for _, e := range extracted {
		have[e.ID] = true
	}
	used := map[string]bool{}
	depth, prev := 0, ""
	for _, tok := range tokenizeLicense(expr) {
		switch {
		case tok == "(":
			depth++
		case tok == ")":
			if depth--; depth < 0 {
				t.Fatalf("%q gave %q: unbalanced", in, expr)
			}
		case tok == "AND" || tok == "OR" || tok == "WITH":
		case prev == "WITH":
			if exceptions[strings.ToLower(tok)] != tok {
				t.Fatalf("%q gave %q: %q is no listed exception", in, expr, tok)
			}
		case strings.HasPrefix(tok, "LicenseRef-"):
			if !have[tok] {
				t.Fatalf("%q gave %q: %s has no extracted text", in, expr, tok)
			}
			used[tok] = true
		default:
			id := strings.TrimSuffix(tok, "+")
			if licenseIDs[strings.ToLower(tok)] != tok && licenseIDs[strings.ToLower(id)] != id {
				t.Fatalf("%q gave %q: %q is no listed licence", in, expr, tok)
			}
		}
		prev = tok
	}
	if depth != 0 {
		t.Fatalf("%q gave %q: unbalanced", in, expr)
	}
	for id := range have {
		if !used[id] {
			t.Fatalf("%q gave %q: extracted %s is not used", in, expr, id)
		}
	}
	// Normalised output is a fixed point.
	if again, _ := DeclaredLicense(expr); again != expr {
		t.Fatalf("%q gave %q, which normalises again to %q", in, expr, again)
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
