package imagefs

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kiln-build/kiln/apk/install"
	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/sbom"
	"github.com/kiln-build/kiln/step"
)

// Limits on the SPDX documents packages carry, which the SBOM step reads
// into memory.
const (
	MaxEmbeddedSBOM      = 32 << 20
	MaxEmbeddedSBOMTotal = 256 << 20
)

// InstallAPK runs an install step over a batch of layers: each layer's
// packages are verified against the keyring and their index checksums
// while they are extracted into the layer's output, through the symlinks
// of every layer below; each layer's record (an installed database
// fragment, each .apk's SHA-256, the SPDX documents and os-release files
// its packages ship) goes to its own record directory, outside the image.
// Last, the links record for the next batch and, when it had a Lower, the
// paths it looked up there (for image-meta's check of batches run side
// by side).
func InstallAPK(s step.InstallAPK) error {
	keys, err := readKeys(s.Keyring)
	if err != nil {
		return err
	}
	kr, err := keyring(keys)
	if err != nil {
		return err
	}
	// Links may be a directory of the layers' output (plan2llb).
	if err := os.MkdirAll(s.Links, 0o755); err != nil {
		return err
	}
	view, err := newLayerView(s.Lower)
	if err != nil {
		return err
	}
	defer view.close()
	if s.Lower != "" {
		view.lookups = map[string]bool{}
	}
	for _, l := range s.Layers {
		if err := installLayer(l, kr, view, s.SourceDateEpoch); err != nil {
			return err
		}
		if err := view.push(l.Out); err != nil {
			return err
		}
	}
	if s.Lower != "" {
		if err := view.writeLookups(s.Links); err != nil {
			return err
		}
	}
	return view.writeLinks(s.Links)
}

// installLayer installs one layer's packages and writes its record.
func installLayer(l step.InstallLayer, kr *sign.Keyring, lower install.Lower, epoch int64) error {
	// Out may be a directory of the output mount (step.InstallLayer).
	if err := os.MkdirAll(l.Out, 0o755); err != nil {
		return err
	}
	inst, err := install.New(l.Out, install.Options{SourceDateEpoch: epoch, Chown: install.ChownAlways, Lower: lower})
	if err != nil {
		return err
	}
	defer inst.Close()
	var digests []string
	for _, f := range l.Packages {
		digest, err := installOne(inst, f, kr)
		if err != nil {
			return err
		}
		digests = append(digests, digest)
	}
	// The fragment is a small installed database of its own, laid out
	// where install.LoadDatabase looks for one. The record directory is
	// a mount or a directory of the step's output.
	if err := os.MkdirAll(l.Meta, 0o755); err != nil {
		return err
	}
	frag, err := install.New(l.Meta, install.Options{SourceDateEpoch: epoch, Chown: install.ChownAlways, DatabaseOnly: true})
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
	if err := copyEmbeddedSBOMs(inst, l.Out, l.Meta); err != nil {
		return err
	}
	if err := recordOSRelease(inst, l.Out, l.Meta); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(l.Meta, step.APKDigestsFile), []byte(strings.Join(digests, "\n")+"\n"), 0o644)
}

// installOne installs one .apk and returns "name sha256-of-file".
func installOne(inst *install.Installer, f step.APKFile, kr *sign.Keyring) (string, error) {
	fh, err := os.Open(f.Path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := sha256.New()
	tee := io.TeeReader(fh, h)
	name := filepath.Base(f.Path)
	p, err := inst.InstallAPK(tee, pkg.ReadOptions{Keyring: kr, ExpectedChecksum: f.Checksum, Name: name,
		ExpectedNameVersion: strings.TrimSuffix(name, ".apk")})
	if err != nil {
		return "", err
	}
	// Whatever follows the data member (nothing, in a valid package) is
	// part of the file the SHA-256 names.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return "", err
	}
	return p.Name + " " + hex.EncodeToString(h.Sum(nil)), nil
}

// copyEmbeddedSBOMs keeps each package's own SPDX documents (melange puts
// them under var/lib/db/sbom) in the record as sbom/<package>/<file>, so
// the SBOM step knows which package shipped which document.
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
			if fi.Size() > MaxEmbeddedSBOM || total+fi.Size() > MaxEmbeddedSBOMTotal {
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
			dir := filepath.Join(meta, step.EmbeddedSBOMDir, p.Name)
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

// recordOSRelease keeps the os-release files (or symlinks) the layer's
// packages installed, in install order, for the SBOM's operating system.
func recordOSRelease(inst *install.Installer, out, meta string) error {
	root, err := os.OpenRoot(out)
	if err != nil {
		return err
	}
	defer root.Close()
	files := []sbom.OSFile{}
	for _, p := range inst.Packages() {
		for _, f := range inst.Files(p.Name) {
			if !slices.Contains(sbom.OSReleasePaths, f.Path) {
				continue
			}
			fi, err := root.Lstat(f.Path)
			if err != nil {
				continue
			}
			switch {
			case fi.Mode()&fs.ModeSymlink != 0:
				target, err := root.Readlink(f.Path)
				if err != nil {
					return err
				}
				files = append(files, sbom.OSFile{Package: p.Name, Path: f.Path, Link: target})
			case fi.Mode().IsRegular() && fi.Size() <= maxOSRelease:
				data, err := root.ReadFile(f.Path)
				if err != nil {
					return err
				}
				files = append(files, sbom.OSFile{Package: p.Name, Path: f.Path, Data: string(data)})
			}
		}
	}
	return writeJSONFile(meta, step.OSReleaseFile, files)
}

// maxOSRelease bounds what kiln reads of an os-release file.
const maxOSRelease = 64 << 10
