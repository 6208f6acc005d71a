// Package apktest builds real, signed apk repositories from Go
// descriptions, for tests across kiln: every package is written by apk/pkg
// and every index by apk/index, so tests exercise the same bytes a user's
// repository would hold.
package apktest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/kiln-build/kiln/apk/sign/signtest"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
)

// File is one entry of a test package. The entry type is a directory when
// Dir is set, a symlink when Symlink is set, a hardlink when Hardlink is
// set, and a regular file otherwise.
type File struct {
	Path     string      // relative, e.g. "usr/bin/hello"
	Mode     fs.FileMode // permission bits plus fs.ModeSetuid/ModeSetgid/ModeSticky; 0 = 0755 dirs, 0644 files
	Data     []byte
	Dir      bool
	Symlink  string
	Hardlink string
	Uid, Gid int
	Xattrs   map[string]string // without the "SCHILY.xattr." prefix
}

// Package describes one package. Empty Arch means the repository arch.
type Package struct {
	Name, Version, Arch               string
	Description, License, Origin, URL string
	Depends, Provides                 []string
	InstallIf, Replaces               []string
	ProviderPriority                  int // written when non-zero
	Files                             []File
	Scripts                           map[string][]byte // ".post-install" → body
}

// Repo is a repository directory under construction: Dir/<arch>/*.apk and
// Dir/<arch>/APKINDEX.tar.gz.
type Repo struct {
	Dir             string
	Signer          *sign.Signer // nil writes unsigned packages and index
	Alg             sign.Algorithm
	SourceDateEpoch int64
	pkgs            map[string][]Package
}

// NewRepo starts a repository in dir signed by signer (nil: unsigned).
func NewRepo(dir string, signer *sign.Signer) *Repo {
	return &Repo{Dir: dir, Signer: signer, Alg: sign.SHA256, pkgs: map[string][]Package{}}
}

// Add queues packages for arch.
func (r *Repo) Add(arch string, pkgs ...Package) *Repo {
	r.pkgs[arch] = append(r.pkgs[arch], pkgs...)
	return r
}

// Write writes every queued package and a signed index per arch, and
// returns the index records by arch.
func (r *Repo) Write() (map[string][]*index.Package, error) {
	out := map[string][]*index.Package{}
	arches := make([]string, 0, len(r.pkgs))
	for a := range r.pkgs {
		arches = append(arches, a)
	}
	sort.Strings(arches)
	for _, a := range arches {
		dir := filepath.Join(r.Dir, a)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		var recs []*index.Package
		for _, p := range r.pkgs[a] {
			data, rec, err := r.Build(a, p)
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(dir, rec.Filename()), data, 0o644); err != nil {
				return nil, err
			}
			recs = append(recs, rec)
		}
		var buf bytes.Buffer
		err := index.Write(&buf, recs, index.WriteOptions{
			Description: "kiln test repository " + a, Signer: r.Signer, Alg: r.Alg, SourceDateEpoch: r.SourceDateEpoch,
		})
		if err != nil {
			return nil, fmt.Errorf("apktest: index %s: %w", a, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "APKINDEX.tar.gz"), buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		out[a] = recs
	}
	return out, nil
}

// Build writes one package to memory and returns its bytes and index record.
func (r *Repo) Build(arch string, p Package) ([]byte, *index.Package, error) {
	info := &index.Package{
		Name: p.Name, Version: p.Version, Arch: p.Arch,
		Description: p.Description, License: p.License, Origin: p.Origin, URL: p.URL,
		Dependencies: p.Depends, Provides: p.Provides, InstallIf: p.InstallIf, Replaces: p.Replaces,
		ProviderPriority: p.ProviderPriority, HasProviderPrio: p.ProviderPriority != 0,
	}
	if info.Arch == "" {
		info.Arch = arch
	}
	if info.Origin == "" {
		info.Origin = p.Name
	}
	if info.Description == "" {
		info.Description = p.Name + " test package"
	}
	if info.License == "" {
		info.License = "MIT"
	}
	entries := make([]pkg.Entry, 0, len(p.Files))
	for _, f := range p.Files {
		entries = append(entries, f.entry(r.SourceDateEpoch))
	}
	var buf bytes.Buffer
	rec, err := pkg.Write(&buf, info, entries, pkg.WriteOptions{
		Signer: r.Signer, Alg: r.Alg, SourceDateEpoch: r.SourceDateEpoch, Scripts: p.Scripts,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("apktest: package %s-%s: %w", p.Name, p.Version, err)
	}
	return buf.Bytes(), rec, nil
}

func (f File) entry(epoch int64) pkg.Entry {
	h := tar.Header{Name: f.Path, Uid: f.Uid, Gid: f.Gid, ModTime: time.Unix(epoch, 0)}
	perm := int64(f.Mode.Perm())
	if f.Mode&fs.ModeSetuid != 0 {
		perm |= 0o4000
	}
	if f.Mode&fs.ModeSetgid != 0 {
		perm |= 0o2000
	}
	if f.Mode&fs.ModeSticky != 0 {
		perm |= 0o1000
	}
	switch {
	case f.Dir:
		h.Typeflag = tar.TypeDir
		if perm == 0 {
			perm = 0o755
		}
	case f.Symlink != "":
		h.Typeflag, h.Linkname, perm = tar.TypeSymlink, f.Symlink, 0o777
	case f.Hardlink != "":
		h.Typeflag, h.Linkname = tar.TypeLink, f.Hardlink
		if perm == 0 {
			perm = 0o644
		}
	default:
		h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
		if perm == 0 {
			perm = 0o644
		}
	}
	h.Mode = perm
	if len(f.Xattrs) > 0 {
		h.PAXRecords = map[string]string{}
		for k, v := range f.Xattrs {
			h.PAXRecords["SCHILY.xattr."+k] = v
		}
	}
	return pkg.Entry{Header: h, Data: f.Data}
}

// KeyName is the name Signer's key is trusted under.
const KeyName = "kiln-test.rsa.pub"

// Signer returns one 2048-bit test key per process (key generation is
// slow enough to matter when every test wants a repository).
func Signer() (*sign.Signer, error) {
	return signtest.Get(KeyName)
}

// WriteKey writes s's public key into dir under s.KeyName and returns its
// path, so a keyring can be loaded from disk as users do.
func WriteKey(dir string, s *sign.Signer) (string, error) {
	pemData, err := s.PublicKeyPEM()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(dir, s.KeyName)
	return p, os.WriteFile(p, pemData, 0o644)
}

// TrustedSigner is Signer and a keyring trusting it, for a test: it stops
// the test when either cannot be made.
func TrustedSigner(t testing.TB) (*sign.Signer, *sign.Keyring) {
	t.Helper()
	s, err := Signer()
	if err != nil {
		t.Fatal(err)
	}
	k, err := Keyring(s)
	if err != nil {
		t.Fatal(err)
	}
	return s, k
}

// Keyring returns a keyring trusting s.
func Keyring(s *sign.Signer) (*sign.Keyring, error) {
	pemData, err := s.PublicKeyPEM()
	if err != nil {
		return nil, err
	}
	k := sign.NewKeyring()
	return k, k.Add(s.KeyName, pemData)
}
