package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kiln-build/kiln/sbom"
)

// sbomFile is the document's name in the SBOM step's output.
const sbomFile = "sbom.spdx.json"

// runImageSBOM writes one platform's SPDX document from the frontend's
// spec and what the install steps recorded: each .apk's SHA-256 and the
// SPDX documents packages ship.
func runImageSBOM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiln image-sbom", flag.ContinueOnError)
	fs.SetOutput(stderr)
	specPath := fs.String("spec", "", "JSON SBOM input from the frontend")
	out := fs.String("out", "", "directory to write "+sbomFile+" into")
	var metas stringList
	fs.Var(&metas, "meta", "a layer's install record directory (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *specPath == "" || *out == "" || len(metas) == 0 {
		return usageError{fmt.Errorf("need --spec, --out and --meta")}
	}
	data, err := os.ReadFile(*specPath)
	if err != nil {
		return err
	}
	var in sbom.Input
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("sbom spec: %w", err)
	}
	digests := map[string]string{}
	embedded := map[string][]sbom.Embedded{}
	for _, m := range metas {
		if err := readDigests(filepath.Join(m, apkDigestsFile), digests); err != nil {
			return err
		}
		if err := readEmbedded(filepath.Join(m, embeddedSBOMDir), embedded); err != nil {
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
	enc, err := sbom.Document(in)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*out, sbomFile), enc, 0o644)
}

// readDigests reads "name sha256" lines written by install-apk.
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

// readEmbedded reads <dir>/<package>/<file>.spdx.json as written by
// install-apk; a layer without any has no directory.
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
