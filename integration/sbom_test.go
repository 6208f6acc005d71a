package integration

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"

	"github.com/kiln-build/kiln/integration/ocitest"
	"github.com/kiln-build/kiln/sbom"
	"github.com/kiln-build/kiln/sbom/spdxschema"
)

const predicateSPDX = "https://spdx.dev/Document"

var validSPDXID = regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)

// sbomFor returns the SPDX statement attached to one image, failing unless
// there is exactly one.
func sbomFor(t *testing.T, stmts []ocitest.Statement, img ocitest.Image) ocitest.Statement {
	t.Helper()
	var found []ocitest.Statement
	for _, s := range stmts {
		if s.For == img.Descriptor.Digest.String() && s.PredicateType == predicateSPDX {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d SPDX statements for %s, want 1", len(found), img.Descriptor.Digest)
	}
	return found[0]
}

// apkPackages lists name-version of the document's apk packages (those
// with a pkg:apk purl) and checks each names the wanted architecture.
func apkPackages(t *testing.T, doc *spdx.Document, arch string) []string {
	t.Helper()
	var out []string
	for _, p := range doc.Packages {
		for _, r := range p.PackageExternalReferences {
			if r.RefType != "purl" || !strings.HasPrefix(r.Locator, "pkg:apk/") {
				continue
			}
			if !strings.HasSuffix(r.Locator, "?arch="+arch) && !strings.HasSuffix(r.Locator, "?arch=noarch") {
				t.Errorf("%s: purl %s is not for %s", p.PackageName, r.Locator, arch)
			}
			// The merged melange document lists its own purl for the
			// package kiln lists; only kiln's (the local repo's) counts.
			if strings.HasPrefix(r.Locator, "pkg:apk/packages/") {
				out = append(out, p.PackageName+"-"+p.PackageVersion)
			}
		}
	}
	sort.Strings(out)
	return out
}

// checkDocument validates one SPDX predicate against the schema and the
// rules kiln promises: every package has a purl and a licence, everything
// is reachable from the image the document describes.
func checkDocument(t *testing.T, predicate []byte) *spdx.Document {
	t.Helper()
	if err := spdxschema.Validate(predicate); err != nil {
		t.Fatalf("SBOM is not valid SPDX 2.3: %v", err)
	}
	doc, err := spdxjson.Read(bytes.NewReader(predicate))
	if err != nil {
		t.Fatalf("tools-golang cannot read the SBOM: %v", err)
	}
	var root string
	for _, r := range doc.Relationships {
		if r.Relationship == "DESCRIBES" && r.RefA.ElementRefID == doc.SPDXIdentifier {
			root = string(r.RefB.ElementRefID)
		}
	}
	if root == "" {
		t.Fatal("the SBOM describes nothing")
	}
	// The schema leaves identifier syntax and timestamps to the spec.
	for _, p := range doc.Packages {
		if !validSPDXID.MatchString("SPDXRef-" + string(p.PackageSPDXIdentifier)) {
			t.Errorf("SPDXID %q is not SPDXRef-[A-Za-z0-9.-]+", p.PackageSPDXIdentifier)
		}
	}
	for _, f := range doc.Files {
		if !validSPDXID.MatchString("SPDXRef-" + string(f.FileSPDXIdentifier)) {
			t.Errorf("SPDXID %q is not SPDXRef-[A-Za-z0-9.-]+", f.FileSPDXIdentifier)
		}
	}
	if _, err := time.Parse(time.RFC3339, doc.CreationInfo.Created); err != nil {
		t.Errorf("created %q: %v", doc.CreationInfo.Created, err)
	}
	reached := sbom.Reachable(doc, spdx.ElementID(root))
	for _, p := range doc.Packages {
		hasPURL := false
		for _, r := range p.PackageExternalReferences {
			hasPURL = hasPURL || r.RefType == "purl"
		}
		// The operating system has none, as in apko's documents.
		if !hasPURL && p.PrimaryPackagePurpose != "OPERATING_SYSTEM" {
			t.Errorf("package %s has no purl", p.PackageSPDXIdentifier)
		}
		if p.PackageLicenseDeclared == "" {
			t.Errorf("package %s has no licenseDeclared", p.PackageSPDXIdentifier)
		}
		if !reached[p.PackageSPDXIdentifier] {
			t.Errorf("package %s is not reachable from %s", p.PackageSPDXIdentifier, root)
		}
	}
	for _, f := range doc.Files {
		if !reached[f.FileSPDXIdentifier] {
			t.Errorf("file %s is not reachable from %s", f.FileName, root)
		}
	}
	return doc
}

// TestSBOMAttestation builds the local example for two platforms with
// --sbom=true and max provenance, as a user would, and checks each
// platform's SPDX statement against the image it describes, the image's
// installed database, syft's scan and `kiln sbom` on the host.
func TestSBOMAttestation(t *testing.T) {
	requireStack(t)
	requireArm64Busybox(t)
	ctx := exampleContext(t, "local-repo", nil, 0)
	args := []string{"--platform", "linux/amd64,linux/arm64", "--sbom=true", "--provenance=mode=max", "--build-arg", "SOURCE_DATE_EPOCH=1700000000"}
	l := buildNamedOCI(t, ctx, args...)
	imgs, err := l.Images()
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := l.Statements()
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 2 {
		t.Fatalf("%d images, want amd64 and arm64", len(imgs))
	}
	kiln := hostKiln(t)
	apkArch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}
	first := map[string][]byte{}
	for _, img := range imgs {
		arch := apkArch[img.Descriptor.Platform.Architecture]
		t.Run(arch, func(t *testing.T) {
			st := sbomFor(t, stmts, img)
			first[arch] = st.Raw
			if len(st.Parsed.Subject) != 1 || "sha256:"+st.Parsed.Subject[0].Digest["sha256"] != img.Descriptor.Digest.String() {
				t.Errorf("statement subject %+v, want the %s manifest %s", st.Parsed.Subject, arch, img.Descriptor.Digest)
			}
			provenance := false
			for _, s := range stmts {
				provenance = provenance || s.For == img.Descriptor.Digest.String() && strings.HasPrefix(s.PredicateType, "https://slsa.dev/provenance/")
			}
			if !provenance {
				t.Error("no provenance attestation next to the SBOM")
			}

			doc := checkDocument(t, st.Parsed.Predicate)
			if doc.CreationInfo.Created != "2023-11-14T22:13:20Z" {
				t.Errorf("created %s, want SOURCE_DATE_EPOCH", doc.CreationInfo.Created)
			}
			fs, err := l.Rootfs(img)
			if err != nil {
				t.Fatal(err)
			}
			var installed []string
			for _, p := range installedDB(t, fs) {
				installed = append(installed, p.Name+"-"+p.Version)
			}
			sort.Strings(installed)
			listed := apkPackages(t, doc, arch)
			if strings.Join(listed, " ") != strings.Join(installed, " ") {
				t.Errorf("SBOM lists %v, the image has %v installed", listed, installed)
			}
			if haveSyft(t) {
				if scanned := syftAPKs(t, l, img.Descriptor.Platform.Architecture); strings.Join(scanned, " ") != strings.Join(installed, " ") {
					t.Errorf("syft finds %v, the SBOM lists %v", scanned, listed)
				}
			}
			// hello's own (melange) document is merged in.
			merged := map[string]bool{}
			for _, p := range doc.Packages {
				merged[p.PackageName+"@"+p.PackageVersion] = true
			}
			for _, f := range doc.Files {
				merged[f.FileName] = true
			}
			for _, want := range []string{"hello.yaml@0123abcd", "hello@2.12", "/usr/bin/hello"} {
				if !merged[want] {
					t.Errorf("%s from hello's own SBOM is not in the image's", want)
				}
			}

			// `kiln sbom` on the host writes the same document.
			cmd := exec.Command(kiln, "sbom", "--context", ctx, "--arch", arch, "--source-date-epoch", "1700000000", filepath.Join(ctx, "apko.yaml"))
			host, err := cmd.Output()
			if err != nil {
				t.Fatalf("kiln sbom: %v", err)
			}
			var a, b any
			json.Unmarshal(host, &a)
			json.Unmarshal(st.Parsed.Predicate, &b)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("kiln sbom on the host differs from the attestation:\nhost: %.600s\nbuild: %.600s", host, st.Parsed.Predicate)
			}
		})
	}

	// A second build from scratch attaches byte-identical SBOMs.
	l2 := buildNamedOCI(t, ctx, append(args, "--no-cache")...)
	imgs2, _ := l2.Images()
	stmts2, _ := l2.Statements()
	for _, img := range imgs2 {
		arch := apkArch[img.Descriptor.Platform.Architecture]
		if again := sbomFor(t, stmts2, img).Raw; !bytes.Equal(again, first[arch]) {
			t.Errorf("%s: --no-cache rebuild attached a different SBOM statement", arch)
		}
	}
}
