// Package testrepo writes the signed apk repository that kiln's examples
// and end-to-end tests install from: a real busybox (Debian's static
// binary) and small packages that exercise what images need: a
// baselayout with accounts, a shared library and a binary that links it
// by so: name, setuid and non-root files, symlinks and hard links.
package testrepo

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/sign"
)

// Options says what to write.
type Options struct {
	Dir      string            // repository directory (gets <arch>/ and the key)
	Signer   *sign.Signer      // signs packages and indexes
	Busybox  map[string]string // apk arch -> static busybox binary for that arch
	ListWith string            // a busybox this host runs, to list applets
	// Versions overrides package versions (name -> version), so a test can
	// bump one package and rebuild.
	Versions map[string]string
	// Filler adds this many extra leaf packages (filler-NN), for the
	// 30+ package benchmark image.
	Filler int
	// GoRoot, when set, adds a go toolchain package made from that GOROOT
	// (for the host's architecture only).
	GoRoot string
	// Bulk adds that many packages bulk-NN of real files from BulkFrom
	// (about 110 MB in all), for the large benchmark image.
	Bulk     int
	BulkFrom string
}

// Write writes the repository and returns the index records per arch.
func Write(o Options) (map[string][]*index.Package, error) {
	if _, err := apktest.WriteKey(o.Dir, o.Signer); err != nil {
		return nil, err
	}
	r := apktest.NewRepo(o.Dir, o.Signer)
	for arch, bin := range o.Busybox {
		bb, err := apktest.BusyboxPackage(bin, o.ListWith, o.version("busybox", "1.36.1-r0"))
		if err != nil {
			return nil, err
		}
		pkgs := append([]apktest.Package{bb}, o.packages(arch)...)
		bulk, err := bulkPackages(o)
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, bulk...)
		if o.GoRoot != "" && arch == hostArch() {
			g, err := GoPackage(o.GoRoot)
			if err != nil {
				return nil, err
			}
			pkgs = append(pkgs, g)
		}
		r.Add(arch, pkgs...)
	}
	return r.Write()
}

func (o Options) version(name, def string) string {
	if v, ok := o.Versions[name]; ok {
		return v
	}
	return def
}

func (o Options) packages(arch string) []apktest.Package {
	dir := func(p string, mode fs.FileMode) apktest.File { return apktest.File{Path: p, Dir: true, Mode: mode} }
	pkgs := []apktest.Package{
		{
			Name: "kiln-baselayout", Version: o.version("kiln-baselayout", "1.0-r0"), License: "MIT",
			Files: []apktest.File{
				dir("etc", 0o755), dir("home", 0o755), dir("root", 0o700), dir("tmp", 0o777|fs.ModeSticky),
				dir("usr", 0o755), dir("usr/bin", 0o755), dir("usr/lib", 0o755), dir("var", 0o755),
				{Path: "etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n")},
				{Path: "etc/group", Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
				{Path: "etc/os-release", Data: []byte("ID=kiln-test\nNAME=\"kiln test\"\n")},
			},
		},
		{
			Name: "libhello", Version: o.version("libhello", "1.0-r0"), License: "Apache-2.0",
			Provides: []string{"so:libhello.so.1=1.0"},
			Files: []apktest.File{
				dir("usr", 0o755), dir("usr/lib", 0o755),
				{Path: "usr/lib/libhello.so.1.0", Mode: 0o755, Data: []byte("not really an ELF, but bytes with a name\n")},
				{Path: "usr/lib/libhello.so.1", Symlink: "libhello.so.1.0"},
			},
		},
		{
			Name: "hello", Version: o.version("hello", "2.12-r0"), License: "GPL-3.0-or-later",
			Depends: []string{"so:libhello.so.1"},
			Files: []apktest.File{
				dir("usr", 0o755), dir("usr/bin", 0o755),
				// Contents carry the version, as a rebuilt binary's would.
				{Path: "usr/bin/hello", Mode: 0o755, Data: helloScript(o.version("hello", "2.12-r0"))},
				{Path: "usr/bin/hi", Hardlink: "usr/bin/hello"},
				// hello is "built by melange": it ships its own SPDX document.
				dir("var", 0o755), dir("var/lib", 0o755), dir("var/lib/db", 0o755), dir("var/lib/db/sbom", 0o755),
				{Path: "var/lib/db/sbom/hello-" + o.version("hello", "2.12-r0") + ".spdx.json",
					Data: melangeSBOM("hello", o.version("hello", "2.12-r0"), arch, "usr/bin/hello", helloScript(o.version("hello", "2.12-r0")))},
			},
		},
		{
			Name: "suid-tool", Version: o.version("suid-tool", "0.3-r1"), License: "BSD-2-Clause",
			Files: []apktest.File{
				dir("usr", 0o755), dir("usr/bin", 0o755), dir("var", 0o755),
				{Path: "var/lib", Dir: true, Mode: 0o755},
				{Path: "var/lib/suid-tool", Dir: true, Mode: 0o750, Uid: 1000, Gid: 1000},
				{Path: "var/lib/suid-tool/state", Mode: 0o640, Uid: 1000, Gid: 1000, Data: []byte("owned by 1000\n")},
				{Path: "usr/bin/suid-tool", Mode: 0o755 | fs.ModeSetuid, Data: []byte("#!/bin/sh\nid -u\n")},
			},
		},
	}
	pkgs = append(pkgs, parityPackages(o)...)
	pkgs = append(pkgs, buildBase(o))
	for i := 0; i < o.Filler; i++ {
		name := fmt.Sprintf("filler-%02d", i)
		data := make([]byte, 4096*(i%8+1))
		for j := range data {
			data[j] = byte(i*31 + j*7)
		}
		copy(data, name+"-"+o.version(name, "1.0-r0")) // a bump changes bytes
		pkgs = append(pkgs, apktest.Package{
			Name: name, Version: o.version(name, "1.0-r0"), License: "MIT",
			Files: []apktest.File{dir("usr", 0o755), dir("usr/share", 0o755), dir("usr/share/"+name, 0o755),
				{Path: "usr/share/" + name + "/data.bin", Data: data}},
		})
	}
	return pkgs
}

// HostBusybox returns the static busybox Debian's busybox-static
// installs, or "" when it is not there.
func HostBusybox() string {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			abs, _ := filepath.Abs(p)
			return abs
		}
	}
	return ""
}

func helloScript(version string) []byte {
	return []byte("#!/bin/sh\necho hello from kiln " + version + "\n")
}

// melangeSBOM writes the SPDX document melange packs into the packages it
// builds: the package described, the recipe it is DESCRIBED_BY, the
// upstream source it is GENERATED_FROM, and its files with checksums.
func melangeSBOM(name, version, arch, file string, data []byte) []byte {
	pkgID := "SPDXRef-Package-" + name + "-" + version
	fileID := "SPDXRef-File--" + strings.ReplaceAll(file, "/", "-")
	sha1sum, sha256sum := sha1.Sum(data), sha256.Sum256(data)
	doc := map[string]any{
		"SPDXID":            "SPDXRef-DOCUMENT",
		"name":              "apk-" + name + "-" + version,
		"spdxVersion":       "SPDX-2.3",
		"dataLicense":       "CC0-1.0",
		"documentNamespace": "https://spdx.org/spdxdocs/kiln-test/melange/" + name + "-" + version,
		"creationInfo":      map[string]any{"created": "1970-01-01T00:00:00Z", "creators": []string{"Tool: melange (kiln test fixture)"}},
		"documentDescribes": []string{pkgID},
		"files": []map[string]any{{
			"SPDXID": fileID, "fileName": "/" + file, "licenseConcluded": "NOASSERTION",
			"checksums": []map[string]string{
				{"algorithm": "SHA1", "checksumValue": hex.EncodeToString(sha1sum[:])},
				{"algorithm": "SHA256", "checksumValue": hex.EncodeToString(sha256sum[:])},
			},
		}},
		"packages": []map[string]any{
			{"SPDXID": pkgID, "name": name, "versionInfo": version, "filesAnalyzed": false,
				"licenseDeclared": "GPL-3.0-or-later", "downloadLocation": "NOASSERTION",
				"externalRefs": []map[string]string{{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
					"referenceLocator": "pkg:apk/kiln-test/" + name + "@" + version + "?arch=" + arch}}},
			{"SPDXID": "SPDXRef-Package-" + name + ".yaml-0123abcd", "name": name + ".yaml", "versionInfo": "0123abcd",
				"filesAnalyzed": false, "licenseDeclared": "Apache-2.0", "downloadLocation": "NOASSERTION",
				"externalRefs": []map[string]string{{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
					"referenceLocator": "pkg:github/kiln-build/kiln@0123abcd#" + name + ".yaml"}}},
			{"SPDXID": "SPDXRef-Package-gnu-" + name + "-2.12", "name": name, "versionInfo": "2.12",
				"filesAnalyzed": false, "licenseDeclared": "GPL-3.0-or-later",
				"downloadLocation": "https://ftp.gnu.org/gnu/hello/hello-2.12.tar.gz",
				"externalRefs": []map[string]string{{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
					"referenceLocator": "pkg:generic/hello@2.12?download_url=https://ftp.gnu.org/gnu/hello/hello-2.12.tar.gz"}}},
		},
		"relationships": []map[string]string{
			{"spdxElementId": pkgID, "relationshipType": "DESCRIBED_BY", "relatedSpdxElement": "SPDXRef-Package-" + name + ".yaml-0123abcd"},
			{"spdxElementId": pkgID, "relationshipType": "GENERATED_FROM", "relatedSpdxElement": "SPDXRef-Package-gnu-" + name + "-2.12"},
			{"spdxElementId": pkgID, "relationshipType": "CONTAINS", "relatedSpdxElement": fileID},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}
