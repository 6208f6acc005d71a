package index

import (
	"strings"
	"testing"
)

func TestParseInstalled(t *testing.T) {
	db := strings.Join([]string{
		"P:musl", "V:1.2.5-r0", "A:x86_64", "C:Q1abc=", "p:so:libc.musl-x86_64.so.1=1", "i:[]",
		"F:lib", "R:ld-musl-x86_64.so.1", "a:0:0:755", "Z:Q1zzz=", "F:usr/lib", "M:0:0:755",
		"",
		"P:busybox", "V:1.36.1-r0", "A:x86_64", "D:so:libc.musl-x86_64.so.1",
		// a root-level file: R: without F:, as apk writes it
		"R:.profile", "Z:Q1yyy=", "F:bin", "R:busybox", "a:0:0:4755",
		"",
	}, "\n")
	pkgs, err := ParseInstalled([]byte(db))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 {
		t.Fatalf("%d records, want 2", len(pkgs))
	}
	m, b := pkgs[0], pkgs[1]
	if m.Name != "musl" || m.Version != "1.2.5-r0" || m.Checksum != "Q1abc=" || len(m.Provides) != 1 || len(m.Extra) != 0 {
		t.Errorf("musl: %+v", m)
	}
	if b.Name != "busybox" || len(b.Dependencies) != 1 || len(b.Extra) != 0 {
		t.Errorf("busybox: %+v", b)
	}
	// The record's last line needs no newline.
	if pkgs, err := ParseInstalled([]byte("P:a\nV:1-r0\nF:etc\nR:x")); err != nil || len(pkgs) != 1 {
		t.Errorf("unterminated record: %v %v", pkgs, err)
	}
	if _, err := ParseInstalled([]byte("P:a\nF:etc\n\n")); err == nil {
		t.Error("a record without V: parsed")
	}
}
