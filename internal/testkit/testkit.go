// Package testkit holds what kiln's tests share. It is imported only by
// _test.go files.
package testkit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// SharedTestdata returns the path of rel under the workplace's
// shared/testdata: ../shared/testdata from the module root, or from a
// directory above it (a git worktree checked out one level deeper, such as
// wt/NAME, shares its main checkout's data). It skips the test, saying
// why, when the data is absent: the project must build and test without it.
func SharedTestdata(tb testing.TB, rel string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("module root (go.mod) not found above the test directory; shared test data unavailable")
		}
		dir = parent
	}
	first := filepath.Join(dir, "..", "shared", "testdata", rel)
	for up := filepath.Dir(dir); ; up = filepath.Dir(up) {
		p := filepath.Join(up, "shared", "testdata", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if filepath.Dir(up) == up {
			break
		}
	}
	tb.Skipf("shared test data absent (%s, nor in a shared/testdata further up)", first)
	return ""
}

// ErrorCase checks err against want, a text the error must contain (""
// when no error is wanted), and reports whether the test case ends here:
// an error was wanted and checked, or one came unwanted. Table tests use
// it as `if testkit.ErrorCase(t, err, tt.wantErr) { return }`.
func ErrorCase(tb testing.TB, err error, want string) bool {
	tb.Helper()
	switch {
	case want == "" && err == nil:
		return false
	case want == "":
		tb.Errorf("unexpected error: %v", err)
	case err == nil:
		tb.Errorf("no error, want one containing %q", want)
	case !strings.Contains(err.Error(), want):
		tb.Errorf("error %q does not contain %q", err, want)
	}
	return true
}
