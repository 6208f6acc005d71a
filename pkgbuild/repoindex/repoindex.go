// Package repoindex writes the signed APKINDEX.tar.gz of a directory of
// built packages (one architecture), as melange's index step does, after
// verifying every package: signature, control checksum, every file's
// checksum and the datahash.
package repoindex

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
)

// IndexFile is the index's file name in a repository directory.
const IndexFile = "APKINDEX.tar.gz"

// Options configure Write.
type Options struct {
	// Arch is the directory's architecture; packages of another one
	// (except "noarch") are refused.
	Arch string
	// Signer signs the index with RSA-SHA256, as melange does; nil
	// writes an unsigned index.
	Signer *sign.Signer
	// Keyring holds the keys the packages must be signed by. nil means
	// the Signer's own key; with neither, unsigned packages are accepted.
	Keyring         *sign.Keyring
	Description     string
	SourceDateEpoch int64 // mtime of the index's tar entries
}

// Read verifies every .apk directly in dir and returns their index
// records, by file name. A package must be named <name>-<version>.apk
// (apk fetches it by that name) and appear once.
func Read(dir string, opts Options) ([]*index.Package, error) {
	if opts.Arch == "" {
		return nil, errors.New("index: no architecture")
	}
	keyring, untrusted, err := trust(opts)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer root.Close()
	f, err := root.Open(".")
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	var recs []*index.Package
	seen := map[string]string{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".apk") || strings.HasPrefix(e.Name(), ".") {
			continue // hidden: a writer's temporary file
		}
		if !e.Type().IsRegular() {
			return nil, fmt.Errorf("index: %s is not a regular file", e.Name())
		}
		rec, err := verify(root, e.Name(), keyring, untrusted)
		if err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		if rec.Arch != opts.Arch && rec.Arch != "noarch" {
			return nil, fmt.Errorf("index: %s is for %s, not %s", e.Name(), rec.Arch, opts.Arch)
		}
		if want := rec.Filename(); e.Name() != want {
			return nil, fmt.Errorf("index: %s holds %s, which apk would fetch as %s", e.Name(), rec, want)
		}
		if other, dup := seen[rec.String()]; dup {
			return nil, fmt.Errorf("index: %s and %s are both %s", other, e.Name(), rec)
		}
		seen[rec.String()] = e.Name()
		recs = append(recs, rec)
	}
	return recs, nil
}

// trust picks the keyring packages are checked against.
func trust(opts Options) (*sign.Keyring, bool, error) {
	if opts.Keyring != nil {
		return opts.Keyring, false, nil
	}
	if opts.Signer == nil {
		return nil, true, nil
	}
	pub, err := opts.Signer.PublicKeyPEM()
	if err != nil {
		return nil, false, fmt.Errorf("index: %w", err)
	}
	k := sign.NewKeyring()
	if err := k.Add(opts.Signer.KeyName, pub); err != nil {
		return nil, false, fmt.Errorf("index: %w", err)
	}
	return k, false, nil
}

// verify reads a whole package, which checks everything its signature
// covers, and returns its record with Size set.
func verify(root *os.Root, name string, keyring *sign.Keyring, untrusted bool) (*index.Package, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pr, err := pkg.Open(f, pkg.ReadOptions{Keyring: keyring, AllowUntrusted: untrusted, Name: name})
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	for {
		if _, err := pr.Next(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
	}
	return pr.Info, nil
}

// Write verifies the packages in dir and writes their index to w.
func Write(w io.Writer, dir string, opts Options) ([]*index.Package, error) {
	recs, err := Read(dir, opts)
	if err != nil {
		return nil, err
	}
	err = index.Write(w, recs, index.WriteOptions{
		Description: opts.Description, Signer: opts.Signer, Alg: sign.SHA256, SourceDateEpoch: opts.SourceDateEpoch,
	})
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	return recs, nil
}

// WriteFile writes dir/APKINDEX.tar.gz, replacing it only once complete.
func WriteFile(dir string, opts Options) (string, []*index.Package, error) {
	tmp, err := os.CreateTemp(dir, ".kiln-APKINDEX-*")
	if err != nil {
		return "", nil, fmt.Errorf("index: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	recs, err := Write(tmp, dir, opts)
	if err != nil {
		return "", nil, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return "", nil, err
	}
	if err := tmp.Close(); err != nil {
		return "", nil, err
	}
	dst := filepath.Join(dir, IndexFile)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", nil, fmt.Errorf("index: %w", err)
	}
	return dst, recs, nil
}
