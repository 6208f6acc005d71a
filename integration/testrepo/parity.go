package testrepo

import (
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io/fs"
	"math/big"
	"time"

	"github.com/kiln-build/kiln/apk/apktest"
)

// parityPackages are what the apko-parity examples install: a usr-merged
// baselayout (as current Wolfi ships it), stand-ins for s6 and execline
// (shell scripts that run a service bundle's services once, in place of
// the real supervisor), and a CA bundle package that also provides a
// corporate certificate.
func parityPackages(o Options) []apktest.Package {
	dir := func(p string, mode fs.FileMode) apktest.File { return apktest.File{Path: p, Dir: true, Mode: mode} }
	return []apktest.Package{
		{
			Name: "kiln-merged-baselayout", Version: o.version("kiln-merged-baselayout", "1.0-r0"), License: "MIT",
			Provides: []string{"merged-lib=1", "merged-bin=1"},
			Files: []apktest.File{
				dir("etc", 0o755), dir("home", 0o755), dir("root", 0o700), dir("tmp", 0o777|fs.ModeSticky),
				dir("usr", 0o755), dir("usr/bin", 0o755), dir("usr/lib", 0o755), dir("usr/sbin", 0o755), dir("var", 0o755),
				{Path: "bin", Symlink: "usr/bin"}, {Path: "sbin", Symlink: "usr/sbin"}, {Path: "lib", Symlink: "usr/lib"},
				{Path: "etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/bin/sh\n")},
				{Path: "etc/group", Data: []byte("root:x:0:\nnonroot:x:65532:\n")},
				// As Alpine and Wolfi ship it: a link into /usr/lib.
				{Path: "etc/os-release", Symlink: "../usr/lib/os-release"},
				{Path: "usr/lib/os-release", Data: []byte("ID=kiln-merged\nNAME=\"kiln merged test\"\nVERSION_ID=2.0\n")},
			},
		},
		{
			Name: "s6", Version: o.version("s6", "2.12-r0"), License: "ISC", Depends: []string{"execline"},
			Files: []apktest.File{dir("bin", 0o755),
				// Runs every service once, in name order, instead of
				// supervising them: enough to see the bundle's wiring.
				{Path: "bin/s6-svscan", Mode: 0o755, Data: []byte("#!/bin/sh\nfor run in \"$1\"/*/run; do \"$run\"; done\n")}},
		},
		{
			Name: "execline", Version: o.version("execline", "2.9-r0"), License: "ISC",
			Files: []apktest.File{dir("bin", 0o755),
				// Runs the script's command line (everything after the
				// #! line) with sh, as execlineb would run it.
				{Path: "bin/execlineb", Mode: 0o755, Data: []byte("#!/bin/sh\nexec sh -c \"$(sed 1d \"$1\")\"\n")}},
		},
		{
			Name: "ca-certificates-bundle", Version: o.version("ca-certificates-bundle", "20240705-r0"), License: "MPL-2.0",
			Provides: []string{"kiln-test-corporate-ca"},
			Files: []apktest.File{dir("etc", 0o755), dir("etc/ssl", 0o755), dir("etc/ssl/certs", 0o755),
				{Path: "etc/ssl/certs/ca-certificates.crt", Data: append([]byte("# kiln test bundle\n"), TestCertificate("kiln test public root")...)},
				dir("usr", 0o755), dir("usr/local", 0o755), dir("usr/local/share", 0o755), dir("usr/local/share/ca-certificates", 0o755),
				{Path: "usr/local/share/ca-certificates/corporate.crt", Data: TestCertificate("kiln test corporate root")}},
		},
	}
}

// TestCertificate is a self-signed CA certificate (PEM) named cn, the same
// bytes for the same name every time: ed25519 keys come from a seed and
// ed25519 signatures are deterministic.
func TestCertificate(cn string) []byte {
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, cn)
	key := ed25519.NewKeyFromSeed(seed)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Unix(0, 0).UTC(), NotAfter: time.Unix(4102444800, 0).UTC(),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		panic(err) // fixed inputs: cannot fail
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
