package integration

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/integration/testrepo"
)

// The stack comes from integration/stack (hack/test brings it up and sets
// KILN_E2E=1). Without it these tests skip, saying why.
func requireStack(t *testing.T) {
	t.Helper()
	if os.Getenv("KILN_E2E") != "1" {
		t.Skip("end-to-end tests need the BuildKit stack: run `bash hack/test` (KILN_E2E=1)")
	}
}

// requireArm64Busybox fails a multi-platform test whose arm64 repository
// would lack a shell: the stack's installer fetches that busybox.
func requireArm64Busybox(t *testing.T) {
	t.Helper()
	if os.Getenv("KILN_ARM64_BUSYBOX") == "" {
		t.Fatal("KILN_ARM64_BUSYBOX unset: integration/stack/install.sh fetches an arm64 busybox")
	}
}

func frontendImage() string {
	if v := os.Getenv("KILN_FRONTEND_IMAGE"); v != "" {
		return v
	}
	return "127.0.0.1:5000/kiln:dev"
}

func builderName() string {
	if v := os.Getenv("KILN_BUILDER"); v != "" {
		return v
	}
	return "kiln"
}

// buildx runs `docker buildx build` on the kiln builder as a user would,
// with BUILDKIT_SYNTAX pointing at the frontend under test.
func buildx(t *testing.T, ctxDir, file string, args ...string) string {
	t.Helper()
	out, err := tryBuildx(ctxDir, file, args...)
	if err != nil {
		t.Fatalf("docker buildx build failed: %v\n%s", err, out)
	}
	return out
}

func tryBuildx(ctxDir, file string, args ...string) (string, error) {
	full := append([]string{"buildx", "build", "--builder", builderName(), "--progress", "plain",
		"-f", filepath.Join(ctxDir, file), "--build-arg", "BUILDKIT_SYNTAX=" + frontendImage()}, args...)
	full = append(full, ctxDir)
	cmd := exec.Command("docker", full...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	return b.String(), err
}

var signerOnce struct {
	sync.Once
	s   *sign.Signer
	err error
}

// testSigner is one key for every repository a test run writes.
func testSigner(t *testing.T) *sign.Signer {
	signerOnce.Do(func() { signerOnce.s, signerOnce.err = sign.GenerateSigner("kiln-test.rsa.pub", 2048) })
	if signerOnce.err != nil {
		t.Fatal(signerOnce.err)
	}
	return signerOnce.s
}

// exampleContext copies an example's apko.yaml into a fresh build context
// and writes the test repository into its packages/.
func exampleContext(t *testing.T, example string, versions map[string]string, filler int) string {
	t.Helper()
	ctx := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "dockerfile-syntax-examples", example, "apko.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "apko.yaml"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	writeRepo(t, filepath.Join(ctx, "packages"), versions, filler)
	return ctx
}

func writeRepo(t *testing.T, dir string, versions map[string]string, filler int) {
	t.Helper()
	host := testrepo.HostBusybox()
	if host == "" {
		t.Fatal("no static busybox: integration/stack/install.sh installs Debian's busybox-static")
	}
	bb := map[string]string{"x86_64": host}
	if arm := os.Getenv("KILN_ARM64_BUSYBOX"); arm != "" {
		bb["aarch64"] = arm
	}
	if _, err := testrepo.Write(testrepo.Options{Dir: dir, Signer: testSigner(t), Busybox: bb, ListWith: host,
		Versions: versions, Filler: filler}); err != nil {
		t.Fatal(err)
	}
}

// apkEntry is one entry of a package's data section.
type apkEntry struct {
	hdr  *tar.Header
	data []byte
}

// apkEntries reads a package's data entries, verifying it as kiln does.
func apkEntries(t *testing.T, path string) map[string]apkEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pkg.Open(f, pkg.ReadOptions{AllowUntrusted: true})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]apkEntry{}
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(h.Name, "/")] = apkEntry{hdr: h, data: data}
	}
}

// tarReader iterates a tar stream: each call returns the next entry's
// name and contents, or false at the end.
func tarReader(r io.Reader) func() (string, []byte, bool) {
	tr := tar.NewReader(r)
	return func() (string, []byte, bool) {
		h, err := tr.Next()
		if err != nil {
			return "", nil, false
		}
		data, _ := io.ReadAll(tr)
		return h.Name, data, true
	}
}
