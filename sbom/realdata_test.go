package sbom

import (
	"os"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/resolve"
	"github.com/kiln-build/kiln/internal/testkit"
)

const alpineMain = "https://dl-cdn.alpinelinux.org/alpine/v3.16/main"

// alpinePackages reads the real Alpine 3.16 index in shared/testdata. Its
// signing key is not there, so the signature is not checked here
// (apk/index tests that it is otherwise).
func alpinePackages(t *testing.T) []*index.Package {
	t.Helper()
	p := testkit.SharedTestdata(t, "alpine-3.16/x86_64/APKINDEX.tar.gz")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	idx, err := index.Read(f, index.ReadOptions{AllowUntrusted: true, Name: p})
	if err != nil {
		t.Fatal(err)
	}
	return idx.Packages
}

// TestAlpineImages builds the SBOMs of images made of real Alpine worlds:
// real licences (SPDX and not), maintainers, origins and dependency graphs
// must give schema-valid documents with every package reachable.
func TestAlpineImages(t *testing.T) {
	pkgs := alpinePackages(t)
	for _, world := range []string{"python3", "alpine-base", "nginx", "build-base", "openssh", "git"} {
		t.Run(world, func(t *testing.T) {
			sols, err := resolve.ResolveArchs(map[string][]resolve.Repository{
				"x86_64": {{Name: alpineMain, Arch: "x86_64", Packages: pkgs}},
			}, []string{world})
			if err != nil {
				t.Fatal(err)
			}
			in, err := NewInput(sols["x86_64"], map[string]string{"org.opencontainers.image.title": world}, 0)
			if err != nil {
				t.Fatal(err)
			}
			doc, _ := build(t, in) // validates against the schema
			if len(doc.Packages) != len(in.Packages)+1 {
				t.Errorf("%d packages for %d apks", len(doc.Packages), len(in.Packages))
			}
			reached := Reachable(doc, imageID)
			deps := 0
			for _, r := range doc.Relationships {
				if r.Relationship == "DEPENDS_ON" {
					deps++
				}
			}
			if deps == 0 && len(in.Packages) > 1 {
				t.Error("no DEPENDS_ON edges from a real dependency graph")
			}
			for _, p := range doc.Packages[1:] {
				if !reached[p.PackageSPDXIdentifier] {
					t.Errorf("%s unreachable", p.PackageName)
				}
				if p.PackageSupplier == nil || p.PackageSupplier.Supplier != "Alpine Linux" {
					t.Errorf("%s supplier %+v, want Alpine Linux", p.PackageName, p.PackageSupplier)
				}
				purl := p.PackageExternalReferences[0].Locator
				if !strings.HasPrefix(purl, "pkg:apk/alpine/") || !strings.Contains(purl, "?arch=") {
					t.Errorf("%s purl %s", p.PackageName, purl)
				}
				if !strings.HasPrefix(p.PackageDownloadLocation, alpineMain+"/x86_64/") {
					t.Errorf("%s download %s", p.PackageName, p.PackageDownloadLocation)
				}
			}
		})
	}
}

// TestAlpineLicences runs every licence string in the Alpine index through
// DeclaredLicense and checks each result is a valid expression whose
// LicenseRefs all carry their text.
func TestAlpineLicences(t *testing.T) {
	seen := map[string]bool{}
	spdx, refs := 0, 0
	for _, p := range alpinePackages(t) {
		if seen[p.License] {
			continue
		}
		seen[p.License] = true
		expr, extracted := DeclaredLicense(p.License)
		checkLicenseExpression(t, p.License, expr, extracted)
		if len(extracted) == 0 {
			spdx++
		} else {
			refs++
		}
	}
	t.Logf("%d distinct L: values: %d pure SPDX expressions, %d needing LicenseRef-", len(seen), spdx, refs)
	if spdx == 0 || refs == 0 {
		t.Errorf("expected both kinds in Alpine 3.16 (spdx %d, refs %d)", spdx, refs)
	}
}
