package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildErrors checks that what users get wrong fails the build with
// buildx showing the file, the line and the problem.
func TestBuildErrors(t *testing.T) {
	requireStack(t)
	tests := []struct {
		name   string
		mutate func(t *testing.T, ctx string)
		args   []string
		want   []string
	}{
		{"unsatisfiable package", func(t *testing.T, ctx string) {
			editConfig(t, ctx, "    - hello\n", "    - hello>=3\n")
		}, nil, []string{"apko.yaml", "hello>=3: only versions 2.12-r0 available"}},
		{"missing dependency explained", func(t *testing.T, ctx string) {
			editConfig(t, ctx, "    - hello\n", "    - nosuchpkg\n")
		}, nil, []string{"apko.yaml", "nosuchpkg: provided by nothing in"}},
		{"bad yaml field", func(t *testing.T, ctx string) {
			editConfig(t, ctx, "entrypoint:\n", "entrypont:\n")
		}, nil, []string{"apko.yaml:11:1", `unknown field "entrypont"`}},
		{"unknown KILN build arg", nil, []string{"--build-arg", "KILN_NOPE=1"}, []string{"unknown build arg KILN_NOPE"}},
		{"SBOM scanner asked for", nil, []string{"--attest", "type=sbom,generator=example.org/scanner:1"},
			[]string{"generator=example.org/scanner:1", "kiln writes the SBOM from the packages it installed"}},
		{"tampered package", func(t *testing.T, ctx string) {
			p := filepath.Join(ctx, "packages", "x86_64", "hello-2.12-r0.apk")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0xff // in the data member: checksums must catch it
			os.WriteFile(p, b, 0o644)
		}, nil, []string{"hello-2.12-r0.apk"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := exampleContext(t, "no-shell", nil, 0)
			args := []string{"--output", "type=oci,dest=" + filepath.Join(t.TempDir(), "x.tar")}
			if tt.mutate != nil {
				tt.mutate(t, ctx)
			}
			args = append(args, tt.args...)
			out, err := tryBuildx(ctx, "apko.yaml", args...)
			if err == nil {
				t.Fatalf("build succeeded:\n%s", lastLines(out, 10))
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("buildx output lacks %q:\n%s", w, lastLines(out, 12))
				}
			}
		})
	}
}

func editConfig(t *testing.T, ctx, old, new string) {
	t.Helper()
	p := filepath.Join(ctx, "apko.yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("apko.yaml has no %q", old)
	}
	os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}
