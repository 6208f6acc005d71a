package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"encoding/json"

	"github.com/kiln-build/kiln/apk/install"
	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/imagefs"
	"github.com/kiln-build/kiln/sbom"
)

// The steps below run inside kiln's exec ops, not on users' hosts: the
// frontend's LLB calls them with fixed mount points (see kiln/llb).

// apkDigestsFile lists "name sha256" of each installed .apk, for the SBOM.
const apkDigestsFile = "apk-sha256"

// embeddedSBOMDir holds, per package, the SPDX documents it ships.
const embeddedSBOMDir = "sbom"

// runInstallAPK verifies and extracts a layer's packages into --out and
// leaves their installed-database fragment in --meta (outside the image).
func runInstallAPK(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiln install-apk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory to extract into (the layer)")
	meta := fs.String("meta", "", "directory for the installed-database fragment")
	keyring := fs.String("keyring", "", "directory of trusted public keys")
	epoch := fs.Int64("source-date-epoch", 0, "mtime of every extracted entry")
	var expects stringList
	fs.Var(&expects, "expect", "`FILE=Q1...`: the index checksum FILE must have (required for every file)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *meta == "" || *keyring == "" || fs.NArg() == 0 {
		return usageError{fmt.Errorf("need --out, --meta, --keyring and at least one .apk")}
	}
	want := map[string]string{}
	for _, e := range expects {
		file, sum, ok := strings.Cut(e, "=")
		if !ok || sum == "" {
			return usageError{fmt.Errorf("--expect %q: want FILE=CHECKSUM", e)}
		}
		want[file] = sum
	}
	kr, err := sign.LoadKeyring(*keyring)
	if err != nil {
		return err
	}
	inst, err := install.New(*out, install.Options{SourceDateEpoch: *epoch, Chown: install.ChownAlways})
	if err != nil {
		return err
	}
	defer inst.Close()
	var digests []string
	for _, file := range fs.Args() {
		sum, ok := want[file]
		if !ok {
			return fmt.Errorf("%s: no --expect checksum: kiln installs only packages it can check against a signed index", file)
		}
		digest, err := installOne(inst, file, sum, kr)
		if err != nil {
			return err
		}
		digests = append(digests, digest)
	}
	// The fragment is a small installed database of its own, laid out
	// where install.LoadDatabase looks for one.
	frag, err := install.New(*meta, install.Options{SourceDateEpoch: *epoch, Chown: install.ChownAlways})
	if err != nil {
		return err
	}
	defer frag.Close()
	if err := frag.AddInstalled(inst.Packages()); err != nil {
		return err
	}
	if err := frag.WriteDatabase(install.DatabaseFiles{}); err != nil {
		return err
	}
	if err := copyEmbeddedSBOMs(inst, *out, *meta); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*meta, apkDigestsFile), []byte(strings.Join(digests, "\n")+"\n"), 0o644)
}

// Limits on the SPDX documents packages carry, which the SBOM step reads
// into memory.
const (
	maxEmbeddedSBOM      = 32 << 20
	maxEmbeddedSBOMTotal = 256 << 20
)

// copyEmbeddedSBOMs keeps each package's own SPDX documents (melange puts
// them under var/lib/db/sbom) in the fragment as sbom/<package>/<file>,
// so the SBOM step knows which package shipped which document.
func copyEmbeddedSBOMs(inst *install.Installer, out, meta string) error {
	root, err := os.OpenRoot(out)
	if err != nil {
		return err
	}
	defer root.Close()
	var total int64
	for _, p := range inst.Packages() {
		for _, f := range inst.Files(p.Name) {
			if !sbom.IsEmbeddedSBOM(f.Path) || f.Checksum == "" {
				continue
			}
			fi, err := root.Lstat(f.Path)
			if err != nil || !fi.Mode().IsRegular() {
				continue // a symlink or replaced by a later package: not this package's document
			}
			if fi.Size() > maxEmbeddedSBOM || total+fi.Size() > maxEmbeddedSBOMTotal {
				return fmt.Errorf("%s: %s is %d bytes, more than kiln reads of a package's SBOM", p.Name, f.Path, fi.Size())
			}
			total += fi.Size()
			data, err := root.ReadFile(f.Path)
			if err != nil {
				return err
			}
			if sum := sha1.Sum(data); "Q1"+base64.StdEncoding.EncodeToString(sum[:]) != f.Checksum {
				continue // a later package in this layer replaced it
			}
			dir := filepath.Join(meta, embeddedSBOMDir, p.Name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, path.Base(f.Path)), data, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// installOne installs one .apk and returns "name sha256-of-file".
func installOne(inst *install.Installer, file, checksum string, kr *sign.Keyring) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	tee := io.TeeReader(f, h)
	p, err := inst.InstallAPK(tee, pkg.ReadOptions{Keyring: kr, ExpectedChecksum: checksum, Name: filepath.Base(file)})
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return "", err
	}
	return p.Name + " " + hex.EncodeToString(h.Sum(nil)), nil
}

// runImageMeta merges the layers' database fragments, checks that no two
// layers claim a path against apk's rules, and writes the metadata layer.
func runImageMeta(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiln image-meta", flag.ContinueOnError)
	fs.SetOutput(stderr)
	specPath := fs.String("spec", "", "JSON image spec from the frontend")
	rootfs := fs.String("rootfs", "", "the merged package layers (read-only)")
	keyring := fs.String("keyring", "", "directory of the image's apk keys")
	out := fs.String("out", "", "directory to write the metadata layer into")
	epoch := fs.Int64("source-date-epoch", 0, "mtime of every written entry")
	var metas stringList
	fs.Var(&metas, "meta", "a layer's database fragment directory, in layer order (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *specPath == "" || *rootfs == "" || *out == "" || len(metas) == 0 {
		return usageError{fmt.Errorf("need --spec, --rootfs, --out and --meta")}
	}
	specData, err := os.ReadFile(*specPath)
	if err != nil {
		return err
	}
	var spec imagefs.Spec
	if err := json.Unmarshal(specData, &spec); err != nil {
		return fmt.Errorf("image spec: %w", err)
	}
	var layers [][]install.InstalledPackage
	for _, m := range metas {
		frag, err := install.New(m, install.Options{SourceDateEpoch: *epoch, Chown: install.ChownNever})
		if err != nil {
			return err
		}
		if err := frag.LoadDatabase(); err != nil {
			frag.Close()
			return err
		}
		layers = append(layers, frag.Packages())
		frag.Close()
	}
	all, err := install.MergeLayers(layers)
	if err != nil {
		return err
	}
	keys, err := readKeys(*keyring)
	if err != nil {
		return err
	}
	var scripts bytes.Buffer
	if err := install.WriteScriptsTar(&scripts, all, *epoch); err != nil {
		return err
	}
	in := imagefs.Input{Spec: &spec, Lower: *rootfs, Out: *out, Epoch: time.Unix(*epoch, 0),
		InstalledDB: install.EncodeInstalled(all), Scripts: scripts.Bytes(), Keys: keys}
	for _, p := range all {
		in.Packages = append(in.Packages, imagefs.Installed{Name: p.Name, Provides: p.Provides})
	}
	return imagefs.Generate(in)
}

func readKeys(dir string) (map[string][]byte, error) {
	if dir == "" {
		return nil, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	keys := map[string][]byte{}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		keys[n] = b
	}
	return keys, nil
}
