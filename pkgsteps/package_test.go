package pkgsteps

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/apk/sign/signtest"
	"github.com/kiln-build/kiln/step"
)

// runPackage writes a two-package build's output directories and runs the
// key and package steps, with the secret when given.
func runPackage(t *testing.T, secret []byte) (out string, err error) {
	t.Helper()
	dir := t.TempDir()
	outdir := filepath.Join(dir, "melange-out")
	for p, body := range map[string]string{"greeting/usr/bin/greeting": "#!/bin/sh\necho hi\n", "greeting-doc/usr/share/doc/greeting/README": "docs\n"} {
		os.MkdirAll(filepath.Dir(filepath.Join(outdir, p)), 0o755)
		os.WriteFile(filepath.Join(outdir, p), []byte(body), 0o755)
	}
	secretFile := filepath.Join(dir, "secret")
	if secret != nil {
		os.WriteFile(secretFile, secret, 0o600)
	}
	keyDir, out := filepath.Join(dir, "key"), filepath.Join(dir, "out")
	os.MkdirAll(keyDir, 0o755)
	os.MkdirAll(out, 0o755)
	if err := Key(step.MelangeKey{Secret: secretFile, Out: keyDir}); err != nil {
		return "", err
	}
	spec := step.PackageSpec{Arch: "x86_64", SourceDateEpoch: 1700000000, BuildUID: 1000, BuildGID: 1000,
		Packages: []step.PackageInfo{
			{Name: "greeting", Version: "1.0-r0", Licenses: []string{"MIT"}, Description: "hi"},
			{Name: "greeting-doc", Version: "1.0-r0", Origin: "greeting", Licenses: []string{"MIT"}},
		}}
	data, _ := json.Marshal(spec)
	os.WriteFile(filepath.Join(dir, "spec.json"), data, 0o644)
	err = Package(context.Background(), step.MelangePackage{Secret: secretFile, Key: keyDir, Out: out,
		Archs: []step.PackageArch{{Spec: filepath.Join(dir, "spec.json"), OutDir: outdir}}})
	return out, err
}

func TestPackageWithSecret(t *testing.T) {
	s := signtest.Signer(t, "melange.rsa.pub")
	out, err := runPackage(t, s.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(out, step.PublicKeyName))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := s.PublicKeyPEM()
	if string(pub) != string(want) {
		t.Fatalf("the public key next to the packages is not the secret's")
	}
	kr := signtest.Keyring(t, s)
	checkRepo(t, out, kr)
}

func TestPackageWithoutSecret(t *testing.T) {
	out, err := runPackage(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(out, step.PublicKeyName))
	if err != nil {
		t.Fatal(err)
	}
	kr := sign.NewKeyring()
	if err := kr.Add(step.PublicKeyName, pub); err != nil {
		t.Fatal(err)
	}
	checkRepo(t, out, kr)
}

// checkRepo verifies the index and every package against kr.
func checkRepo(t *testing.T, out string, kr *sign.Keyring) {
	t.Helper()
	f, err := os.Open(filepath.Join(out, "x86_64", "APKINDEX.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	idx, err := index.Read(f, index.ReadOptions{Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range idx.Packages {
		names = append(names, p.Name)
		fh, err := os.Open(filepath.Join(out, "x86_64", p.Filename()))
		if err != nil {
			t.Fatal(err)
		}
		r, err := pkg.Open(fh, pkg.ReadOptions{Keyring: kr, ExpectedChecksum: p.Checksum})
		if err != nil {
			t.Fatalf("%s: %v", p.Filename(), err)
		}
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
		fh.Close()
	}
	if strings.Join(names, " ") != "greeting greeting-doc" {
		t.Errorf("index lists %v", names)
	}
}

func TestPackageRefusesAChangedSecret(t *testing.T) {
	a, b := signtest.Signer(t, "a.rsa.pub"), signtest.Signer(t, "b.rsa.pub")
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, a.PrivateKeyPEM(), 0o600)
	if err := Key(step.MelangeKey{Secret: secret, Out: dir}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(secret, b.PrivateKeyPEM(), 0o600)
	if _, err := packageSigner(secret, dir); err == nil || !strings.Contains(err.Error(), "changed during the build") {
		t.Fatalf("err = %v", err)
	}
	os.Remove(secret)
	if _, err := packageSigner(secret, dir); err == nil || !strings.Contains(err.Error(), "went away") {
		t.Fatalf("err = %v", err)
	}
}
