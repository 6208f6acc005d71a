package step

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestReportFlagRoundTrip(t *testing.T) {
	meta := ImageMeta{Spec: "/spec/spec.json", Layers: []string{MountLayers + "/0"}, Out: MountOut}
	args := WithReport(meta.Args(), MountReport)
	if got := ReportDir(args); got != MountReport {
		t.Fatalf("ReportDir(%v) = %q", args, got)
	}
	dir, rest := CutReport(args[2:])
	if dir != MountReport {
		t.Fatalf("CutReport: dir %q", dir)
	}
	got, err := ParseImageMeta(rest, nil)
	if err != nil || !reflect.DeepEqual(got, meta) {
		t.Errorf("parsed %+v, %v; want %+v", got, err, meta)
	}
	if dir, rest := CutReport(meta.Args()[2:]); dir != "" || !reflect.DeepEqual(rest, meta.Args()[2:]) {
		t.Errorf("no report flag: CutReport gave %q, %v", dir, rest)
	}
	if got := ReportDir([]string{"/bin/sh", "-c", "--report"}); got != "" {
		t.Errorf("another binary's command line has report dir %q", got)
	}
}

func TestCleanReport(t *testing.T) {
	tests := []struct{ in, want string }{
		{"install a-1-r0: \"x\": bad\n", `install a-1-r0: "x": bad`},
		{"two\nlines\tand tab", "two lines and tab"},
		{"escape \x1b[31mred\x1b[0m", "escape ?[31mred?[0m"},
		{"bidi \u202egnp.exe", "bidi ?gnp.exe"},
		{"bad utf8 \xff\xfe", "bad utf8 ??"},
		{"ünïcode names stay", "ünïcode names stay"},
	}
	for _, tt := range tests {
		if got := CleanReport(tt.in); got != tt.want {
			t.Errorf("CleanReport(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := strings.Repeat("é", MaxReport)
	if got := CleanReport(long); len(got) > MaxReport || !strings.HasPrefix(long, got) || len(got) < MaxReport-1 {
		t.Errorf("long report cut to %d bytes, not a prefix of at most %d", len(got), MaxReport)
	}
}

func TestWriteReadReport(t *testing.T) {
	dir := t.TempDir()
	if err := WriteReport(dir, UsageError{errors.New("bad flag")}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ReportFile)); !os.IsNotExist(err) {
		t.Fatalf("a usage error left a report: %v", err)
	}
	if _, err := ReadReport(dir); err == nil {
		t.Fatal("ReadReport found a report that was never written")
	}
	cause := errors.New("install x-1-r0: \"etc/.wh.passwd\": whiteout\x07")
	if err := WriteReport(dir, cause); err != nil {
		t.Fatal(err)
	}
	got, err := ReadReport(dir)
	if want := `install x-1-r0: "etc/.wh.passwd": whiteout?`; err != nil || got != want {
		t.Errorf("ReadReport = %q, %v; want %q", got, err, want)
	}
	if err := os.WriteFile(filepath.Join(dir, ReportFile), []byte(strings.Repeat("x", 10*MaxReport)), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadReport(dir); err != nil || len(got) != MaxReport {
		t.Errorf("oversized report read as %d bytes, %v; want %d", len(got), err, MaxReport)
	}
}

// A package names the files in a step's message: whatever they hold, the
// report is one printable line of at most MaxReport bytes, and cleaning
// it again changes nothing.
func FuzzCleanReport(f *testing.F) {
	f.Add("install a-1-r0: \"etc/\x1b[2J\": bad\n")
	f.Add("\xff\xfe\u202e" + strings.Repeat("é", 10))
	f.Add(strings.Repeat("x", MaxReport+3))
	f.Add(strings.Repeat("a\n", MaxReport)) // the cut lands after a space
	f.Fuzz(func(t *testing.T, s string) {
		got := CleanReport(s)
		if len(got) > MaxReport || !utf8.ValidString(got) || strings.ContainsAny(got, "\n\r\t\x1b") {
			t.Fatalf("CleanReport(%q) = %q", s, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) {
				t.Fatalf("control character %U in %q", r, got)
			}
		}
		if again := CleanReport(got); again != got {
			t.Fatalf("not idempotent: %q -> %q", got, again)
		}
	})
}

// A step's report may share an output with its results: a link left where
// the report goes is not followed.
func TestWriteReportFollowsNoLink(t *testing.T) {
	dir, elsewhere := t.TempDir(), filepath.Join(t.TempDir(), "target")
	if err := os.Symlink(elsewhere, filepath.Join(dir, ReportFile)); err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(dir, errors.New("refused")); err == nil {
		t.Error("the report was written through a link")
	}
	if _, err := os.Lstat(elsewhere); !os.IsNotExist(err) {
		t.Errorf("the link's target was made: %v", err)
	}
}
