package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// apkoBinary is the reference apko built by ../shared/peers, if present.
func apkoBinary(t *testing.T) string {
	t.Helper()
	p := os.Getenv("KILN_APKO")
	if p == "" {
		p = "/var/lib/kiln-peers/bin/apko"
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no apko at %s (build it with ../shared/peers/build-peers.sh, or set KILN_APKO)", p)
	}
	return p
}

// intendedTreeDifferences are where kiln's image differs from apko's on
// purpose (README, "Differences from apko"), by path.
var intendedTreeDifferences = map[string]string{
	// apko records its locked config in the image; kiln's is in the build's
	// provenance attestation.
	"etc/apko.json": "not written",
	// apk-tools' database format: apko writes empty fields and Go's text
	// for an empty install_if list (i:[]).
	"usr/lib/apk/db/installed": "format",
}

// TestTreeMatchesApko builds examples for amd64 with apko and with kiln,
// from the same signed repository, and compares the two root filesystems
// entry by entry (type, mode, owner, link target, contents): they must be
// equal except where README lists a difference.
func TestTreeMatchesApko(t *testing.T) {
	requireStack(t)
	apko := apkoBinary(t)
	// Not usr-merge: apko installs its locked world in name order, so
	// busybox makes a real /bin before the baselayout's /bin -> usr/bin
	// link, and apko fails ("conflicting file for bin"); kiln installs in
	// apk's order, the config's packages first, as apk add would.
	for _, example := range []string{"local-repo", "service-bundle", "certificates"} {
		t.Run(example, func(t *testing.T) { compareWithApko(t, apko, example) })
	}
}

// exampleTreeDifferences are an example's own intended differences.
var exampleTreeDifferences = map[string]map[string]string{
	// apko adds a bare "s6" to the world next to its pinned s6=<version>
	// (it appends s6 to the packages after locking them).
	"service-bundle": {"etc/apk/world": "bare s6 line"},
}

func compareWithApko(t *testing.T, apko, example string) {
	ctx := exampleContext(t, example, nil, 0)
	if example == "local-repo" {
		editConfig(t, ctx, "  - aarch64\n", "")
	}
	layout := filepath.Join(t.TempDir(), "apko")
	os.MkdirAll(layout, 0o755)
	os.MkdirAll(filepath.Join(ctx, "sbom"), 0o755)
	cmd := exec.Command(apko, "build", "--vcs=false", "--cache-dir", t.TempDir(), "--sbom-path", filepath.Join(ctx, "sbom"),
		"--arch", "x86_64", "apko.yaml", "kiln-compare:1", layout)
	cmd.Dir = ctx
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apko build: %v\n%s", err, lastLines(string(out), 10))
	}
	apkoTar := filepath.Join(t.TempDir(), "apko.tar")
	if out, err := exec.Command("tar", "-C", layout, "-cf", apkoTar, "index.json", "oci-layout", "blobs").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	kilnTar := filepath.Join(t.TempDir(), "kiln.tar")
	buildx(t, ctx, "apko.yaml", "--platform", "linux/amd64", "--output", "type=oci,dest="+kilnTar)

	out, _ := exec.Command("go", "run", "./cmd/treediff", kilnTar, apkoTar).CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasSuffix(line, "paths differ") || strings.HasPrefix(line, "exit status") {
			continue
		}
		if _, ok := intendedTreeDifferences[f[0]]; ok {
			continue
		}
		if _, ok := exampleTreeDifferences[example][f[0]]; ok {
			continue
		}
		// apko writes package files as root:root into the layer (its
		// database keeps the owners); kiln keeps the owners apk sets.
		if ownerOnly(line) {
			continue
		}
		t.Errorf("kiln | apko differ: %s", line)
	}
}

// ownerOnly reports whether a treediff line differs in uid:gid alone.
func ownerOnly(line string) bool {
	left, right, ok := strings.Cut(line, "|")
	if !ok {
		return false
	}
	l, r := strings.Fields(left)[1:], strings.Fields(right)
	if len(l) != len(r) || len(l) < 3 {
		return false
	}
	for i := range l {
		if i != 2 && l[i] != r[i] {
			return false
		}
	}
	return r[2] == "0:0"
}
