package integration

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/integration/testrepo"
)

// TestCertificatesAndRuntimeKeyring checks apko's trust additions: the
// configured certificate and the one a provider package ships are each
// installed under usr/local/share/ca-certificates and appended to the CA
// bundle (with its checksum beside it); the runtime key is in
// /etc/apk/keys, yet the build trusted only its keyring.
func TestCertificatesAndRuntimeKeyring(t *testing.T) {
	requireStack(t)
	ctx := exampleContext(t, "certificates", nil, 0)
	l, _ := buildOCI(t, ctx, "--platform", "linux/amd64")
	fs, err := l.Rootfs(onlyImage(t, l))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(ctx, "apko.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	additional := pemBlock(t, string(cfg), "CERTIFICATE")
	corporate := testrepo.TestCertificate("kiln test corporate root")
	sum := sha256.Sum256(derOf(t, additional))
	name := "usr/local/share/ca-certificates/example-internal-root-" + hex.EncodeToString(sum[:]) + ".crt"
	if got := string(fs[name].Data); got != additional {
		t.Errorf("%s = %q, want the configured certificate", name, got)
	}
	bundle := string(fs["etc/ssl/certs/ca-certificates.crt"].Data)
	shipped := "# kiln test bundle\n" + string(testrepo.TestCertificate("kiln test public root"))
	if want := shipped + additional + "\n" + string(corporate) + "\n"; bundle != want {
		t.Errorf("bundle:\n%s\nwant the package's, then the configured one, then the provider's:\n%s", bundle, want)
	}
	bsum := sha256.Sum256([]byte(bundle))
	if got := string(fs["etc/ssl/certs/.ca-certificates.crt.sha256"].Data); got != hex.EncodeToString(bsum[:])+"  ca-certificates.crt\n" {
		t.Errorf("bundle checksum %q", got)
	}
	key := pemBlock(t, string(cfg), "PUBLIC KEY")
	if got := string(fs["etc/apk/keys/runtime.rsa.pub"].Data); got != key {
		t.Errorf("runtime key %q, want %q", got, key)
	}
	if _, ok := fs["etc/apk/keys/kiln-test.rsa.pub"]; !ok {
		t.Error("the build keyring is missing from /etc/apk/keys")
	}
}

// pemBlock finds the one PEM block of typ in an indented YAML text and
// returns it re-encoded, as the image must hold it.
func pemBlock(t *testing.T, yamlText, typ string) string {
	t.Helper()
	var lines []string
	in := false
	for _, l := range strings.Split(yamlText, "\n") {
		l = strings.TrimSpace(l)
		if l == "-----BEGIN "+typ+"-----" {
			in = true
		}
		if in {
			lines = append(lines, l)
		}
		if l == "-----END "+typ+"-----" {
			break
		}
	}
	b, _ := pem.Decode([]byte(strings.Join(lines, "\n")))
	if b == nil {
		t.Fatalf("no %s in the config", typ)
	}
	return string(pem.EncodeToMemory(b))
}

func derOf(t *testing.T, pemText string) []byte {
	t.Helper()
	b, _ := pem.Decode([]byte(pemText))
	if _, err := x509.ParseCertificate(b.Bytes); err != nil {
		t.Fatal(err)
	}
	return b.Bytes
}
