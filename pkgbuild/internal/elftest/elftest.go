// Package elftest compiles small real ELF files with the host's C
// compiler for the tests of the ELF scanner and the packager.
package elftest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Objects are the files Compile made.
type Objects struct {
	Lib     string // shared library with SONAME libkilntest.so.1
	Program string // executable linking Lib and libc
	Plugin  string // shared object without a SONAME, needing Lib
}

// SOName is the soname Compile gives the library.
const SOName = "libkilntest.so.1"

// Compile builds the objects in a temporary directory, or skips the test
// when there is no C compiler.
func Compile(t testing.TB) Objects {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		if cc, err = exec.LookPath("gcc"); err != nil {
			t.Skip("no C compiler (cc or gcc) on PATH")
		}
	}
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	libSrc := write("lib.c", "int kilntest_answer(void) { return 42; }\n")
	progSrc := write("prog.c", "#include <stdio.h>\nint kilntest_answer(void);\nint main(void) { printf(\"%d\\n\", kilntest_answer()); return 0; }\n")
	plugSrc := write("plug.c", "int kilntest_answer(void);\nint plugin_entry(void) { return kilntest_answer() + 1; }\n")
	o := Objects{
		Lib:     filepath.Join(dir, SOName),
		Program: filepath.Join(dir, "kilntest"),
		Plugin:  filepath.Join(dir, "plugin.so"),
	}
	run := func(args ...string) {
		cmd := exec.Command(cc, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", cc, args, err, out)
		}
	}
	run("-shared", "-fPIC", "-Wl,-soname,"+SOName, "-o", o.Lib, libSrc)
	// The linker finds the library by its development name.
	if err := os.Symlink(SOName, filepath.Join(dir, "libkilntest.so")); err != nil {
		t.Fatal(err)
	}
	run("-o", o.Program, progSrc, "-L"+dir, "-lkilntest")
	run("-shared", "-fPIC", "-o", o.Plugin, plugSrc, "-L"+dir, "-lkilntest")
	return o
}
