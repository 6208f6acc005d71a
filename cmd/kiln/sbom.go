package main

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/kiln-build/kiln/apk/arch"
	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/imagefs"
	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/sbom"
)

// runSBOM writes the SPDX document a build of an apko.yaml attaches for
// one architecture, from the host: it resolves the config like the build
// (all its archs together), then reads every .apk for its SHA-256 and the
// SPDX documents it ships.
func runSBOM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiln sbom", flag.ContinueOnError)
	fs.SetOutput(stderr)
	archFlag := fs.String("arch", "", "apk architecture to describe; needed when the config lists several")
	output := fs.String("o", "", "write the document to `FILE` instead of stdout")
	defaultEpoch := int64(0)
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return usageError{fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970", v)}
		}
		defaultEpoch = n
	}
	epoch := fs.Int64("source-date-epoch", defaultEpoch, "document creation time, seconds since 1970 (default $SOURCE_DATE_EPOCH, else 0), as the build arg")
	var h hostFlags
	h.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kiln sbom [--context DIR] [--arch ARCH] [-o FILE] [--source-date-epoch N] apko.yaml")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{fmt.Errorf("want one apko.yaml")}
	}
	// All the config's archs resolve together, as in a build without
	// --platform; the document describes one of them.
	pl, src, err := planOnHost(ctx, h, fs.Arg(0), nil, plan.Options{SourceDateEpoch: *epoch})
	if err != nil {
		return err
	}
	var archs []string
	var p *plan.Platform
	want := *archFlag
	if want != "" {
		if want, err = arch.Normalize(want); err != nil {
			return usageError{err}
		}
	}
	for _, pp := range pl.Platforms {
		archs = append(archs, pp.Arch)
		if pp.Arch == want || want == "" && len(pl.Platforms) == 1 {
			p = pp
		}
	}
	switch {
	case p == nil && want == "":
		return usageError{fmt.Errorf("%s builds for %v: pick one with --arch", fs.Arg(0), archs)}
	case p == nil:
		return usageError{fmt.Errorf("--arch %s: %s builds only for %v", want, fs.Arg(0), archs)}
	}
	in := p.SBOM
	var osFiles []sbom.OSFile
	for i, pk := range p.Packages {
		r, err := readPackage(ctx, src, pl.Keys, p.Arch, pk)
		if err != nil {
			return err
		}
		in.Packages[i].SHA256, in.Packages[i].Embedded = r.sha256, r.embedded
		osFiles = append(osFiles, r.osFiles...)
	}
	osr, err := sbom.OSFromFiles(osFiles)
	if err != nil {
		return err
	}
	in.OS = &osr
	enc, err := sbom.Document(in)
	if err != nil {
		return err
	}
	if *output == "" {
		_, err = stdout.Write(enc)
		return err
	}
	return os.WriteFile(*output, enc, 0o644)
}

// packageFacts is what only a package's file says for the SBOM.
type packageFacts struct {
	sha256   string
	embedded []sbom.Embedded
	osFiles  []sbom.OSFile
}

// readPackage fetches and verifies one .apk, as the build's install step
// does, and returns its SHA-256, the SPDX documents it ships and its
// os-release files.
func readPackage(ctx context.Context, src *plan.HostSource, keys map[string][]byte, targetArch string, p plan.Package) (packageFacts, error) {
	var r packageFacts
	kr := sign.NewKeyring()
	for name, data := range keys {
		if err := kr.Add(name, data); err != nil {
			return r, err
		}
	}
	rc, loc, err := src.Open(ctx, p, targetArch)
	if err != nil {
		return r, err
	}
	defer rc.Close()
	sum := sha256.New()
	pr, err := pkg.Open(io.TeeReader(rc, sum), pkg.ReadOptions{Keyring: kr, ExpectedChecksum: p.Checksum, Name: loc})
	if err != nil {
		return r, err
	}
	defer pr.Close()
	var total int64
	for {
		hdr, err := pr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return r, err
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		if slices.Contains(sbom.OSReleasePaths, name) {
			switch {
			case hdr.Typeflag == tar.TypeSymlink:
				r.osFiles = append(r.osFiles, sbom.OSFile{Package: p.Name, Path: name, Link: hdr.Linkname})
			case hdr.FileInfo().Mode().IsRegular() && hdr.Size <= 64<<10:
				data, err := io.ReadAll(pr)
				if err != nil {
					return r, err
				}
				r.osFiles = append(r.osFiles, sbom.OSFile{Package: p.Name, Path: name, Data: string(data)})
			}
			continue
		}
		if !hdr.FileInfo().Mode().IsRegular() || !sbom.IsEmbeddedSBOM(hdr.Name) {
			continue
		}
		if hdr.Size > imagefs.MaxEmbeddedSBOM || total+hdr.Size > imagefs.MaxEmbeddedSBOMTotal {
			return r, fmt.Errorf("%s: %s is %d bytes, more than kiln reads of a package's SBOM", loc, hdr.Name, hdr.Size)
		}
		total += hdr.Size
		data, err := io.ReadAll(pr)
		if err != nil {
			return r, err
		}
		r.embedded = append(r.embedded, sbom.Embedded{Path: sbom.EmbeddedDir + "/" + path.Base(hdr.Name), Data: data})
	}
	// Whatever follows the data member (nothing, in a valid package) is
	// part of the file the SHA-256 names.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return r, err
	}
	r.sha256 = hex.EncodeToString(sum.Sum(nil))
	return r, nil
}
