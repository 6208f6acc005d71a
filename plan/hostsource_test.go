package plan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostSourceNamedContexts checks that a context path whose first
// element names a context is read from that context's directory, and no
// other, and that a path cannot leave either directory.
func TestHostSourceNamedContexts(t *testing.T) {
	root, named := t.TempDir(), t.TempDir()
	for dir, files := range map[string]map[string]string{
		root:  {"repo/k.pub": "main repo/k.pub", "other/k.pub": "main other/k.pub"},
		named: {"k.pub": "named k.pub"},
	} {
		for name, content := range files {
			p := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.Symlink("/etc/passwd", filepath.Join(named, "escape"))
	src := &HostSource{Root: root, Contexts: map[string]string{"repo": named}}
	tests := []struct{ path, want, err string }{
		{"repo/k.pub", "named k.pub", ""},
		{"other/k.pub", "main other/k.pub", ""},
		{"repo/missing", "", "repo/missing: not found in the build context"},
		{"repo/escape", "", "escapes from parent"},
	}
	for _, tt := range tests {
		got, err := src.ReadContext(context.Background(), []string{tt.path}, 1<<10)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err %v, want %q", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil || string(got[tt.path]) != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.path, got[tt.path], err, tt.want)
		}
	}
}
