package elfinfo

import (
	"bytes"
	"os"
	"testing"

	"github.com/kiln-build/kiln/pkgbuild/internal/elftest"
)

// Package trees hold whatever a build left behind: any bytes are read as
// ELF or refused, never a panic or a hang.
func FuzzRead(f *testing.F) {
	o := elftest.Compile(f)
	for _, p := range []string{o.Lib, o.Program, o.Plugin} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"))
	f.Add([]byte("#!/bin/sh\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := Read(bytes.NewReader(b))
		if err == nil && info == nil {
			t.Fatal("no error and no info")
		}
	})
}
