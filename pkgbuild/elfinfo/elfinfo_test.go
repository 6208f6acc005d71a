package elfinfo

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/pkgbuild/internal/elftest"
)

func readFile(t *testing.T, p string) (*Info, error) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return Read(bytes.NewReader(b))
}

func TestCompiledObjects(t *testing.T) {
	o := elftest.Compile(t)
	tests := []struct {
		name    string
		path    string
		interp  bool
		needed  []string // must all be present
		sonames []string
	}{
		{"library", o.Lib, false, nil, []string{elftest.SOName}},
		{"program", o.Program, true, []string{elftest.SOName, "libc.so.6"}, nil},
		{"plugin without soname", o.Plugin, false, []string{elftest.SOName}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := readFile(t, tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Interpreter != ""; got != tt.interp {
				t.Errorf("interpreter %q, want one: %v", info.Interpreter, tt.interp)
			}
			if tt.interp && !strings.HasPrefix(info.Interpreter, "/") {
				t.Errorf("interpreter %q is not an absolute path", info.Interpreter)
			}
			for _, n := range tt.needed {
				if !slices.Contains(info.Needed, n) {
					t.Errorf("needed %v lacks %s", info.Needed, n)
				}
			}
			if !slices.Equal(info.SONames, tt.sonames) {
				t.Errorf("sonames %v, want %v", info.SONames, tt.sonames)
			}
			if info.GoSettings != nil {
				t.Errorf("C object has Go settings %v", info.GoSettings)
			}
		})
	}
}

func TestGoBinary(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	info, err := readFile(t, exe)
	if err != nil {
		t.Fatal(err)
	}
	if info.GoSettings == nil {
		t.Fatal("the test binary is not recognised as a Go binary")
	}
	if _, ok := info.GoSetting("GOOS"); !ok {
		t.Errorf("no GOOS among the build settings %v", info.GoSettings)
	}
}

func TestNotELF(t *testing.T) {
	for _, in := range []string{"", "\x7fEL", "#!/bin/sh\necho hi\n", "MZ\x90\x00"} {
		if _, err := Read(strings.NewReader(in)); !errors.Is(err, ErrNotELF) {
			t.Errorf("Read(%q) = %v, want ErrNotELF", in, err)
		}
	}
}

// Truncated and corrupted ELF files must give errors, not panics.
func TestMalformed(t *testing.T) {
	o := elftest.Compile(t)
	b, err := os.ReadFile(o.Program)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{4, 16, 52, 64, 200, len(b) / 2} {
		if _, err := Read(bytes.NewReader(b[:n])); err == nil {
			t.Errorf("Read of the first %d bytes succeeded", n)
		}
	}
	// Flip bytes across the headers: anything may come back, but no panic.
	for i := 16; i < 256 && i < len(b); i++ {
		c := bytes.Clone(b)
		c[i] ^= 0xff
		Read(bytes.NewReader(c))
	}
}
