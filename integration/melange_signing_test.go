package integration

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/sign"
)

// TestMelangeSigningAndReproducible builds the shell example for both
// architectures with a signing key given as a BuildKit secret, twice with
// --no-cache: the packages are signed with that key, byte-identical
// between the builds, laid out as <arch>/, and the key's private bytes
// are nowhere in buildkitd's state or the outputs.
func TestMelangeSigningAndReproducible(t *testing.T) {
	requireStack(t)
	requireArm64Busybox(t)
	ctx := melangeContext(t, "melange-shell", false)
	key, err := sign.GenerateSigner("melange.rsa.pub", 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "melange.rsa")
	if err := os.WriteFile(keyFile, key.PrivateKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--platform", "linux/amd64,linux/arm64", "--secret", "id=melange.rsa,src=" + keyFile, "--no-cache",
		"--build-arg", "SOURCE_DATE_EPOCH=1700000000"}
	first, log1 := buildPackages(t, ctx, args...)
	second, _ := buildPackages(t, ctx, args...)

	pub, _ := key.PublicKeyPEM()
	if got, _ := os.ReadFile(filepath.Join(first, "melange.rsa.pub")); !bytes.Equal(got, pub) {
		t.Fatalf("melange.rsa.pub is not the secret's public key")
	}
	for _, arch := range []string{"x86_64", "aarch64"} {
		recs := readRepo(t, first, arch) // verifies every package and the index with that key
		if len(recs) != 4 {
			t.Errorf("%s: packages %s", arch, names(recs))
		}
		ents, _ := os.ReadDir(filepath.Join(first, arch))
		for _, e := range ents {
			a, _ := os.ReadFile(filepath.Join(first, arch, e.Name()))
			b, err := os.ReadFile(filepath.Join(second, arch, e.Name()))
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("%s/%s differs between two --no-cache builds", arch, e.Name())
			}
		}
	}
	// The aarch64 steps ran for aarch64 (under qemu here).
	if !strings.Contains(log1, "[aarch64] build step 1: build") {
		t.Errorf("no aarch64 build steps in the progress")
	}

	// The private key's bytes are nowhere: not in buildkitd's state, not
	// in the outputs, not in the build's output.
	secret := privateKeyMarker(t, key.PrivateKeyPEM())
	if strings.Contains(log1, secret) {
		t.Error("the build's output shows the private key")
	}
	for _, dir := range []string{first, second, os.Getenv("KILN_STACK_DIR") + "/buildkit"} {
		if out, err := exec.Command("grep", "-rlF", secret, dir).Output(); err == nil {
			t.Errorf("the private key is in %s", strings.TrimSpace(string(out)))
		}
	}
}

// privateKeyMarker is a line of the key's PEM body: long and random
// enough to find the key by, and in no file unless the key is.
func privateKeyMarker(t *testing.T, pemData []byte) string {
	t.Helper()
	lines := strings.Split(string(pemData), "\n")
	if len(lines) < 4 {
		t.Fatal("short PEM")
	}
	return lines[2]
}
