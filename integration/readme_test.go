package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeWithoutStackScripts runs README's "Using it without the stack
// scripts" commands as written, in a copy of the checkout, with KILN_IMAGE
// naming the frontend under test: they must build the example and print
// its image.
func TestReadmeWithoutStackScripts(t *testing.T) {
	requireStack(t)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	i := strings.Index(section, "### Using it without the stack scripts")
	if i < 0 {
		t.Fatal("README has no \"Using it without the stack scripts\" section")
	}
	section = section[i:]
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, 2)
	if len(blocks) < 2 || !strings.Contains(blocks[1][1], "KILN_IMAGE") {
		t.Fatalf("want the second sh block of the section to use KILN_IMAGE, got %q", blocks)
	}
	script := blocks[1][1]

	dir := t.TempDir()
	files, err := exec.Command("git", "-C", "..", "ls-files").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(files)) {
		data, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			continue // deleted in the working tree
		}
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KILN_IMAGE="+frontendImage(), "BUILDX_BUILDER="+builderName())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's commands failed: %v\n%s", err, lastLines(string(out), 30))
	}
	for _, want := range []string{"linux/amd64 sha256:", "  hello-2.12-r0", "  busybox-1.36.1-r0"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, lastLines(string(out), 15))
		}
	}
}
