package pkgbuild

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/pkgbuild/internal/elftest"
	"github.com/kiln-build/kiln/sbom"
	"github.com/kiln-build/kiln/sbom/spdxschema"
)

func copyInto(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

// TestBuildWithCompiledELF packages a real library, a program linking it
// and a development subpackage, as a melange build with subpackages
// would, and checks the generated provides and depends.
func TestBuildWithCompiledELF(t *testing.T) {
	o := elftest.Compile(t)
	out := t.TempDir() // melange-out
	main, lib, dev := filepath.Join(out, "kilntest"), filepath.Join(out, "libkilntest"), filepath.Join(out, "kilntest-dev")
	copyInto(t, o.Program, filepath.Join(main, "usr/bin/kilntest"), 0o755)
	copyInto(t, o.Lib, filepath.Join(lib, "usr/lib", elftest.SOName), 0o755)
	copyInto(t, "/dev/null", filepath.Join(dev, "usr/include/kilntest.h"), 0o644)
	if err := os.MkdirAll(filepath.Join(dev, "usr/lib/pkgconfig"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elftest.SOName, filepath.Join(dev, "usr/lib/libkilntest.so")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dev, "usr/lib/pkgconfig/kilntest.pc"), []byte("Name: kilntest\nVersion: 1\nLibs: -lkilntest\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	siblings := []Sibling{{"kilntest", main}, {"libkilntest", lib}, {"kilntest-dev", dev}}
	const ver = "1.0-r3"
	tests := []struct {
		name          string
		dir           string
		opts          PackageOptions
		depends       []string // exactly, besides the loader (so:ld-*)
		provides      []string
		wantLoaderDep bool
	}{
		{"program", main, PackageOptions{},
			[]string{"so:libc.so.6", "so:" + elftest.SOName}, []string{"cmd:kilntest=" + ver}, true},
		{"library", lib, PackageOptions{},
			nil, []string{"so-ver:" + elftest.SOName + "=" + ver, "so:" + elftest.SOName + "=1"}, false},
		{"development files", dev, PackageOptions{},
			[]string{"so:" + elftest.SOName}, []string{"pc:kilntest=" + ver}, false},
		{"program, no-depends", main, PackageOptions{NoDepends: true},
			nil, []string{"cmd:kilntest=" + ver}, false},
		{"program, no-commands", main, PackageOptions{NoCommands: true},
			[]string{"so:libc.so.6", "so:" + elftest.SOName}, nil, true},
		{"library, no-provides", lib, PackageOptions{NoProvides: true}, nil, nil, false},
	}
	s := signer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Package{Name: filepath.Base(tt.dir), Version: ver, Arch: "x86_64", Origin: "kilntest", Options: tt.opts}
			apk, res := buildBytes(t, tt.dir, p, Options{Signer: s, Siblings: siblings})
			info := openVerified(t, apk, s).r.Info
			deps := slices.DeleteFunc(slices.Clone(info.Dependencies), func(d string) bool { return strings.HasPrefix(d, "so:ld-") })
			if got := len(deps) != len(info.Dependencies); got != tt.wantLoaderDep {
				t.Errorf("loader dependency in %v: %v, want %v", info.Dependencies, got, tt.wantLoaderDep)
			}
			if !equalish(deps, tt.depends) {
				t.Errorf("depends %q, want %q", deps, tt.depends)
			}
			if !equalish(info.Provides, tt.provides) {
				t.Errorf("provides %q, want %q", info.Provides, tt.provides)
			}
			if len(res.Generated.Warnings) > 0 {
				t.Errorf("warnings %q", res.Generated.Warnings)
			}
		})
	}
}

func equalish(a, b []string) bool { return len(a) == 0 && len(b) == 0 || slices.Equal(a, b) }

// TestImageSBOMMerge builds packages and runs the image SBOM code over
// them, as kiln does for an image that installs melange-built packages.
func TestImageSBOMMerge(t *testing.T) {
	s := signer(t)
	var in sbom.Input
	in.Arch, in.Platform, in.ImageName = "x86_64", "linux/amd64", "merge-test"
	for _, p := range []struct{ name, file string }{{"hello", "usr/bin/hello"}, {"hello-doc", "usr/share/doc/hello/README"}} {
		pk := basePackage()
		pk.Name, pk.Origin, pk.Namespace = p.name, "hello", "wolfi"
		pk.SBOM.Sources = []sbom.SourcePackage{{Name: "hello", Version: "2.12", DownloadLocation: "https://ftp.gnu.org/gnu/hello/hello-2.12.tar.gz"}}
		apk, res := buildBytes(t, makeTree(t, entry{path: p.file, mode: 0o755, data: "content of " + p.file}), pk, Options{Signer: s, SourceDateEpoch: 7})
		o := openVerified(t, apk, s)
		ip := sbom.FromIndex(res.Record, "https://packages.wolfi.dev/os", nil)
		ip.SHA256 = res.SHA256
		for name, data := range o.data {
			if sbom.IsEmbeddedSBOM(name) {
				ip.Embedded = append(ip.Embedded, sbom.Embedded{Path: name, Data: data})
			}
		}
		if len(ip.Embedded) != 1 {
			t.Fatalf("%s ships %d SBOMs", p.name, len(ip.Embedded))
		}
		in.Packages = append(in.Packages, ip)
	}
	enc, err := sbom.Document(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := spdxschema.Validate(enc); err != nil {
		t.Fatalf("merged image SBOM is not valid SPDX 2.3: %v", err)
	}
	for _, want := range []string{`"fileName": "/usr/bin/hello"`, `"fileName": "/usr/share/doc/hello/README"`, `"GENERATED_FROM"`} {
		if !strings.Contains(string(enc), want) {
			t.Errorf("merged SBOM lacks %s", want)
		}
	}
	// Both subpackages name the same upstream source: merged once.
	if n := strings.Count(string(enc), `"downloadLocation": "https://ftp.gnu.org/gnu/hello/hello-2.12.tar.gz"`); n != 1 {
		t.Errorf("upstream source listed %d times, want once", n)
	}
}

// A hard link is analysed under each of its names, as melange's walk
// sees each: here the library is provided from usr/lib and vendored
// from a private directory.
func TestHardLinkedLibrary(t *testing.T) {
	o := elftest.Compile(t)
	dir := t.TempDir()
	copyInto(t, o.Lib, filepath.Join(dir, "usr/lib", elftest.SOName), 0o755)
	if err := os.MkdirAll(filepath.Join(dir, "opt/app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "usr/lib", elftest.SOName), filepath.Join(dir, "opt/app", elftest.SOName)); err != nil {
		t.Fatal(err)
	}
	p := Package{Name: "libkilntest", Version: "1.0-r0", Arch: "x86_64"}
	_, res := buildBytes(t, dir, p, Options{})
	want := []string{"so-ver:" + elftest.SOName + "=1.0-r0", "so:" + elftest.SOName + "=1"}
	if !slices.Equal(res.Generated.Vendored, want) || !slices.Equal(res.Record.Provides, want) {
		t.Errorf("vendored %q provides %q, want both %q", res.Generated.Vendored, res.Record.Provides, want)
	}
}
