package integration

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestHostCommandsAgreeWithBuilds runs `kiln show-packages` and `kiln sbom`
// on the host and a build on the stack for every example and for configs
// the build refuses: both give the same verdict (the same error, at the
// same line), the same package set and the same SBOM.
func TestHostCommandsAgreeWithBuilds(t *testing.T) {
	requireStack(t)
	kiln := hostKiln(t)
	tests := []struct {
		name, example string
		edit          [2]string // replace edit[0] by edit[1] in apko.yaml
		wantErr       string    // "" when both must succeed
	}{
		{name: "local-repo", example: "local-repo"},
		{name: "no-shell", example: "no-shell"},
		{name: "service-bundle", example: "service-bundle"},
		{name: "certificates", example: "certificates"},
		{name: "usr-merge", example: "usr-merge"},
		{name: "no-packages", example: "no-packages"},
		{"base image with an entrypoint", "no-shell", [2]string{"contents:\n", "contents:\n  baseimage:\n    image: ./base\n    apkindex: ./idx\n"},
			"apko.yaml:15:3: entrypoint: not allowed with contents.baseimage"},
		{"base image not in the context", "no-shell", [2]string{"entrypoint:\n  command: /usr/bin/hello\n", "  baseimage:\n    image: ./base\n    apkindex: ./idx\n"},
			"contents.baseimage.image ./base: base/index.json: not found in the build context"},
		{"erofs", "no-shell", [2]string{"entrypoint:\n", "format: erofs\nentrypoint:\n"}, `apko.yaml:11:9: format "erofs"`},
		{"unknown package", "no-shell", [2]string{"    - hello\n", "    - nosuch\n"}, "nosuch: provided by nothing"},
		{"misspelt field", "no-shell", [2]string{"entrypoint:\n", "entrypont:\n"}, `apko.yaml:11:1: unknown field "entrypont"`},
		{"missing key", "no-shell", [2]string{"./packages/kiln-test.rsa.pub", "./nope.rsa.pub"}, "apko.yaml:7:7: keyring: nope.rsa.pub: not found in the build context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := exampleContext(t, tt.example, nil, 0)
			if tt.edit[0] != "" {
				editConfig(t, ctx, tt.edit[0], tt.edit[1])
			}
			cfg := filepath.Join(ctx, "apko.yaml")
			shown, hostErr := exec.Command(kiln, "show-packages", "--context", ctx, "--arch", "x86_64", cfg).CombinedOutput()
			out := filepath.Join(t.TempDir(), "out.tar")
			buildLog, buildErr := tryBuildx(ctx, "apko.yaml", "--platform", "linux/amd64", "--sbom=true",
				"--output", "type=oci,name="+registry+"/kiln-e2e/host:test,dest="+out)
			if tt.wantErr != "" {
				if hostErr == nil || buildErr == nil {
					t.Fatalf("want both to fail: show-packages err %v (%s), build err %v", hostErr, shown, buildErr)
				}
				if !strings.Contains(string(shown), tt.wantErr) || !strings.Contains(buildLog, tt.wantErr) {
					t.Errorf("want both to say %q:\nshow-packages: %s\nbuild: %s", tt.wantErr, shown, lastLines(buildLog, 6))
				}
				return
			}
			if hostErr != nil || buildErr != nil {
				t.Fatalf("want both to succeed: show-packages %v: %s\nbuild %v: %s", hostErr, shown, buildErr, lastLines(buildLog, 10))
			}
			l := loadLayout(t, out)
			img := onlyImage(t, l)
			fs, err := l.Rootfs(img)
			if err != nil {
				t.Fatal(err)
			}
			var installed, listed []string
			for _, p := range installedDB(t, fs) {
				installed = append(installed, p.Name+" "+p.Version)
			}
			for _, line := range strings.Split(strings.TrimSpace(string(shown)), "\n") {
				if line != "" {
					listed = append(listed, line)
				}
			}
			sort.Strings(installed)
			sort.Strings(listed)
			if !reflect.DeepEqual(installed, listed) {
				t.Errorf("show-packages lists %q, the image has %q", listed, installed)
			}
			stmts, err := l.Statements()
			if err != nil {
				t.Fatal(err)
			}
			host, err := exec.Command(kiln, "sbom", "--context", ctx, "--arch", "x86_64", cfg).Output()
			if err != nil {
				t.Fatalf("kiln sbom: %v", err)
			}
			var a, b any
			json.Unmarshal(host, &a)
			json.Unmarshal(sbomFor(t, stmts, img).Parsed.Predicate, &b)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("kiln sbom differs from the attestation:\nhost: %.400s", host)
			}
		})
	}
}
