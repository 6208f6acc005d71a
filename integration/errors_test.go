package integration

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kiln-build/kiln/apk/sign"
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
		{"missing key names its keyring entry", func(t *testing.T, ctx string) {
			editConfig(t, ctx, "./packages/kiln-test.rsa.pub", "./packages/nope.rsa.pub")
		}, nil, []string{"apko.yaml:7:7: keyring: packages/nope.rsa.pub: not found in the build context"}},
		{"unknown KILN build arg", nil, []string{"--build-arg", "KILN_NOPE=1"}, []string{"unknown build arg KILN_NOPE"}},
		{"SBOM scanner asked for", nil, []string{"--attest", "type=sbom,generator=example.org/scanner:1"},
			[]string{"generator=example.org/scanner:1", "kiln writes the SBOM from the packages it installed"}},
		{"index signed by another key of the trusted name", func(t *testing.T, ctx string) {
			impostor, err := sign.GenerateSigner("kiln-test.rsa.pub", 2048)
			if err != nil {
				t.Fatal(err)
			}
			pemData, _ := impostor.PublicKeyPEM()
			if err := os.WriteFile(filepath.Join(ctx, "packages", "kiln-test.rsa.pub"), pemData, 0o644); err != nil {
				t.Fatal(err)
			}
		}, nil, []string{"apko.yaml:5:7", "signature does not verify"}},
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
			if tt.mutate != nil {
				tt.mutate(t, ctx)
			}
			buildFails(t, ctx, tt.args, tt.want...)
		})
	}
}
