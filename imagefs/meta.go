package imagefs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/kiln-build/kiln/apk/install"
	"github.com/kiln-build/kiln/step"
)

// ImageMeta runs the metadata step: it merges the layers' database
// fragments, checks that no two layers claim a path against apk's rules,
// and writes the metadata layer. Install batches run side by side are
// checked first (checkBatches).
func ImageMeta(s step.ImageMeta) error {
	specData, err := os.ReadFile(s.Spec)
	if err != nil {
		return err
	}
	var spec step.ImageSpec
	if err := json.Unmarshal(specData, &spec); err != nil {
		return fmt.Errorf("image spec: %w", err)
	}
	if len(s.Batches) > 0 {
		verdict, err := checkBatches(s.Layers, s.Batches)
		if err != nil {
			return fmt.Errorf("check of the install batches: %w", err)
		}
		if verdict.Differs != "" {
			// The frontend builds the image again with chained batches;
			// these layers are not the image's.
			return writeJSONFile(s.Out, step.DiffersFile, verdict)
		}
	}
	var layers [][]install.InstalledPackage
	for _, m := range s.Metas {
		pkgs, err := loadFragment(m, s.SourceDateEpoch)
		if err != nil {
			return err
		}
		layers = append(layers, pkgs)
	}
	below, err := openStack(s.Layers)
	if err != nil {
		return err
	}
	defer below.Close()
	all, err := install.MergeLayers(layers, func(dir string) (string, error) { return physDir(below, dir) })
	if err != nil {
		return err
	}
	if s.BaseDB != "" {
		// As apko: the base's records first, as it lists them. Their files
		// are in the base's layers; nothing here checks them against the
		// new packages' (apko does not either).
		base, err := loadBaseDB(s.BaseDB, s.BaseDBSHA256)
		if err != nil {
			return err
		}
		all = append(base, all...)
	}
	keys, err := readKeys(s.Keyring)
	if err != nil {
		return err
	}
	var scripts bytes.Buffer
	if err := install.WriteScriptsTar(&scripts, all, s.SourceDateEpoch); err != nil {
		return err
	}
	in := Input{Spec: &spec, Layers: s.Layers, Out: s.Out, Epoch: time.Unix(s.SourceDateEpoch, 0),
		InstalledDB: install.EncodeInstalled(all), Scripts: scripts.Bytes(), Keys: keys,
		Triggers: install.AppendTriggers(nil, all)}
	for _, p := range all {
		ip := Installed{Name: p.Name, Provides: p.Provides}
		for _, f := range p.Files() {
			ip.Files = append(ip.Files, f.Path)
		}
		in.Packages = append(in.Packages, ip)
	}
	// The stack MergeLayers looked directories up in, with what it learnt.
	return generate(in, below)
}

// InstallImage runs an image's only install batch and then its metadata
// step over what the batch installed, in one process.
func InstallImage(s step.InstallImage) error {
	if err := InstallAPK(s.Install); err != nil {
		return err
	}
	return ImageMeta(s.Meta)
}

// loadBaseDB reads a base image's installed database, which must be the
// bytes planning resolved against.
func loadBaseDB(file, wantSHA256 string) ([]install.InstalledPackage, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("base image's installed database: %w", err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != wantSHA256 {
		return nil, fmt.Errorf("base image's installed database changed since the build was planned (sha256 %x, planned %s)", sum, wantSHA256)
	}
	pkgs, err := install.ReadDatabase(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("base image's installed database: %w", err)
	}
	return pkgs, nil
}

// loadFragment reads one install record's database fragment.
func loadFragment(dir string, epoch int64) ([]install.InstalledPackage, error) {
	frag, err := install.New(dir, install.Options{SourceDateEpoch: epoch, Chown: install.ChownNever, DatabaseOnly: true})
	if err != nil {
		return nil, err
	}
	defer frag.Close()
	if err := frag.LoadDatabase(); err != nil {
		return nil, err
	}
	return frag.Packages(), nil
}

// physDir is where the directory dir (as a package names it) is in the
// merged image: its path through the image's symlinks.
func physDir(below *stack, dir string) (string, error) {
	rp, err := below.resolveDir(dir, 0)
	if err != nil {
		return "", err
	}
	if len(below.layersWith(rp)) > 0 {
		return rp, nil // a directory (the lookup is kept: this one repeats)
	}
	if fi, err := below.Lstat(rp); err == nil && !fi.IsDir() {
		return "", fmt.Errorf("/%s is not a directory in the image", rp)
	}
	return rp, nil
}
