package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/sign"
)

// TestMelangeNativeNodes builds for amd64 and arm64 on the stack's
// two-node builder (one buildkitd per platform, each declaring only its
// own): every step of an architecture runs on that architecture's node,
// as the nodes' logs show, and both resolve the same build environment.
func TestMelangeNativeNodes(t *testing.T) {
	requireStack(t)
	requireArm64Busybox(t)
	builder := os.Getenv("KILN_NODES_BUILDER")
	if builder == "" {
		t.Fatal("KILN_NODES_BUILDER unset: integration/stack/up.sh makes the two-node builder")
	}
	ctx := melangeContext(t, "melange-shell", false)
	editFile(t, filepath.Join(ctx, "melange.yaml"), "      chmod 755 ${{targets.destdir}}/usr/bin/greeting\n",
		"      chmod 755 ${{targets.destdir}}/usr/bin/greeting\n      mkdir -p ${{targets.destdir}}/usr/share/greeting\n      uname -m > ${{targets.destdir}}/usr/share/greeting/built-on\n")
	logs := map[string]string{"x86_64": nodeLog("amd64"), "aarch64": nodeLog("arm64")}
	offsets := map[string]int64{}
	for arch, f := range logs {
		if fi, err := os.Stat(f); err == nil {
			offsets[arch] = fi.Size()
		}
	}
	// Nodes share no state: without the secret each would sign with a key
	// of its own.
	key, err := sign.GenerateSigner("melange.rsa.pub", 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "melange.rsa")
	os.WriteFile(keyFile, key.PrivateKeyPEM(), 0o600)
	out := t.TempDir()
	log, err := tryBuildxOn(builder, ctx, "melange.yaml", "--platform", "linux/amd64,linux/arm64", "--no-cache",
		"--secret", "id=melange.rsa,src="+keyFile, "--output", "type=local,dest="+out)
	if err != nil {
		t.Fatalf("build on %s: %v\n%s", builder, err, lastLines(log, 20))
	}
	for arch, machine := range map[string]string{"x86_64": "x86_64\n", "aarch64": "aarch64\n"} {
		readRepo(t, out, arch)
		got := string(apkEntries(t, filepath.Join(out, arch, "greeting-1.2.0-r3.apk"))["usr/share/greeting/built-on"].data)
		if got != machine {
			t.Errorf("%s's build steps ran on a %q machine", arch, got)
		}
	}
	// Each node ran its own architecture's steps and none of the other's.
	span := regexp.MustCompile(`> creating .* span="\[(x86_64|aarch64)\] (build step [0-9]+|test step [0-9]+)[^"]*"`)
	for arch, f := range logs {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ran := map[string]int{}
		for _, m := range span.FindAllStringSubmatch(string(data[offsets[arch]:]), -1) {
			ran[m[1]]++
		}
		other := map[string]string{"x86_64": "aarch64", "aarch64": "x86_64"}[arch]
		t.Logf("node for %s ran %d %s steps and %d %s steps", arch, ran[arch], arch, ran[other], other)
		if ran[arch] == 0 || ran[other] != 0 {
			t.Errorf("the %s node ran %d of its own steps and %d of %s's", arch, ran[arch], ran[other], other)
		}
	}
	// Both nodes resolved the same versions for the build environment.
	installs := regexp.MustCompile(`(?m)^(#[0-9]+) \[(x86_64|aarch64)\] install (.*)$`)
	versions := map[string][]string{}
	seen := map[string]bool{}
	for _, m := range installs.FindAllStringSubmatch(log, -1) {
		if key := m[2] + m[3]; !seen[key] { // a vertex's name repeats in the progress
			seen[key] = true
			versions[m[2]] = append(versions[m[2]], strings.Split(m[3], ", ")...)
		}
	}
	for arch := range versions {
		sort.Strings(versions[arch])
	}
	if a, b := strings.Join(versions["x86_64"], " "), strings.Join(versions["aarch64"], " "); a == "" || a != b {
		t.Errorf("build environments differ: x86_64 %q, aarch64 %q", a, b)
	}
}

func nodeLog(platform string) string {
	return filepath.Join(os.Getenv("KILN_STACK_DIR"), "log", "node-"+platform+".log")
}
