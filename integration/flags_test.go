package integration

import (
	"bytes"
	"encoding/base64"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/integration/ocitest"
)

// TestBuildxFlags checks the buildx flags that shape what a build makes,
// as a user sees them: --label, --target, the platforms of a build
// without --platform, --build-context and --secret.
func TestBuildxFlags(t *testing.T) {
	requireStack(t)

	t.Run("--label lands in the image config and wins over an annotation", func(t *testing.T) {
		ctx := exampleContext(t, "local-repo", nil, 0)
		l, _ := buildOCI(t, ctx, "--platform", "linux/amd64",
			"--label", "org.example.team=builds", "--label", "org.opencontainers.image.title=from the command line")
		labels := onlyImage(t, l).Config.Config.Labels
		for k, want := range map[string]string{"org.example.team": "builds", "org.opencontainers.image.title": "from the command line",
			"org.opencontainers.image.created": "1970-01-01T00:00:00Z"} {
			if labels[k] != want {
				t.Errorf("label %s = %q, want %q (all: %v)", k, labels[k], want, labels)
			}
		}
	})

	t.Run("--target", func(t *testing.T) {
		ctx := exampleContext(t, "no-shell", nil, 0)
		buildOCI(t, ctx, "--platform", "linux/amd64", "--target", "image")
		out := buildFails(t, ctx, []string{"--platform", "linux/amd64", "--target", "runtime"})
		if got, want := kilnError(out), `--target runtime: apko.yaml has one target, "image" (an apko config has no stages); drop --target or use --target image`; got != want {
			t.Errorf("error line\n got: %s\nwant: %s", got, want)
		}
	})

	t.Run("without --platform a two-arch config builds the builder's platform", func(t *testing.T) {
		requireArm64Busybox(t)
		ctx := exampleContext(t, "local-repo", nil, 0)
		l, log := buildOCI(t, ctx)
		imgs, err := l.Images()
		if err != nil {
			t.Fatal(err)
		}
		if len(imgs) != 1 || imgs[0].Config.Architecture != "amd64" {
			t.Errorf("%d images, want the amd64 one", len(imgs))
		}
		if strings.Contains(log, "do not match result platforms") || strings.Contains(log, "WARNING") {
			t.Errorf("buildx warned:\n%s", lastLines(log, 5))
		}
		l, _ = buildOCI(t, ctx, "--platform", "linux/amd64,linux/arm64")
		if imgs, _ := l.Images(); len(imgs) != 2 {
			t.Errorf("--platform for both archs made %d images", len(imgs))
		}
	})

	t.Run("--build-context serves a repository and key path named after it", func(t *testing.T) {
		ctx := t.TempDir()
		mirror := t.TempDir()
		writeRepo(t, mirror, nil, 0)
		writeFile(t, filepath.Join(ctx, "apko.yaml"), "contents:\n  repositories:\n    - ./mirror\n  keyring:\n    - ./mirror/kiln-test.rsa.pub\n  packages: [hello]\narchs: [x86_64]\n")
		out := buildFails(t, ctx, nil)
		if got, want := kilnError(out), "apko.yaml:5:7: keyring: mirror/kiln-test.rsa.pub: not found in the build context"; got != want {
			t.Errorf("without the context:\n got: %s\nwant: %s", got, want)
		}
		l, _ := buildOCI(t, ctx, "--build-context", "mirror="+mirror)
		fs, err := l.Rootfs(onlyImage(t, l))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := fs["usr/bin/hello"]; !ok {
			t.Error("hello not installed from the named context")
		}
		// The host commands take the same flag and plan the same.
		shown, err := exec.Command(hostKiln(t), "show-packages", "--context", ctx, "--build-context", "mirror="+mirror,
			filepath.Join(ctx, "apko.yaml")).CombinedOutput()
		if err != nil || !strings.Contains(string(shown), "hello 2.12-r0") {
			t.Errorf("kiln show-packages --build-context: %v\n%s", err, shown)
		}
	})

	t.Run("--secret authenticates a private repository and stays out of everything", func(t *testing.T) {
		const user, password = "ci", "s3cret-kiln-e2e-password"
		ctx := t.TempDir()
		writeRepo(t, filepath.Join(ctx, "packages"), nil, 0)
		files := http.FileServer(http.Dir(ctx))
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
				w.Header().Set("WWW-Authenticate", `Basic realm="apk"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			files.ServeHTTP(w, r)
		}))
		defer srv.Close()
		writeFile(t, filepath.Join(ctx, "apko.yaml"), "contents:\n  repositories:\n    - "+srv.URL+"/packages\n  keyring:\n    - "+
			srv.URL+"/packages/kiln-test.rsa.pub\n  packages: [hello]\narchs: [x86_64]\n")

		out := buildFails(t, ctx, nil)
		if got, want := kilnError(out), "apko.yaml:5:7: keyring: fetch "+srv.URL+
			"/packages/kiln-test.rsa.pub: HTTP 401 Unauthorized (the server wants credentials: pass them with --secret id=HTTP_AUTH_HEADER_127.0.0.1, see kiln's README)"; got != want {
			t.Errorf("without the secret:\n got: %s\nwant: %s", got, want)
		}

		header := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
		dir := t.TempDir()
		cmd := exec.Command("docker", "buildx", "build", "--builder", builderName(), "--progress", "plain",
			"-f", filepath.Join(ctx, "apko.yaml"), "--build-arg", "BUILDKIT_SYNTAX="+frontendImage(),
			"--secret", "id=HTTP_AUTH_HEADER_127.0.0.1,env=KILN_E2E_AUTH", "--provenance", "mode=max", "--sbom=true",
			"--cache-to", "type=local,mode=max,dest="+filepath.Join(dir, "cache"),
			"--output", "type=oci,dest="+filepath.Join(dir, "out.tar"), ctx)
		cmd.Env = append(os.Environ(), "KILN_E2E_AUTH="+header)
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		if err := cmd.Run(); err != nil {
			t.Fatalf("build with the secret: %v\n%s", err, lastLines(b.String(), 20))
		}
		l := loadLayout(t, filepath.Join(dir, "out.tar"))
		rootfs, err := l.Rootfs(onlyImage(t, l))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := rootfs["usr/bin/hello"]; !ok {
			t.Error("hello not installed from the private repository")
		}
		// Neither the password nor the header, in the log, any blob of
		// the image, its SBOM and provenance, or the exported cache.
		leaks := func(where string, data []byte) {
			for _, s := range []string{password, header, base64.StdEncoding.EncodeToString([]byte(user + ":" + password))} {
				if bytes.Contains(data, []byte(s)) {
					t.Errorf("the credential is in %s", where)
				}
			}
		}
		leaks("the build log", b.Bytes())
		var blobs []string
		for d, data := range l.Blobs {
			leaks("image blob "+d, data)
			blobs = append(blobs, d)
		}
		for _, img := range mustImages(t, l) {
			for _, layer := range img.Manifest.Layers {
				entries, err := l.Layer(layer)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					leaks("layer file "+e.Header.Name, e.Data)
				}
			}
		}
		sort.Strings(blobs)
		filepath.WalkDir(filepath.Join(dir, "cache"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				data, _ := os.ReadFile(p)
				leaks("cache file "+p, data)
			}
			return nil
		})
		if len(blobs) < 4 {
			t.Errorf("only %d blobs checked", len(blobs))
		}
	})
}

func mustImages(t *testing.T, l *ocitest.Layout) []ocitest.Image {
	t.Helper()
	imgs, err := l.Images()
	if err != nil {
		t.Fatal(err)
	}
	return imgs
}
