package index

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"musl", true},
		{"py3-setuptools", true},
		{"gtk+3.0", true},
		{"libstdc++", true},
		{"R", true},
		{"7zip", true},
		{"font_terminus.x", true},
		{"", false},
		{"../../elsewhere/name", false},
		{"a/b", false},
		{"..", false},
		{".hidden", false},
		{"-flag", false},
		{"+plus", false},
		{"_under", false},
		{"two words", false},
		{"nul\x00", false},
		{"new\nline", false},
		{"cmd:sh", false},
		{"so:libc.so", false},
		{"pkg=1.0", false},
		{"caf\u00e9", false},
		{"back\\slash", false},
		{"perc%2F", false},
	}
	for _, tt := range tests {
		err := CheckName(tt.name)
		if tt.ok != (err == nil) {
			t.Errorf("CheckName(%q) = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadName) {
			t.Errorf("CheckName(%q) = %v, want ErrBadName", tt.name, err)
		}
	}
}

func TestCheckVersion(t *testing.T) {
	tests := []struct {
		v  string
		ok bool
	}{
		{"1.0-r0", true},
		{"1.36.1_git20230101_p2-r15", true},
		{"2.12_rc3-r1", true},
		{"0.99f7-r0", true},  // aspell-ru in Alpine: not the strict grammar, but real
		{"6.8.0p2-r4", true}, // opensmtpd in Alpine
		{"1.0-r0~abcdef", true},
		{"", false},
		{"../1.0-r0", false},
		{"1.0/../../x", false},
		{"1.0-r0/", false},
		{"v1.0", false},
		{"1.0 r0", false},
		{"1.0+dfsg", false},
		{"1.0\n", false},
		{"1.0-r0\x00", false},
		{"1.0%2f", false},
	}
	for _, tt := range tests {
		err := CheckVersion(tt.v)
		if tt.ok != (err == nil) {
			t.Errorf("CheckVersion(%q) = %v, want ok %v", tt.v, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadName) {
			t.Errorf("CheckVersion(%q) = %v, want ErrBadName", tt.v, err)
		}
	}
}

// An index entry whose name or version would become a path or URL
// component outside the repository makes the index unreadable, and the
// error says which index and which entry.
func TestReadRejectsBadNames(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"name climbs", "P:ok\nV:1.0-r0\n\nP:../../elsewhere/evil\nV:1.0-r0\n", `record at line 4: P: package name "../../elsewhere/evil" must start with a letter or digit`},
		{"name has a slash", "P:x/evil\nV:1.0-r0\n", `record at line 1: P: package name "x/evil" has '/' at byte 1`},
		{"name has a space", "P:x evil\nV:1.0-r0\n", `P: package name "x evil" has ' ' at byte 1`},
		{"version climbs", "P:evil\nV:1.0-r0/../../../x\n", `record at line 1 (P:evil): V: package version "1.0-r0/../../../x" has '/' at byte 6`},
		{"version is not a version", "P:evil\nV:latest\n", `V: package version "latest" must start with a digit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTextBytes([]byte(tt.text))
			if !errors.Is(err, ErrBadName) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseTextBytes = %v, want ErrBadName with %q", err, tt.want)
			}
			// The same text in a index: Read names the index too.
			data := rawIndex(t, tarEntry{"APKINDEX", -1, []byte(tt.text)})
			_, err = Read(bytes.NewReader(data), ReadOptions{AllowUntrusted: true, Name: "https://repo.example/x86_64/APKINDEX.tar.gz"})
			if !errors.Is(err, ErrBadName) || !strings.HasPrefix(err.Error(), "index https://repo.example/x86_64/APKINDEX.tar.gz: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Read = %v, want the index named and %q", err, tt.want)
			}
		})
	}
}

// WriteText refuses what ParseText would refuse.
func TestWriteTextRejectsBadNames(t *testing.T) {
	for _, p := range []*Package{
		{Name: "../evil", Version: "1.0-r0"},
		{Name: "evil", Version: "1.0/../../x"},
	} {
		if err := WriteText(&bytes.Buffer{}, []*Package{p}); !errors.Is(err, ErrBadName) {
			t.Errorf("WriteText(%s) = %v, want ErrBadName", p, err)
		}
	}
}

// Every name and version of a real Alpine index passes: the check must
// not refuse real packages.
func TestRealNamesPass(t *testing.T) {
	f, err := os.Open(sharedTestdata(t, "alpine-3.16/x86_64/APKINDEX.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	idx, err := Read(f, ReadOptions{AllowUntrusted: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Packages) < 4000 {
		t.Fatalf("only %d packages read", len(idx.Packages))
	}
	for _, p := range idx.Packages {
		if err := CheckName(p.Name); err != nil {
			t.Error(err)
		}
		if err := CheckVersion(p.Version); err != nil {
			t.Error(err)
		}
	}
}
