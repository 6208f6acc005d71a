// Package elfinfo reads the few facts about an ELF file that package
// dependency analysis needs: the program interpreter, the libraries it
// needs, the sonames it answers to, and the Go build settings of Go
// binaries.
package elfinfo

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
)

// ErrNotELF is returned for input that does not start with the ELF magic.
var ErrNotELF = errors.New("not an ELF file")

// maxInterp bounds the PT_INTERP segment read; real ones are a path.
const maxInterp = 4096

// Info is what Read found.
type Info struct {
	Interpreter string   // PT_INTERP path, "" when the file has none
	Needed      []string // DT_NEEDED entries, in file order
	SONames     []string // DT_SONAME entries (a library has one)
	// GoSettings are the build settings of a Go binary (CGO_ENABLED,
	// GOEXPERIMENT, ...); nil for anything else.
	GoSettings []debug.BuildSetting
}

// IsELF reports whether the first bytes of r are the ELF magic.
func IsELF(r io.ReaderAt) bool {
	var magic [4]byte
	n, _ := r.ReadAt(magic[:], 0)
	return n == len(magic) && string(magic[:]) == elf.ELFMAG
}

// Read parses r as an ELF file. Malformed files are errors, never panics:
// package trees hold whatever a build left behind.
func Read(r io.ReaderAt) (info *Info, err error) {
	if !IsELF(r) {
		return nil, ErrNotELF
	}
	defer func() {
		// debug/elf trusts offsets in the file more than it should.
		if p := recover(); p != nil {
			info, err = nil, fmt.Errorf("malformed ELF file: %v", p)
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("parse ELF: %w", err)
	}
	defer f.Close()
	info = &Info{}
	if info.Interpreter, err = interpreter(f); err != nil {
		return nil, err
	}
	if info.Needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return nil, fmt.Errorf("read DT_NEEDED: %w", err)
	}
	if info.SONames, err = f.DynString(elf.DT_SONAME); err != nil {
		return nil, fmt.Errorf("read DT_SONAME: %w", err)
	}
	if bi, err := buildinfo.Read(r); err == nil {
		info.GoSettings = bi.Settings
		if info.GoSettings == nil {
			info.GoSettings = []debug.BuildSetting{}
		}
	}
	return info, nil
}

// interpreter returns the PT_INTERP path without its NUL terminator.
func interpreter(f *elf.File) (string, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p.Open(), maxInterp))
		if err != nil {
			return "", fmt.Errorf("read PT_INTERP: %w", err)
		}
		return string(bytes.Trim(b, "\x00")), nil
	}
	return "", nil
}

// GoSetting returns the value of a Go build setting and whether it is set.
func (i *Info) GoSetting(key string) (string, bool) {
	for _, s := range i.GoSettings {
		if s.Key == key {
			return s.Value, true
		}
	}
	return "", false
}
