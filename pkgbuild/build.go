// Package pkgbuild packages a directory as melange does: it turns one
// output directory of a melange build (/home/build/melange-out/<name>)
// into a deterministic, signed .apk with melange's .PKGINFO, the
// dependencies melange's analysis generates (package sca), and the SPDX
// document melange ships in every package.
//
// The directory is read through an os.Root: nothing outside it is ever
// opened, no symlink in it is followed while packaging (symlinks are
// packaged as symlinks), and a file that changes while it is packaged is
// an error rather than a package whose checksums lie. Owners, modes
// (setuid, setgid, sticky included), hard links and the extended
// attributes of files are kept; every time is SOURCE_DATE_EPOCH.
package pkgbuild

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/apk/version"
	"github.com/kiln-build/kiln/pkgbuild/sca"
	"github.com/kiln-build/kiln/sbom"
)

// Package is the metadata of one package of a melange build.
type Package struct {
	Name    string
	Version string // full version, <version>-r<epoch>
	Arch    string // apk architecture, e.g. x86_64
	// Origin is the main package of the build; "" means Name (the main
	// package itself).
	Origin      string
	Description string
	URL         string
	Commit      string
	// Licenses are the licences of the copyright entries: one .PKGINFO
	// license line each, and their AND in the SBOM.
	Licenses []string
	// Namespace is melange's --namespace (the distribution): written as
	// maintainer and used as purl namespace and supplier in the SBOM.
	Namespace    string
	Dependencies Dependencies
	Options      PackageOptions
	Scriptlets   Scriptlets
	// Config, when set, is written as the control file .melange.yaml,
	// as melange records the configuration a package was built from.
	Config []byte
	SBOM   SBOMInfo
}

// Dependencies are the configured dependencies; generated ones are added.
type Dependencies struct {
	Runtime  []string
	Provides []string
	Replaces []string
	// Priorities are integers, kept as written.
	ProviderPriority string
	ReplacesPriority string
}

// PackageOptions switch parts of the dependency generation off.
type PackageOptions struct {
	NoProvides bool
	NoDepends  bool
	NoCommands bool
}

// Scriptlets are the package's install scripts. Trigger.Paths are written
// to .PKGINFO even without a Trigger.Script, as melange does.
type Scriptlets struct {
	PreInstall, PostInstall     string
	PreDeinstall, PostDeinstall string
	PreUpgrade, PostUpgrade     string
	Trigger                     Trigger
}

// Trigger is the .trigger scriptlet and the directories it watches.
type Trigger struct {
	Script string
	Paths  []string
}

// SBOMInfo is what the package's SPDX document says beyond its files.
type SBOMInfo struct {
	Copyright   string               // copyright attestations; "" is NOASSERTION
	CPE         string               // cpe:2.3 name, when configured
	Sources     []sbom.SourcePackage // upstream sources (fetch, git-checkout)
	BuildConfig *sbom.SourcePackage  // the recipe
}

// Sibling is another output directory of the same build.
type Sibling struct {
	Name string
	Dir  string
}

// Options configure Build.
type Options struct {
	// Signer signs the control section with RSA-SHA256, as melange
	// does; nil writes an unsigned package.
	Signer *sign.Signer
	// SourceDateEpoch is every mtime, the builddate and the SBOM time.
	SourceDateEpoch int64
	// Siblings are all packages of the build (main package first, then
	// the subpackages in configuration order), for the dependencies a
	// development symlink or an ld.so.conf.d file in one creates on
	// another. The package being built may be among them.
	Siblings []Sibling
	// UIDMap and GIDMap rewrite on-disk owners, e.g. the build user's
	// id to 0, as melange maps its "build" account to root.
	UIDMap, GIDMap map[int]int
	// TempDir holds the data section while the control section, which
	// precedes it, is made; "" is os.TempDir().
	TempDir string
}

// Result describes a written package.
type Result struct {
	// Record is the package's APKINDEX record (Checksum, Size, ...).
	Record   *index.Package
	SHA256   string // of the .apk file
	DataHash string
	// Generated is what dependency analysis found, before it was merged
	// into the configured lists (its warnings included).
	Generated *sca.Result
}

// Filename is the file name of a package in a repository.
func (p *Package) Filename() string { return p.Name + "-" + p.Version + ".apk" }

// Build packages dir and writes the .apk to w.
func Build(ctx context.Context, w io.Writer, dir string, p Package, opts Options) (*Result, error) {
	res, err := build(ctx, w, dir, p, opts)
	if err != nil {
		return nil, fmt.Errorf("package %s-%s: %w", p.Name, p.Version, err)
	}
	return res, nil
}

// BuildFile packages dir as outDir/<name>-<version>.apk, replacing the
// file only once it is complete, and returns its path.
func BuildFile(ctx context.Context, outDir, dir string, p Package, opts Options) (string, *Result, error) {
	if err := p.validate(); err != nil {
		return "", nil, fmt.Errorf("package %s-%s: %w", p.Name, p.Version, err)
	}
	tmp, err := os.CreateTemp(outDir, ".kiln-"+p.Name+"-*.apk.tmp")
	if err != nil {
		return "", nil, fmt.Errorf("package %s-%s: %w", p.Name, p.Version, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	res, err := Build(ctx, tmp, dir, p, opts)
	if err != nil {
		return "", nil, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return "", nil, err
	}
	if err := tmp.Close(); err != nil {
		return "", nil, err
	}
	dst := filepath.Join(outDir, p.Filename())
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", nil, fmt.Errorf("package %s-%s: %w", p.Name, p.Version, err)
	}
	return dst, res, nil
}

// revision is the -r<epoch> every melange full version ends with.
var revision = regexp.MustCompile(`-r[0-9]+$`)

func (p *Package) validate() error {
	if p.Name == "" || strings.ContainsAny(p.Name, "/") || strings.IndexFunc(p.Name, unicode.IsSpace) >= 0 ||
		strings.HasPrefix(p.Name, ".") || strings.HasPrefix(p.Name, "-") {
		return fmt.Errorf("invalid package name %q", p.Name)
	}
	if !version.Valid(p.Version) || !revision.MatchString(p.Version) {
		return fmt.Errorf("invalid package version %q (want <version>-r<epoch>)", p.Version)
	}
	if p.Arch == "" || strings.ContainsAny(p.Arch, "/") || strings.IndexFunc(p.Arch, unicode.IsSpace) >= 0 {
		return fmt.Errorf("invalid architecture %q", p.Arch)
	}
	for _, pr := range []struct{ what, v string }{
		{"provider-priority", p.Dependencies.ProviderPriority},
		{"replaces-priority", p.Dependencies.ReplacesPriority},
	} {
		if pr.v != "" {
			if _, err := strconv.Atoi(pr.v); err != nil {
				return fmt.Errorf("%s %q is not an integer", pr.what, pr.v)
			}
		}
	}
	return nil
}

// controlFiles are the scriptlets and .melange.yaml by control name.
func (p *Package) controlFiles() map[string][]byte {
	files := map[string][]byte{}
	s := p.Scriptlets
	for name, body := range map[string]string{
		".pre-install": s.PreInstall, ".post-install": s.PostInstall,
		".pre-deinstall": s.PreDeinstall, ".post-deinstall": s.PostDeinstall,
		".pre-upgrade": s.PreUpgrade, ".post-upgrade": s.PostUpgrade,
		".trigger": s.Trigger.Script,
	} {
		if body != "" {
			files[name] = []byte(body)
		}
	}
	if p.Config != nil {
		files[".melange.yaml"] = p.Config
	}
	return files
}

func build(ctx context.Context, w io.Writer, dir string, p Package, opts Options) (*Result, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if opts.SourceDateEpoch < 0 {
		return nil, fmt.Errorf("negative SOURCE_DATE_EPOCH %d", opts.SourceDateEpoch)
	}
	if p.Origin == "" {
		p.Origin = p.Name
	}
	mtime := time.Unix(opts.SourceDateEpoch, 0)

	t, err := scan(ctx, dir, scanOptions{uidMap: opts.UIDMap, gidMap: opts.GIDMap})
	if err != nil {
		return nil, err
	}
	defer t.root.Close()

	gen, err := analyze(t, p, opts)
	if err != nil {
		return nil, err
	}
	runtime, provides := sca.Combine(p.Dependencies.Runtime, p.Dependencies.Provides, gen)

	doc, err := sbom.PackageDocument(sbomDoc(t, p, opts.SourceDateEpoch))
	if err != nil {
		return nil, err
	}
	if err := t.addGenerated(sbom.PackageDocumentPath(p.Name, p.Version), doc); err != nil {
		return nil, err
	}

	spool, err := os.CreateTemp(opts.TempDir, "kiln-apk-data-*")
	if err != nil {
		return nil, fmt.Errorf("data section spool: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	buffered := bufio.NewWriterSize(spool, copyBufSize)
	dataHash, err := t.writeData(buffered, mtime)
	if err != nil {
		return nil, err
	}
	if err := buffered.Flush(); err != nil {
		return nil, fmt.Errorf("data section spool: %w", err)
	}

	info := &pkgInfo{
		name: p.Name, version: p.Version, arch: p.Arch,
		installedSize: t.installedSize(),
		origin:        p.Origin, description: p.Description, url: p.URL, commit: p.Commit,
		maintainer: p.Namespace, builddate: opts.SourceDateEpoch, licenses: p.Licenses,
		depends: runtime, provides: provides, replaces: p.Dependencies.Replaces,
		vendored:         gen.Vendored,
		providerPriority: p.Dependencies.ProviderPriority, replacesPriority: p.Dependencies.ReplacesPriority,
		triggers: p.Scriptlets.Trigger.Paths, dataHash: dataHash,
	}
	pkginfo, err := info.format()
	if err != nil {
		return nil, err
	}
	control, err := controlSection(pkginfo, p.controlFiles(), mtime)
	if err != nil {
		return nil, err
	}

	digest := sha256.New()
	out := &countingWriter{w: io.MultiWriter(w, digest)}
	if opts.Signer != nil {
		sig, err := opts.Signer.Sign(sign.SHA256, sign.Digest(sign.SHA256, control))
		if err != nil {
			return nil, err
		}
		if err := sign.WriteSegment(out, sig); err != nil {
			return nil, err
		}
	}
	if _, err := out.Write(control); err != nil {
		return nil, err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("data section spool: %w", err)
	}
	if _, err := io.Copy(out, spool); err != nil {
		return nil, err
	}

	rec, _, err := pkg.ParsePkgInfo(pkginfo)
	if err != nil {
		return nil, fmt.Errorf("own .PKGINFO does not parse: %w", err)
	}
	rec.Checksum = controlChecksum(control)
	rec.Size = uint64(out.n)
	return &Result{Record: rec, SHA256: hex.EncodeToString(digest.Sum(nil)), DataHash: dataHash, Generated: gen}, nil
}

// controlChecksum is the APKINDEX C: value: apk's "Q1" and the base64
// SHA-1 of the compressed control section.
func controlChecksum(control []byte) string {
	s := sha1.Sum(control)
	return "Q1" + base64.StdEncoding.EncodeToString(s[:])
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// analyze runs dependency analysis over the package and its siblings.
func analyze(t *tree, p Package, opts Options) (*sca.Result, error) {
	in := sca.Input{
		Name: p.Name, Version: p.Version, FS: t.root.FS(), Declared: p.Dependencies.Runtime,
		Options:  sca.Options{NoProvides: p.Options.NoProvides, NoDepends: p.Options.NoDepends, NoCommands: p.Options.NoCommands},
		ELFFiles: map[string]bool{},
	}
	for _, n := range t.nodes {
		if n.elf {
			in.ELFFiles[n.name] = true
		}
	}
	for _, s := range opts.Siblings {
		if s.Name == p.Name {
			in.Relatives = append(in.Relatives, sca.Relative{Name: s.Name, FS: in.FS})
			continue
		}
		r, err := os.OpenRoot(s.Dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a sibling with no output yet has nothing to point into
		}
		if err != nil {
			return nil, fmt.Errorf("sibling %s: %w", s.Name, err)
		}
		defer r.Close()
		in.Relatives = append(in.Relatives, sca.Relative{Name: s.Name, FS: r.FS()})
	}
	return sca.Analyze(in)
}

// sbomDoc describes the package's files for its SPDX document.
func sbomDoc(t *tree, p Package, epoch int64) sbom.PackageDoc {
	d := sbom.PackageDoc{
		Name: p.Name, Version: p.Version, Arch: p.Arch, Licenses: p.Licenses,
		Copyright: p.SBOM.Copyright, Namespace: p.Namespace, Description: p.Description, URL: p.URL,
		CPE: p.SBOM.CPE, SourceDateEpoch: epoch, Sources: p.SBOM.Sources, BuildConfig: p.SBOM.BuildConfig,
	}
	byName := map[string]*node{}
	for _, n := range t.nodes {
		if n.typ == tar.TypeReg {
			byName[n.name] = n
		}
	}
	sbomPath := sbom.PackageDocumentPath(p.Name, p.Version)
	for _, n := range t.nodes {
		src := n
		if n.typ == tar.TypeLink {
			src = byName[n.link]
		}
		if src == nil || src.typ != tar.TypeReg || n.name == sbomPath {
			continue
		}
		d.Files = append(d.Files, sbom.PackageFile{
			Path: n.name, SHA1: hex.EncodeToString(src.sha1[:]), SHA256: hex.EncodeToString(src.sha256[:]),
		})
	}
	return d
}
