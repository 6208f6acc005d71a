package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestBake runs `docker buildx bake` on dockerfile-syntax-examples/
// docker-bake.hcl as a project would: every example image, for amd64 and
// arm64, in one command. Each lands as an OCI layout with both platforms,
// and each platform's image holds packages of its own arch.
func TestBake(t *testing.T) {
	requireStack(t)
	requireArm64Busybox(t)
	examples := []string{"local-repo", "no-shell", "no-packages", "service-bundle", "certificates", "usr-merge"}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../dockerfile-syntax-examples")); err != nil {
		t.Fatal(err)
	}
	for _, e := range examples {
		writeRepo(t, filepath.Join(dir, e, "packages"), nil, 0)
	}
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	cmd := exec.Command("docker", "buildx", "bake", "--builder", builderName(), "--progress", "plain")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KILN_IMAGE="+frontendImage(), "OUTPUT_DIR="+out)
	log, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker buildx bake: %v\n%s", err, lastLines(string(log), 30))
	}
	apkArch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}
	for _, e := range examples {
		l := loadLayout(t, filepath.Join(out, e+".tar"))
		imgs, err := l.Images()
		if err != nil {
			t.Fatal(err)
		}
		var plats []string
		for _, img := range imgs {
			plats = append(plats, img.Config.Architecture)
			fs, err := l.Rootfs(img)
			if err != nil {
				t.Fatal(err)
			}
			arch, ok := fs["etc/apk/arch"]
			if !ok {
				t.Errorf("%s %s: no /etc/apk/arch", e, img.Config.Architecture)
				continue
			}
			if got := strings.TrimSpace(string(arch.Data)); got != apkArch[img.Config.Architecture] {
				t.Errorf("%s %s: /etc/apk/arch says %s", e, img.Config.Architecture, got)
			}
		}
		sort.Strings(plats)
		if strings.Join(plats, ",") != "amd64,arm64" {
			t.Errorf("%s: platforms %v, want amd64 and arm64", e, plats)
		}
	}
}
