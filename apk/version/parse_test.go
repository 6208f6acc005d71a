package version

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	for _, s := range []string{
		"0", "1", "1.2", "1.2.3.4.5.6", "20230101", "006", "1.01", "1.2a", "1a",
		"1.2_alpha", "1.2_beta3", "1.2_pre", "1.2_rc10", "1.2_cvs", "1.2_svn", "1.2_git20240101",
		"1.2_hg", "1.2_p", "1.2_p16", "1.2a_p1", "0.1_p1_pre2", "0.1_alpha1_pre2",
		"0.1_git20240101_pre1", "0.1_pre2~1234abcd", "1.2~0", "1.2a~ff-r1", "1.2_rc~abc",
		"1.2-r0", "1.2-r123", "1.2_p1-r3", "1.0~1234-r1", "2.12r-r4",
		"99999999999999999999999999", "1.36.1_git20230101_p2-r15",
	} {
		v, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%q): %v", s, err)
			continue
		}
		if v.String() != s || v.IsZero() || !Valid(s) {
			t.Errorf("Parse(%q): String %q, IsZero %v, Valid %v", s, v.String(), v.IsZero(), Valid(s))
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, s := range []string{
		"", " ", "a", "a1", "v1.2", ".1", "_pre1", "-r1", "~ab", // must start with a number
		"1.", "1..2", "1.2.", "1.a", // '.' needs a number
		"1.2ab", "1.2bc1", "0.1a1", "0.99f7", "1.2a.3", "1_rc1.2", "1_rc1a", // letter placement
		"1.2_foo", "1.2_foobar1", "1.2_", "1.2_-r0", "1.2__alpha", "1.2_1_alpha", "1.2_RC1", "1.2_pr", "1.2_alph", // suffixes
		"1.2~", "1.2~xyz", "1.2~ABC", "1.2~1234abcd_pre1", "1.2~ab~cd", "1.2-r1~ab", "0.1_pre2-r1~1234xbcd", // hashes
		"1.2-", "1.2-r", "1.2-rX", "1.2-r1-r2", "1.2-r2_pre1", "1.2-r2_p3_pre1", "1.2-r2.1", "1.2-1", "1.2-R1", "0.1-pre1.1", // revisions
		"1.2 ", " 1.2", "1,2", "1.2\n", "1.2\x00", "1.2é", "1.2+3", "1.2:3", // junk
	} {
		_, err := Parse(s)
		if err == nil {
			t.Errorf("Parse(%q) succeeded", s)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(s)) {
			t.Errorf("Parse(%q) error %q does not quote the input", s, err)
		}
		if Valid(s) {
			t.Errorf("Valid(%q) = true", s)
		}
		if _, err := Compare(s, "1"); err == nil {
			t.Errorf("Compare(%q, 1) succeeded", s)
		}
		if _, err := Compare("1", s); err == nil {
			t.Errorf("Compare(1, %q) succeeded", s)
		}
	}
}

func TestParseErrorPointsAtProblem(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.2_foo", `unknown suffix`},
		{"1.2_foo", `at "_foo"`},
		{"1.2-rX", `at "-rX"`},
		{"1.2ab", `at "b"`},
		{"", "must start with a number"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want it to mention %q", tt.in, err, tt.want)
		}
	}
}

func TestMustParse(t *testing.T) {
	if MustParse("1.2-r3").String() != "1.2-r3" {
		t.Error("MustParse lost the input")
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParse(\"1..2\") did not panic")
		}
	}()
	MustParse("1..2")
}
