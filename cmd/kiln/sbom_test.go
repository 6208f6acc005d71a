package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/sbom/spdxschema"
	"github.com/kiln-build/kiln/step"
)

const helloOwnSBOM = `{"SPDXID": "SPDXRef-DOCUMENT", "name": "apk-hello-2.12-r0", "spdxVersion": "SPDX-2.3",
 "dataLicense": "CC0-1.0", "documentNamespace": "https://example.org/hello",
 "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: melange"]},
 "documentDescribes": ["SPDXRef-Package-hello-2.12-r0"],
 "packages": [
  {"SPDXID": "SPDXRef-Package-hello-2.12-r0", "name": "hello", "versionInfo": "2.12-r0", "downloadLocation": "NOASSERTION", "filesAnalyzed": false},
  {"SPDXID": "SPDXRef-Package-hello.yaml-abc", "name": "hello.yaml", "versionInfo": "abc", "downloadLocation": "NOASSERTION", "filesAnalyzed": false}],
 "relationships": [{"spdxElementId": "SPDXRef-Package-hello-2.12-r0", "relationshipType": "DESCRIBED_BY", "relatedSpdxElement": "SPDXRef-Package-hello.yaml-abc"}]}`

// TestSBOMStepMatchesHost installs a repository's packages with the build
// steps (install-apk, then image-sbom) and checks that the document is
// byte for byte what `kiln sbom` writes on the host from the same config.
func TestSBOMStepMatchesHost(t *testing.T) {
	s, err := apktest.Signer()
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	keyFile, err := apktest.WriteKey(filepath.Join(base, "keys"), s)
	if err != nil {
		t.Fatal(err)
	}
	dir := func(p string) apktest.File { return apktest.File{Path: p, Dir: true} }
	r := apktest.NewRepo(filepath.Join(base, "repo"), s)
	r.Add("x86_64",
		apktest.Package{Name: "hello", Version: "2.12-r0", License: "GPL-3.0-or-later", Depends: []string{"so:libhello.so.1"},
			Files: []apktest.File{dir("usr"), dir("usr/bin"), {Path: "usr/bin/hello", Mode: 0o755, Data: []byte("hi\n")},
				dir("var"), dir("var/lib"), dir("var/lib/db"), dir("var/lib/db/sbom"),
				{Path: "var/lib/db/sbom/hello-2.12-r0.spdx.json", Data: []byte(helloOwnSBOM)}}},
		apktest.Package{Name: "libhello", Version: "1.0-r0", License: "MIT BSD", Provides: []string{"so:libhello.so.1=1.0"},
			Files: []apktest.File{dir("usr"), dir("usr/lib"), {Path: "usr/lib/libhello.so.1", Data: []byte("lib\n")},
				// os-release as Alpine ships it: a link into usr/lib.
				dir("etc"), {Path: "etc/os-release", Symlink: "../usr/lib/os-release"},
				{Path: "usr/lib/os-release", Data: []byte("NAME=\"Kiln Test\"\nID=kiln-test\nVERSION_ID=1.2\n")}}},
	)
	if _, err := r.Write(); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(base, "apko.yaml")
	cfg := "contents:\n  repositories: [./repo]\n  keyring: [./keys/" + filepath.Base(keyFile) + "]\n  packages: [hello]\n" +
		"annotations:\n  org.opencontainers.image.title: demo\narchs: [x86_64]\n"
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	var hostOut, errb bytes.Buffer
	if code := run(context.Background(), []string{"sbom", "--context", base, "--source-date-epoch", "1700000000", cfgFile}, &hostOut, &errb); code != 0 {
		t.Fatalf("kiln sbom: exit %d: %s", code, errb.String())
	}
	if err := spdxschema.Validate(hostOut.Bytes()); err != nil {
		t.Fatalf("kiln sbom wrote invalid SPDX: %v", err)
	}

	// The build: the planned install steps, then the SBOM step over their
	// records, with the arguments the conversion would give them.
	pl, _, err := planOnHost(context.Background(), hostFlags{context: base}, cfgFile, nil, plan.Options{SourceDateEpoch: 1700000000})
	if err != nil {
		t.Fatal(err)
	}
	p := pl.Platforms[0]
	var metas []string
	var lower string
	for bi, b := range p.Batches() {
		s := step.InstallAPK{Keyring: filepath.Join(base, "keys"), Lower: lower, Links: filepath.Join(base, "links", strconv.Itoa(bi))}
		for _, li := range b {
			l := step.InstallLayer{Out: filepath.Join(base, "layer", strconv.Itoa(li)), Meta: filepath.Join(base, "meta", strconv.Itoa(li))}
			for _, n := range p.Layers[li].Packages {
				l.Packages = append(l.Packages, step.APKFile{Path: filepath.Join(base, p.Packages[n].ContextPath(p.Arch)), Checksum: p.Packages[n].Checksum})
			}
			os.MkdirAll(l.Out, 0o755)
			os.MkdirAll(l.Meta, 0o755)
			s.Layers = append(s.Layers, l)
			metas = append(metas, l.Meta)
		}
		os.MkdirAll(s.Links, 0o755)
		if code := run(context.Background(), s.Args()[1:], &bytes.Buffer{}, &errb); code != 0 {
			t.Fatalf("install-apk: exit %d: %s", code, errb.String())
		}
		lower = s.Links
	}
	spec, _ := json.Marshal(p.SBOM)
	sb := step.ImageSBOM{Spec: filepath.Join(base, "sbom.json"), Out: filepath.Join(base, "sbom-out"), Metas: metas}
	os.WriteFile(sb.Spec, spec, 0o644)
	os.MkdirAll(sb.Out, 0o755)
	if code := run(context.Background(), sb.Args()[1:], &bytes.Buffer{}, &errb); code != 0 {
		t.Fatalf("image-sbom: exit %d: %s", code, errb.String())
	}
	stepOut, err := os.ReadFile(filepath.Join(sb.Out, step.SBOMFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stepOut, hostOut.Bytes()) {
		t.Fatalf("the build step and kiln sbom disagree:\nstep: %s\nhost: %s", stepOut, hostOut.String())
	}

	// What only the package files know made it in: each .apk's SHA-256
	// and hello's own document.
	for _, name := range []string{"hello-2.12-r0.apk", "libhello-1.0-r0.apk"} {
		data, _ := os.ReadFile(filepath.Join(base, "repo", "x86_64", name))
		sum := sha256.Sum256(data)
		if !strings.Contains(string(stepOut), hex.EncodeToString(sum[:])) {
			t.Errorf("the SBOM lacks %s's SHA-256", name)
		}
	}
	for _, want := range []string{`"name": "hello.yaml"`, `"relationshipType": "DESCRIBED_BY"`, `"LicenseRef-MIT-BSD-`, `"name": "demo"`,
		`"SPDXID": "SPDXRef-OperatingSystem-kiln-test"`, `"versionInfo": "1.2"`, `"supplier": "Organization: Kiln Test"`} {
		if !strings.Contains(string(stepOut), want) {
			t.Errorf("the SBOM lacks %s", want)
		}
	}
}

func TestSBOMCommandErrors(t *testing.T) {
	repoDir, key := testRepo(t)
	dir := filepath.Dir(repoDir)
	cfg := "contents:\n  repositories:\n    - ./repo\n  keyring:\n    - ./keys/" + filepath.Base(key) + "\n  packages:\n    - hello\narchs: [x86_64, arm64]\n"
	os.WriteFile(filepath.Join(dir, "apko.yaml"), []byte(cfg), 0o644)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sbom", "--context", dir, filepath.Join(dir, "apko.yaml")}, 2, "pick one with --arch"},
		{[]string{"sbom", "--context", dir, "--arch", "riscv64", filepath.Join(dir, "apko.yaml")}, 2, "builds only for [x86_64 aarch64]"},
		{[]string{"sbom", "--context", dir, "--arch", "sparc", filepath.Join(dir, "apko.yaml")}, 2, "sparc"},
		{[]string{"sbom"}, 2, "want one apko.yaml"},
		{[]string{"sbom", filepath.Join(dir, "missing.yaml")}, 1, "missing.yaml"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		if code := run(context.Background(), tt.args, &out, &errb); code != tt.code || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tt.args, code, errb.String(), tt.code, tt.want)
		}
	}
	var out, errb bytes.Buffer
	// OCI names work as in show-packages.
	if code := run(context.Background(), []string{"sbom", "--context", dir, "--arch", "arm64", filepath.Join(dir, "apko.yaml")}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "pkg:apk/repo/hello@2.12-r0?arch=aarch64") {
		t.Errorf("aarch64 document lacks hello's aarch64 purl:\n%.800s", out.String())
	}
}
