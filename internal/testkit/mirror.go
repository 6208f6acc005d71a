package testkit

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// MirrorFiles reads the files of a mirrored public repository (a bare git
// directory, .mirror/<owner>+<name>/repo, found in KILN_MIRROR_DIR or in
// the nearest .mirror directory above the test) at its HEAD, keeping
// those whose path keep accepts (and whose content the mirror holds:
// some leave out large files). It skips the test, saying why, when the
// mirror or git is absent: the project must test without them.
func MirrorFiles(tb testing.TB, repo string, keep func(path string) bool) map[string][]byte {
	tb.Helper()
	gitDir := mirrorGitDir(tb, repo)
	if _, err := exec.LookPath("git"); err != nil {
		tb.Skip("git not found; cannot read mirrors")
	}
	out, err := exec.Command("git", "--git-dir="+gitDir, "ls-tree", "-r", "-z", "HEAD").Output()
	if err != nil {
		tb.Fatalf("git ls-tree in %s: %v", gitDir, err)
	}
	var paths, objects []string
	for _, entry := range strings.Split(string(out), "\x00") {
		// "<mode> blob <object>\t<path>"
		meta, p, ok := strings.Cut(entry, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 || f[1] != "blob" || !keep(p) {
			continue
		}
		paths = append(paths, p)
		objects = append(objects, f[2])
	}
	files := make(map[string][]byte, len(paths))
	if len(paths) == 0 {
		return files
	}
	cmd := exec.Command("git", "--git-dir="+gitDir, "cat-file", "--batch")
	cmd.Stdin = strings.NewReader(strings.Join(objects, "\n") + "\n")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		tb.Fatalf("git cat-file in %s: %v", gitDir, err)
	}
	r := bufio.NewReader(&stdout)
	for _, p := range paths {
		// "<object> blob <size>\n<content>\n"
		header, err := r.ReadString('\n')
		if err != nil {
			tb.Fatalf("reading %s from %s: %v", p, gitDir, err)
		}
		f := strings.Fields(header)
		if len(f) == 2 && f[1] == "missing" {
			continue // large files some mirrors leave out
		}
		if len(f) != 3 {
			tb.Fatalf("reading %s from %s: unexpected header %q", p, gitDir, header)
		}
		size, err := strconv.Atoi(f[2])
		if err != nil {
			tb.Fatalf("reading %s from %s: %v", p, gitDir, err)
		}
		data := make([]byte, size+1)
		if _, err := io.ReadFull(r, data); err != nil {
			tb.Fatalf("reading %s from %s: %v", p, gitDir, err)
		}
		files[p] = data[:size]
	}
	return files
}

// mirrorGitDir finds the bare git directory of repo ("owner/name").
func mirrorGitDir(tb testing.TB, repo string) string {
	tb.Helper()
	sub := filepath.Join(strings.Replace(repo, "/", "+", 1), "repo")
	if dir := os.Getenv("KILN_MIRROR_DIR"); dir != "" {
		p := filepath.Join(dir, sub)
		if _, err := os.Stat(filepath.Join(p, "HEAD")); err != nil {
			tb.Skipf("mirror of %s absent under KILN_MIRROR_DIR (%s): %v", repo, p, err)
		}
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		p := filepath.Join(dir, ".mirror", sub)
		if _, err := os.Stat(filepath.Join(p, "HEAD")); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip(fmt.Sprintf("mirror of %s absent (no .mirror/%s above the test; set KILN_MIRROR_DIR)", repo, sub))
		}
		dir = parent
	}
}
