package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/apk/install"
	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"

	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/integration/ocitest"
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
	return tryBuildxOn(builderName(), ctxDir, file, args...)
}

// tryBuildxOn is tryBuildx on another builder (the stack's two-node one).
func tryBuildxOn(builder, ctxDir, file string, args ...string) (string, error) {
	full := append([]string{"buildx", "build", "--builder", builder, "--progress", "plain",
		"-f", filepath.Join(ctxDir, file), "--build-arg", "BUILDKIT_SYNTAX=" + frontendImage()}, args...)
	full = append(full, ctxDir)
	cmd := exec.Command("docker", full...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	return b.String(), err
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

// testSigner is the one key every repository a test run writes is signed
// with (apktest's, so unit tests and end-to-end tests share it).
func testSigner(t *testing.T) *sign.Signer {
	t.Helper()
	s, err := apktest.Signer()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeRepo(t *testing.T, dir string, versions map[string]string, filler int) {
	t.Helper()
	writeRepoOpts(t, dir, versions, filler, "")
}

// writeRepoWith writes the test repository with a go toolchain package
// from goroot ("" for none).
func writeRepoWith(t *testing.T, dir string, versions map[string]string, goroot string) {
	t.Helper()
	writeRepoOpts(t, dir, versions, 0, goroot)
}

func writeRepoOpts(t *testing.T, dir string, versions map[string]string, filler int, goroot string) {
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
		Versions: versions, Filler: filler, GoRoot: goroot}); err != nil {
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

// buildOCI builds ctx's apko.yaml into an OCI layout tar and loads it.
func buildOCI(t *testing.T, ctx string, args ...string) (*ocitest.Layout, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.tar")
	log := buildx(t, ctx, "apko.yaml", append(args, "--output", "type=oci,dest="+out)...)
	l, err := ocitest.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	return l, log
}

func onlyImage(t *testing.T, l *ocitest.Layout) ocitest.Image {
	t.Helper()
	imgs, err := l.Images()
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 {
		t.Fatalf("%d images, want 1", len(imgs))
	}
	return imgs[0]
}

// installedDB reads the image's apk database.
func installedDB(t *testing.T, fs map[string]ocitest.Entry) []install.InstalledPackage {
	t.Helper()
	e, ok := fs[install.DefaultDBPath]
	if !ok {
		t.Fatalf("no %s in the image", install.DefaultDBPath)
	}
	pkgs, err := install.ReadDatabase(bytes.NewReader(e.Data))
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// haveSyft says whether syft is installed, logging that the comparison
// with it is left out when not: only the SBOM checks use it, and building
// it is the slowest part of the stack (hack/test builds it unless
// KILN_STACK_NO_SYFT=1).
func haveSyft(t *testing.T) bool {
	t.Helper()
	if _, err := exec.LookPath("syft"); err != nil {
		t.Log("syft is not installed (KILN_STACK_SYFT=1 bash integration/stack/install.sh builds it): not comparing with it")
		return false
	}
	return true
}

// syftCheck scans the OCI tar the test built, as a user's scanner would.
func syftCheck(t *testing.T, l *ocitest.Layout, db []install.InstalledPackage) {
	t.Helper()
	if !haveSyft(t) {
		return
	}
	got := syftScan(t, l, "")
	var want []string
	for _, p := range db {
		want = append(want, p.Name+"-"+p.Version+" apk")
	}
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("syft found %v, installed %v", got, want)
	}
}

// syftScan lists what syft finds in the layout ("name-version type",
// sorted), in one platform's image when platform (e.g. "arm64") is set.
func syftScan(t *testing.T, l *ocitest.Layout, platform string) []string {
	t.Helper()
	args := []string{"scan", "oci-archive:" + l.Path, "-o", "json", "-q"}
	if platform != "" {
		args = append(args, "--platform", "linux/"+platform)
	}
	out, err := exec.Command("syft", args...).Output()
	if err != nil {
		t.Fatalf("syft: %v", err)
	}
	var doc struct {
		Artifacts []struct{ Name, Version, Type string } `json:"artifacts"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range doc.Artifacts {
		got = append(got, a.Name+"-"+a.Version+" "+a.Type)
	}
	sort.Strings(got)
	return got
}

// buildNamedOCI builds an OCI layout tar for an image name: BuildKit names
// the attestations' subjects only when the image has a name.
func buildNamedOCI(t *testing.T, ctx string, args ...string) *ocitest.Layout {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.tar")
	buildx(t, ctx, "apko.yaml", append(args, "--output", "type=oci,name="+registry+"/kiln-e2e/sbom:test,dest="+out)...)
	l, err := ocitest.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// syftAPKs is what syft finds in one platform's image, apk packages only
// (it may also report binaries by other catalogers).
func syftAPKs(t *testing.T, l *ocitest.Layout, arch string) []string {
	t.Helper()
	var got []string
	for _, a := range syftScan(t, l, arch) {
		if nv, ok := strings.CutSuffix(a, " apk"); ok {
			got = append(got, nv)
		}
	}
	return got
}

// hostKiln builds the kiln CLI for the test's host-side commands.
func hostKiln(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kiln")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/kiln").CombinedOutput(); err != nil {
		t.Fatalf("go build kiln: %v\n%s", err, out)
	}
	return bin
}
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

const registry = "127.0.0.1:5000"

// registryGet fetches a manifest or blob from the local registry.
func registryGet(t *testing.T, repo, kind, ref string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/v2/%s/%s/%s", registry, repo, kind, ref), nil)
	req.Header.Set("Accept", strings.Join([]string{ocispecs.MediaTypeImageIndex, ocispecs.MediaTypeImageManifest,
		"application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json"}, ", "))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s %s: %s %s", kind, ref, resp.Status, b)
	}
	return b
}

// pushedPackages reads the installed database out of one pushed image.
func pushedPackages(t *testing.T, repo string, desc ocispecs.Descriptor) []string {
	t.Helper()
	var m ocispecs.Manifest
	if err := json.Unmarshal(registryGet(t, repo, "manifests", desc.Digest.String()), &m); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range m.Layers {
		blob := registryGet(t, repo, "blobs", l.Digest.String())
		zr, err := gzip.NewReader(bytes.NewReader(blob))
		if err != nil {
			t.Fatal(err)
		}
		tr := tarReader(zr)
		for {
			h, data, ok := tr()
			if !ok {
				break
			}
			if strings.TrimPrefix(h, "./") == install.DefaultDBPath {
				pkgs, err := install.ReadDatabase(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range pkgs {
					names = append(names, p.Name+"-"+p.Version)
				}
			}
		}
	}
	sort.Strings(names)
	return names
}

// installSteps maps "install NAME-VERSION" vertex names to whether the
// step ran (true) or not (false), from plain progress.
func installSteps(log string) map[string]bool {
	return vertexRuns(log, `[x86_64] install `)
}

// vertexRuns maps the names of vertices that begin with prefix (the
// prefix cut off) to whether they ran, from plain progress: a vertex ran
// when it completed ("#N DONE 0.3s") without coming from the cache
// ("#N CACHED"). BuildKit may start a cached vertex to load its result
// for a step that depends on its content and never report it done; it did
// not run.
func vertexRuns(log, prefix string) map[string]bool {
	steps := map[string]bool{}
	ids := map[string]string{}
	re := regexp.MustCompile(`^#(\d+) ` + regexp.QuoteMeta(prefix) + `(.*)$`)
	for _, line := range strings.Split(log, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			ids[m[1]] = m[2]
			steps[m[2]] = false
		}
	}
	cached := map[string]bool{}
	for _, line := range strings.Split(log, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, ok := ids[strings.TrimPrefix(f[0], "#")]
		switch {
		case !ok:
		case f[1] == "CACHED":
			cached[name] = true
			steps[name] = false
		case f[1] == "DONE" && !cached[name]:
			steps[name] = true
		}
	}
	return steps
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

// buildFails builds ctx's apko.yaml expecting failure, and checks that
// buildx's output holds every wanted text; it returns the output.
func buildFails(t *testing.T, ctx string, args []string, want ...string) string {
	t.Helper()
	args = append([]string{"--output", "type=oci,dest=" + filepath.Join(t.TempDir(), "x.tar")}, args...)
	out, err := tryBuildx(ctx, "apko.yaml", args...)
	if err == nil {
		t.Fatalf("build succeeded:\n%s", lastLines(out, 10))
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("buildx output lacks %q:\n%s", w, lastLines(out, 12))
		}
	}
	return out
}

// pushImage builds ctx's apko.yaml for one platform and pushes it to the
// stack's registry as repo:tag; it returns the reference.
func pushImage(t *testing.T, ctx, repo string, args ...string) string {
	t.Helper()
	ref := registry + "/" + repo + ":test"
	buildx(t, ctx, "apko.yaml", append(args, "--output", "type=image,name="+ref+",push=true,registry.insecure=true")...)
	return ref
}

// runImage runs argv in a container of the image ref (on the stack's
// BuildKit, the only container runtime here, with no network) and returns
// what it printed, stdout and stderr together. A static busybox mounted
// beside the image captures the output, so the image needs no shell.
func runImage(t *testing.T, ref, platform string, argv ...string) string {
	t.Helper()
	ctx := context.Background()
	host := os.Getenv("BUILDKIT_HOST")
	if host == "" {
		t.Fatal("BUILDKIT_HOST is unset: source the stack's env file (integration/stack/up.sh writes it)")
	}
	c, err := bkclient.New(ctx, host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := platforms.Parse(platform)
	if err != nil {
		t.Fatal(err)
	}
	busybox := testrepo.HostBusybox()
	if p.Architecture == "arm64" {
		busybox = os.Getenv("KILN_ARM64_BUSYBOX")
	}
	if busybox == "" {
		t.Fatalf("no static busybox for %s", platform)
	}
	script := `"$@" >/out/log 2>&1; echo $? >/out/status`
	st := llb.Image(ref, llb.Platform(p)).Run(
		llb.Args(append([]string{"/.kiln-run/" + filepath.Base(busybox), "sh", "-c", script, "sh"}, argv...)),
		llb.Network(llb.NetModeNone), llb.IgnoreCache,
		llb.AddMount("/.kiln-run", llb.Local("runner", llb.FollowPaths([]string{filepath.Base(busybox)})), llb.Readonly),
		llb.WithCustomNamef("run %s", strings.Join(argv, " ")),
	).AddMount("/out", llb.Scratch())
	def, err := st.Marshal(ctx, llb.Platform(p))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	runner, err := fsutil.NewFS(filepath.Dir(busybox))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Solve(ctx, def, bkclient.SolveOpt{Exports: []bkclient.ExportEntry{{Type: bkclient.ExporterLocal, OutputDir: dir}},
		LocalMounts: map[string]fsutil.FS{"runner": runner}}, nil)
	if err != nil {
		t.Fatalf("run %v in %s: %v", argv, ref, err)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "log"))
	status, _ := os.ReadFile(filepath.Join(dir, "status"))
	if strings.TrimSpace(string(status)) != "0" {
		t.Fatalf("%v in %s exited %s:\n%s", argv, ref, strings.TrimSpace(string(status)), log)
	}
	return string(log)
}

// loadLayout reads an OCI layout tar a build wrote.
func loadLayout(t *testing.T, tarPath string) *ocitest.Layout {
	t.Helper()
	l, err := ocitest.Load(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
