package imagefs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kiln-build/kiln/sbom"
	"github.com/kiln-build/kiln/step"
)

// ImageSBOM runs the SBOM step: one platform's SPDX document from the
// planned input (sbom.Input as JSON) and what the install steps recorded,
// each .apk's SHA-256 and the SPDX documents packages ship.
func ImageSBOM(s step.ImageSBOM) error {
	data, err := os.ReadFile(s.Spec)
	if err != nil {
		return err
	}
	var in sbom.Input
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("sbom spec: %w", err)
	}
	digests := map[string]string{}
	embedded := map[string][]sbom.Embedded{}
	var osFiles []sbom.OSFile
	for _, m := range s.Metas {
		var layer []sbom.OSFile
		if err := readJSON(filepath.Join(m, step.OSReleaseFile), &layer); err != nil {
			return err
		}
		osFiles = append(osFiles, layer...)
		if err := readDigests(filepath.Join(m, step.APKDigestsFile), digests); err != nil {
			return err
		}
		if err := readEmbedded(filepath.Join(m, step.EmbeddedSBOMDir), embedded); err != nil {
			return err
		}
	}
	for i := range in.Packages {
		p := &in.Packages[i]
		sum, ok := digests[p.Name]
		if !ok {
			return fmt.Errorf("%s: no install record: the SBOM spec and the installed layers disagree", p.Name)
		}
		p.SHA256 = sum
		p.Embedded = embedded[p.Name]
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
	return os.WriteFile(filepath.Join(s.Out, step.SBOMFile), enc, 0o644)
}

// readDigests reads "name sha256" lines written by the install step.
func readDigests(file string, into map[string]string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, sum, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		into[name] = sum
	}
	return sc.Err()
}

// readEmbedded reads <dir>/<package>/<file> as written by the install
// step; a layer without any has no directory.
func readEmbedded(dir string, into map[string][]sbom.Embedded) error {
	pkgs, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, p := range pkgs {
		files, err := os.ReadDir(filepath.Join(dir, p.Name()))
		if err != nil {
			return err
		}
		names := make([]string, 0, len(files))
		for _, f := range files {
			names = append(names, f.Name())
		}
		sort.Strings(names)
		for _, n := range names {
			data, err := os.ReadFile(filepath.Join(dir, p.Name(), n))
			if err != nil {
				return err
			}
			into[p.Name()] = append(into[p.Name()], sbom.Embedded{Path: sbom.EmbeddedDir + "/" + n, Data: data})
		}
	}
	return nil
}

func readJSON(file string, v any) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}
