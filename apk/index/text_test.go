package index

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestTextRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, samplePackages()); err != nil {
		t.Fatal(err)
	}
	got, err := ParseText(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if want := samplePackages(); !reflect.DeepEqual(got, want) {
		for i := range want {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestAppendRecordOrder(t *testing.T) {
	p := samplePackages()[1]
	p.Description, p.Origin, p.BuildTime, p.Dependencies = "d", "o", 7, []string{"x"}
	want := "C:Q1Zs1r2EMyc8YY0jTGyY7xRCbFbLo=\nP:busybox\nV:1.35.0-r17\nA:x86_64\nS:500000\nI:900000\nT:d\n" +
		"L:GPL-2.0-only\no:o\nt:7\nk:100\nD:x\np:/bin/sh cmd:busybox=1.35.0-r17\ni:a b=1\nr:busybox-initscripts\nq:5\n" +
		"Z:unknown-but-kept\ng:second unknown\n"
	if got := string(AppendRecord([]byte("keep:"), p)); got != "keep:"+want {
		t.Errorf("AppendRecord:\n%s\nwant\n%s", got, want)
	}
}

func TestParseTextFields(t *testing.T) {
	tests := []struct {
		name, text string
		want       Package
	}{
		{"lists split on runs of spaces", "P:a\nV:1\nD: b  c>=1 \np:\n",
			Package{Name: "a", Version: "1", Dependencies: []string{"b", "c>=1"}}},
		{"later line wins", "P:a\nV:1\nV:2\nS:5\nS:6\n", Package{Name: "a", Version: "2", Size: 6}},
		{"k:0 is kept as present", "P:a\nV:1\nk:0\n", Package{Name: "a", Version: "1", HasProviderPrio: true}},
		{"negative priorities", "P:a\nV:1\nk:-1\nq:-2\nt:-3\n", Package{Name: "a", Version: "1", ProviderPriority: -1, HasProviderPrio: true, ReplacesPriority: -2, BuildTime: -3}},
		{"unknown keys in order, colon in value", "P:a\nV:1\nz:1:2\nF:usr/bin\nR:ls\n",
			Package{Name: "a", Version: "1", Extra: []Field{{'z', "1:2"}, {'F', "usr/bin"}, {'R', "ls"}}}},
		{"no final newline", "P:a\nV:1", Package{Name: "a", Version: "1"}},
	}
	for _, tt := range tests {
		got, err := ParseTextBytes([]byte(tt.text))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if len(got) != 1 || !reflect.DeepEqual(*got[0], tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestParseTextRecords(t *testing.T) {
	got, err := ParseTextBytes([]byte("\n\nP:a\nV:1\n\n\n\nP:b\nV:2\nD:x y\n\nP:c\nV:3\nD:z\n"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Fatalf("records %v", names)
	}
	// Lists share a block; appending to one must not clobber the next.
	_ = append(got[1].Dependencies, "clobber")
	if got[2].Dependencies[0] != "z" {
		t.Errorf("append to b's list changed c's: %v", got[2].Dependencies)
	}
}

func TestParseTextErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"P:a\nV:1\nbogus\n", `APKINDEX line 3: want "K:value", got "bogus"`},
		{"P:a\nV:1\n\nP:b\nV:2\nX\n", `APKINDEX line 6: want "K:value", got "X"`},
		{"P:a\nV:1\nS:12x\n", `APKINDEX line 3: S: "12x" is not a number`},
		{"P:a\nV:1\nI:-1\n", `APKINDEX line 3: I: "-1" is not a number`},
		{"P:a\nV:1\nt:99999999999999999999\n", `APKINDEX line 3: t: "99999999999999999999" is not a number`},
		{"P:a\nV:1\nk:-\n", `APKINDEX line 3: k: "-" is not a number`},
		{"P:a\nV:1\nq:4294967296\n", `APKINDEX line 3: q: "4294967296" is not a number`},
		{"P:a\n\n", `APKINDEX record ending at line 2 has no P: or V: (name "a", version "")`},
		{"V:1\nA:x86_64\n", `APKINDEX record ending at line 2 has no P: or V: (name "", version "1")`},
		{"P:a\nV:1\nT:" + strings.Repeat("x", 100) + "\nbad line " + strings.Repeat("y", 200), `APKINDEX line 4: want "K:value", got "bad line yyyyy`},
	}
	for _, tt := range tests {
		_, err := ParseTextBytes([]byte(tt.text))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseText(%.40q) = %v, want %q", tt.text, err, tt.want)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("error not clipped: %d bytes", len(err.Error()))
		}
	}
}

// longProvides is a p: list of more than min bytes.
func longProvides(min int) []string {
	var out []string
	for i, n := 0, 0; n < min; i++ {
		out = append(out, fmt.Sprintf("so:libverylongname%08d.so.1=1.0", i))
		n += len(out[i]) + 1
	}
	return out
}

func TestParseTextLongLine(t *testing.T) {
	provides := longProvides(DefaultMaxLine - 100)
	text := "P:big\nV:1.0-r0\np:" + strings.Join(provides, " ") + "\nD:after\n\nP:next\nV:2\n"
	pkgs, err := ParseText(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 || !reflect.DeepEqual(pkgs[0].Provides, provides) || pkgs[0].Dependencies[0] != "after" || pkgs[1].Name != "next" {
		t.Fatalf("got %d packages, %d provides", len(pkgs), len(pkgs[0].Provides))
	}
}

func TestWriteTextRejects(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(p *Package)
		wantE string
	}{
		{"newline in description", func(p *Package) { p.Description = "a\nP:evil" }, `T: has a newline in "a\nP:evil"`},
		{"space in a dependency", func(p *Package) { p.Dependencies = []string{"a b"} }, `D: list has a bad token "a b"`},
		{"empty provides token", func(p *Package) { p.Provides = []string{""} }, `p: list has a bad token ""`},
		{"no version", func(p *Package) { p.Version = "" }, "P: and V: are required"},
		{"newline in extra", func(p *Package) { p.Extra = []Field{{'Z', "x\n"}} }, `extra field 'Z' has a newline`},
	}
	for _, tt := range tests {
		p := samplePackages()[2]
		tt.edit(p)
		var buf bytes.Buffer
		err := WriteText(&buf, []*Package{p})
		if err == nil || !strings.Contains(err.Error(), tt.wantE) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantE)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %q despite the error", tt.name, buf.String())
		}
	}
}
