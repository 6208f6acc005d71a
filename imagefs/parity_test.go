package imagefs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiln-build/kiln/internal/testkit"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/step"
)

// testCert is a fresh self-signed certificate in PEM and its DER SHA-256.
func testCert(t *testing.T, cn string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), hex.EncodeToString(sum[:])
}

func writeLower(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if target, ok := strings.CutPrefix(data, "->"); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if strings.HasSuffix(p, "/") {
			os.MkdirAll(full, 0o755)
			continue
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readOut(t *testing.T, out, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, p))
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return string(b)
}

func TestCertificates(t *testing.T) {
	extra, extraSum := testCert(t, "extra")
	provided, _ := testCert(t, "provided")
	tests := []struct {
		name       string
		lower      map[string]string
		wantBundle string // "" when the image has none
	}{
		{"appends to the bundle", map[string]string{
			"etc/ssl/certs/ca-certificates.crt":                     "BUNDLE\n",
			"usr/local/share/ca-certificates/corp.crt":              provided,
			"usr/local/share/ca-certificates/not-a-certificate.crt": "junk",
		}, "BUNDLE\n" + extra + "\n" + provided + "\n"},
		{"no bundle: only the files", map[string]string{
			"usr/local/share/ca-certificates/corp.crt": provided,
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lower, out := t.TempDir(), t.TempDir()
			writeLower(t, lower, tt.lower)
			spec := &step.ImageSpec{Certificates: &step.Certificates{
				Additional: []step.NamedFile{{Name: "extra", Content: "comment above\n" + extra}},
				Providers:  []string{"corp-certs"},
			}}
			pkgs := []Installed{{Name: "corp", Provides: []string{"corp-certs"},
				Files: []string{"usr/local/share/ca-certificates/corp.crt", "usr/local/share/ca-certificates/not-a-certificate.crt"}}}
			if err := Generate(Input{Spec: spec, Layers: []string{lower}, Out: out, Packages: pkgs}); err != nil {
				t.Fatal(err)
			}
			if got := readOut(t, out, "usr/local/share/ca-certificates/extra-"+extraSum+".crt"); got != extra {
				t.Errorf("extra certificate file = %q, want the re-encoded PEM", got)
			}
			bundle, err := os.ReadFile(filepath.Join(out, "etc/ssl/certs/ca-certificates.crt"))
			if tt.wantBundle == "" {
				if err == nil {
					t.Errorf("a bundle was created: %q", bundle)
				}
				return
			}
			if string(bundle) != tt.wantBundle {
				t.Errorf("bundle = %q, want %q", bundle, tt.wantBundle)
			}
			sum := sha256.Sum256(bundle)
			if got := readOut(t, out, "etc/ssl/certs/.ca-certificates.crt.sha256"); got != hex.EncodeToString(sum[:])+"  ca-certificates.crt\n" {
				t.Errorf("bundle checksum = %q", got)
			}
			checkMeta(t, out, "etc/ssl/certs/.ca-certificates.crt.sha256", 0o444, 0, 0)
		})
	}
}

func TestBundleChecksumWithoutCertificates(t *testing.T) {
	lower, out := t.TempDir(), t.TempDir()
	writeLower(t, lower, map[string]string{"etc/ssl/certs/ca-certificates.crt": "BUNDLE\n"})
	if err := Generate(Input{Spec: &step.ImageSpec{}, Layers: []string{lower}, Out: out}); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("BUNDLE\n"))
	if got := readOut(t, out, "etc/ssl/certs/.ca-certificates.crt.sha256"); got != hex.EncodeToString(sum[:])+"  ca-certificates.crt\n" {
		t.Errorf("checksum = %q", got)
	}
	if _, err := os.Lstat(filepath.Join(out, "etc/ssl/certs/ca-certificates.crt")); err == nil {
		t.Error("the untouched bundle was copied into the metadata layer")
	}
}

func TestRuntimeKeyring(t *testing.T) {
	s, err := apktest.Signer()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := s.PublicKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	lower, out := t.TempDir(), t.TempDir()
	spec := &step.ImageSpec{RuntimeKeys: []step.NamedFile{{Name: "runtime.rsa.pub", Content: "# a comment\n" + string(pub)}}}
	if err := Generate(Input{Spec: spec, Layers: []string{lower}, Out: out, Keys: map[string][]byte{"build.rsa.pub": []byte("BUILD")}}); err != nil {
		t.Fatal(err)
	}
	if got := readOut(t, out, "etc/apk/keys/runtime.rsa.pub"); got != string(pub) {
		t.Errorf("runtime key = %q, want the canonical PEM %q", got, pub)
	}
	if got := readOut(t, out, "etc/apk/keys/build.rsa.pub"); got != "BUILD" {
		t.Errorf("build key = %q", got)
	}
	spec.RuntimeKeys[0].Name = "build.rsa.pub"
	err = Generate(Input{Spec: spec, Layers: []string{t.TempDir()}, Out: t.TempDir(), Keys: map[string][]byte{"build.rsa.pub": []byte("BUILD")}})
	if err == nil || !strings.Contains(err.Error(), `runtime key "build.rsa.pub" collides`) {
		t.Errorf("colliding runtime key: err = %v", err)
	}
}

func TestServices(t *testing.T) {
	lower, out := t.TempDir(), t.TempDir()
	spec := &step.ImageSpec{Services: []step.Service{{Name: "web", Command: "/usr/bin/web --port 80"}, {Name: "cron", Command: "crond -f"}}}
	if err := Generate(Input{Spec: spec, Layers: []string{lower}, Out: out}); err != nil {
		t.Fatal(err)
	}
	if got := readOut(t, out, "sv/web/run"); got != "#!/bin/execlineb\n/usr/bin/web --port 80\n" {
		t.Errorf("web run = %q", got)
	}
	checkMeta(t, out, "sv", fs.ModeDir|0o777, 0, 0)
	checkMeta(t, out, "sv/cron", fs.ModeDir|0o777, 0, 0)
	checkMeta(t, out, "sv/cron/run", 0o755, 0, 0)
	spec.Services = []step.Service{{Name: "../escape", Command: "x"}}
	if err := Generate(Input{Spec: spec, Layers: []string{t.TempDir()}, Out: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "invalid name") {
		t.Errorf("escaping service name: err = %v", err)
	}
}

func TestLibAPKLink(t *testing.T) {
	tests := []struct {
		name     string
		lower    map[string]string
		provides []string
		wantLib  string // readlink of out/lib, "dir" for a directory, "" for absent
		wantLink bool   // out/lib/apk -> ../usr/lib/apk
		wantErr  string
	}{
		{"plain", nil, nil, "dir", true, ""},
		{"usr-merged lib", map[string]string{"usr/lib/": "", "lib": "->usr/lib"}, nil, "", false, ""},
		{"merged-lib provider", nil, []string{"merged-lib=1"}, "usr/lib", false, ""},
		{"package lib dir", map[string]string{"lib/": ""}, nil, "", true, ""},
		{"empty apk-tools tree", map[string]string{"lib/apk/db/": "", "lib/apk/exec/": ""}, nil, "", true, ""},
		{"package file under lib/apk", map[string]string{"lib/apk/db/installed": "x"}, nil, "", false, "lib/apk/db/installed from a package"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lower, out := t.TempDir(), t.TempDir()
			writeLower(t, lower, tt.lower)
			err := Generate(Input{Spec: &step.ImageSpec{}, Layers: []string{lower}, Out: out, Packages: []Installed{{Name: "base", Provides: tt.provides}}})
			if testkit.ErrorCase(t, err, tt.wantErr) {
				return
			}
			fi, err := os.Lstat(filepath.Join(out, "lib"))
			switch {
			case tt.wantLib == "" && err == nil && fi.Mode()&fs.ModeSymlink != 0:
				t.Errorf("lib is a symlink in the metadata layer")
			case tt.wantLib == "dir" && (err != nil || !fi.IsDir()):
				t.Errorf("lib: %v, want a directory", err)
			case tt.wantLib != "" && tt.wantLib != "dir":
				if got, _ := os.Readlink(filepath.Join(out, "lib")); got != tt.wantLib {
					t.Errorf("lib -> %q, want %q", got, tt.wantLib)
				}
			}
			got, _ := os.Readlink(filepath.Join(out, "lib/apk"))
			if (got == "../usr/lib/apk") != tt.wantLink {
				t.Errorf("lib/apk -> %q, want link %v", got, tt.wantLink)
			}
		})
	}
}

func TestWorldAndRepositoriesSortedOnce(t *testing.T) {
	lower, out := t.TempDir(), t.TempDir()
	spec := &step.ImageSpec{World: []string{"zlib=1.3-r0", "busybox=1.36-r0", "busybox=1.36-r0"},
		Repositories: []string{"https://b.example/os", "https://a.example/os", "https://b.example/os"}}
	if err := Generate(Input{Spec: spec, Layers: []string{lower}, Out: out}); err != nil {
		t.Fatal(err)
	}
	if got := readOut(t, out, "etc/apk/world"); got != "busybox=1.36-r0\nzlib=1.3-r0\n" {
		t.Errorf("world = %q", got)
	}
	if got := readOut(t, out, "etc/apk/repositories"); got != "https://a.example/os\nhttps://b.example/os\n" {
		t.Errorf("repositories = %q", got)
	}
}
