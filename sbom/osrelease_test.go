package sbom

import (
	"testing"

	"github.com/kiln-build/kiln/internal/testkit"

	"github.com/kiln-build/kiln/sbom/spdxschema"
)

func TestOSFromFiles(t *testing.T) {
	wolfi := "ID=wolfi\nNAME=\"Wolfi\"\nPRETTY_NAME=\"Wolfi\"\nVERSION_ID=20230201\nHOME_URL=\"https://wolfi.dev\"\n"
	alpine := "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.16.3\n# comment\n\nPRETTY_NAME=\"Alpine Linux v3.16\"\n"
	tests := []struct {
		name    string
		files   []OSFile
		want    OS
		wantErr string
	}{
		{"file", []OSFile{{Package: "wolfi-baselayout", Path: "etc/os-release", Data: wolfi}}, OS{ID: "wolfi", Name: "Wolfi", VersionID: "20230201"}, ""},
		{"symlink into usr/lib", []OSFile{
			{Package: "alpine-release", Path: "etc/os-release", Link: "../usr/lib/os-release"},
			{Package: "alpine-release", Path: "usr/lib/os-release", Data: alpine},
		}, OS{ID: "alpine", Name: "Alpine Linux", VersionID: "3.16.3"}, ""},
		{"absolute link", []OSFile{
			{Package: "a", Path: "usr/lib/os-release", Data: wolfi},
			{Package: "a", Path: "etc/os-release", Link: "/usr/lib/os-release"},
		}, OS{ID: "wolfi", Name: "Wolfi", VersionID: "20230201"}, ""},
		{"later package wins", []OSFile{
			{Package: "a", Path: "etc/os-release", Data: alpine},
			{Package: "b", Path: "etc/os-release", Data: wolfi},
		}, OS{ID: "wolfi", Name: "Wolfi", VersionID: "20230201"}, ""},
		{"none", nil, unknownOS, ""},
		{"dangling link", []OSFile{{Package: "a", Path: "etc/os-release", Link: "../usr/lib/os-release"}}, unknownOS, ""},
		{"malformed", []OSFile{{Package: "bad", Path: "etc/os-release", Data: "ID=x\njunk\n"}}, OS{}, "/etc/os-release from bad: line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OSFromFiles(tt.files)
			if testkit.ErrorCase(t, err, tt.wantErr) {
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestOperatingSystemPackage(t *testing.T) {
	in := testInput()
	in.OS = &OS{ID: "wolfi", Name: "Wolfi", VersionID: "20230201"}
	doc, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, p := range doc.Packages {
		if p.PrimaryPackagePurpose != "OPERATING_SYSTEM" {
			continue
		}
		found = true
		if p.PackageSPDXIdentifier != "OperatingSystem-wolfi" || p.PackageName != "wolfi" || p.PackageVersion != "20230201" ||
			p.PackageSupplier.Supplier != "Wolfi" || p.PackageSupplier.SupplierType != "Organization" {
			t.Errorf("OS package %+v", p)
		}
		if !Reachable(doc, imageID)[p.PackageSPDXIdentifier] {
			t.Error("the OS package is not reachable from the image")
		}
	}
	if !found {
		t.Fatal("no OPERATING_SYSTEM package")
	}
	enc, err := Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := spdxschema.Validate(enc); err != nil {
		t.Fatal(err)
	}
	// An image of no packages still has a document.
	in.Packages = nil
	if _, err := Build(in); err != nil {
		t.Fatalf("empty image: %v", err)
	}
}
