package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestReplaceChanged(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	write := func(dir, name, data string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(dst, "x86_64/same.apk", "same")
	write(dst, "x86_64/changed.apk", "old")
	write(dst, "x86_64/gone.apk", "gone")
	write(dst, "olddir/f", "gone")
	old := time.Unix(1000, 0)
	if err := os.Chtimes(filepath.Join(dst, "x86_64/same.apk"), old, old); err != nil {
		t.Fatal(err)
	}
	write(src, "x86_64/same.apk", "same")
	write(src, "x86_64/changed.apk", "new")
	write(src, "x86_64/added.apk", "added")

	moved, err := replaceChanged(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if moved != 2 {
		t.Errorf("moved %d files, want 2 (changed.apk, added.apk)", moved)
	}
	for name, want := range map[string]string{"x86_64/same.apk": "same", "x86_64/changed.apk": "new", "x86_64/added.apk": "added"} {
		got, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"x86_64/gone.apk", "olddir"} {
		if _, err := os.Lstat(filepath.Join(dst, name)); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", name, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dst, "x86_64/same.apk")); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("same.apk was rewritten: %v, %v", fi.ModTime(), err)
	}
}
