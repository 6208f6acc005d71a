package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestHostileYAML: the config is the user's, but it may come from
// anywhere (a pull request, an include). Alias bombs, huge files, deep
// nesting and include loops fail at once with the file and line; a
// byte-order mark some editors write builds.
func TestHostileYAML(t *testing.T) {
	requireStack(t)
	r := newHostileRepo(t).addRaw(raw("tool", rawDir("opt"), rawFile("opt/tool", "tool", 0o755))).writeIndex(nil)
	ctx := r.config("tool")
	good, err := os.ReadFile(filepath.Join(ctx, "apko.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(ctx, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Each level merges the one below twice: expanded naively, 2^40 keys.
	var bomb strings.Builder
	bomb.WriteString(string(good) + "environment:\n  <<: [&l0 {K0: v}")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&bomb, ", &l%d {<<: [*l%d, *l%d], K%d: v}", i, i-1, i-1, i)
	}
	bomb.WriteString("]\n")
	// Each list holds ten of the one before: a billion laughs in
	// annotations, which take strings only.
	var laughs strings.Builder
	laughs.WriteString(string(good) + "annotations:\n  a0: &a0 \"lol\"\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&laughs, "  a%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				laughs.WriteString(", ")
			}
			fmt.Fprintf(&laughs, "*a%d", i-1)
		}
		laughs.WriteString("]\n")
	}
	huge := string(good) + "# " + strings.Repeat("x", 5<<20) + "\n"
	tests := []struct {
		name   string
		config string
		files  map[string]string
		want   string
	}{
		{"billion laughs", laughs.String(), nil, "apko.yaml:11:7: annotations.a1: expected a string, got a list"},
		{"config past the size bound", huge, nil,
			fmt.Sprintf("apko.yaml: %d bytes; kiln reads configs of up to 4194304 bytes", len(huge))},
		{"deep nesting", string(good) + "annotations: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n", nil,
			"apko.yaml:9:1: invalid YAML: exceeded max depth of 10000"},
		{"include loop", "include: a.yaml\n" + string(good), map[string]string{"a.yaml": "include: apko.yaml\n"},
			"a.yaml:1:10: include: include cycle: apko.yaml -> a.yaml -> apko.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write("apko.yaml", tt.config)
			for n, d := range tt.files {
				write(n, d)
			}
			refused(t, ctx, tt.want)
		})
	}
	// Merge keys are expanded once per mapping, not once per path through
	// the aliases: 41 keys, in bounded time.
	t.Run("merge-key bomb builds", func(t *testing.T) {
		write("apko.yaml", bomb.String())
		l, _ := buildOCI(t, ctx)
		env := onlyImage(t, l).Config.Config.Env
		for i := 0; i <= 40; i++ {
			if !slices.Contains(env, fmt.Sprintf("K%d=v", i)) {
				t.Errorf("image env %q lacks K%d=v", env, i)
			}
		}
	})
	t.Run("byte-order mark builds", func(t *testing.T) {
		// The mark right before the first key (no comment line between),
		// as an editor saves a file that has no syntax line.
		write("apko.yaml", "\ufeff"+string(good))
		files, _ := builtRootfs(t, ctx)
		if _, ok := files["opt/tool"]; !ok {
			t.Error("image lacks opt/tool")
		}
		write("apko.yaml", "\ufeff# syntax="+frontendImage()+"\n"+string(good))
		// As users run it: BuildKit finds the "# syntax=" line behind the
		// mark by itself.
		out := filepath.Join(t.TempDir(), "out.tar")
		cmd := exec.Command("docker", "buildx", "build", "--builder", builderName(), "--progress", "plain",
			"-f", filepath.Join(ctx, "apko.yaml"), "--output", "type=oci,dest="+out, ctx)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build without BUILDKIT_SYNTAX: %v\n%s", err, lastLines(string(b), 10))
		}
		fs, err := loadLayout(t, out).Rootfs(onlyImage(t, loadLayout(t, out)))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := fs["opt/tool"]; !ok {
			t.Error("image built through the syntax line lacks opt/tool")
		}
	})
	checkServes(t)
}
