package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/integration/ocitest"
)

// What the hostile-input tests share: a repository a test fills with
// packages made by kiln's writer (apktest.Package) or by hand
// (apktest.Raw), a build context around it, the exact last line buildx
// prints, and checks that a refused build left nothing behind and that
// buildkitd still serves a normal build.

const hostileArch = "x86_64"

// failurePrefixes are how buildx begins the last line of a failed build:
// "failed to solve: ", or "failed to run Build function: " when the
// frontend's build function returns before the solve reports. Which one
// a refused build gets is a race inside buildx, not kiln's choice.
var failurePrefixes = []string{
	"ERROR: failed to build: failed to solve: ",
	"ERROR: failed to build: failed to run Build function: ",
}

// failureMessage is a failed build's last line after buildx's prefix; ok
// is false when the line has neither prefix.
func failureMessage(line string) (msg string, ok bool) {
	for _, p := range failurePrefixes {
		if msg, ok := strings.CutPrefix(line, p); ok {
			return msg, true
		}
	}
	return "", false
}

// hostileRepo is an x86_64 repository under construction in a build
// context's packages/ directory.
type hostileRepo struct {
	t      *testing.T
	ctx    string // the build context
	dir    string // ctx/packages
	signer *sign.Signer
	recs   []*index.Package
	apks   map[string][]byte // file name -> bytes, as written
}

func newHostileRepo(t *testing.T) *hostileRepo {
	t.Helper()
	ctx := t.TempDir()
	r := &hostileRepo{t: t, ctx: ctx, dir: filepath.Join(ctx, "packages"), signer: testSigner(t), apks: map[string][]byte{}}
	if _, err := apktest.WriteKey(r.dir, r.signer); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(r.dir, hostileArch), 0o755); err != nil {
		t.Fatal(err)
	}
	return r
}

// add writes packages with kiln's own writer, signed with the test key.
func (r *hostileRepo) add(pkgs ...apktest.Package) *hostileRepo {
	r.t.Helper()
	w := apktest.NewRepo(r.dir, r.signer)
	for _, p := range pkgs {
		data, rec, err := w.Build(hostileArch, p)
		if err != nil {
			r.t.Fatal(err)
		}
		r.put(data, rec)
	}
	return r
}

// addRaw writes hand-made packages; a Raw without a Signer is signed with
// the test key (set Signer to another key, or use addRawUnsigned, to test
// trust).
func (r *hostileRepo) addRaw(pkgs ...apktest.Raw) *hostileRepo {
	r.t.Helper()
	for _, p := range pkgs {
		if p.Arch == "" {
			p.Arch = hostileArch
		}
		if p.Signer == nil {
			p.Signer, p.Alg = r.signer, sign.SHA256
		}
		data, rec, err := p.Build()
		if err != nil {
			r.t.Fatal(err)
		}
		r.put(data, rec)
	}
	return r
}

// addRawUnsigned writes hand-made packages with no signature at all.
func (r *hostileRepo) addRawUnsigned(pkgs ...apktest.Raw) *hostileRepo {
	r.t.Helper()
	for _, p := range pkgs {
		if p.Arch == "" {
			p.Arch = hostileArch
		}
		data, rec, err := p.Build()
		if err != nil {
			r.t.Fatal(err)
		}
		r.put(data, rec)
	}
	return r
}

func (r *hostileRepo) put(data []byte, rec *index.Package) {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, hostileArch, rec.Filename()), data, 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.recs = append(r.recs, rec)
	r.apks[rec.Filename()] = data
}

// rename moves a package file within the repository (the index keeps
// what it lists).
func (r *hostileRepo) rename(from, to string) {
	r.t.Helper()
	dir := filepath.Join(r.dir, hostileArch)
	if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
		r.t.Fatal(err)
	}
}

// record returns the index record of a package written so far.
func (r *hostileRepo) record(name string) *index.Package {
	r.t.Helper()
	for _, rec := range r.recs {
		if rec.Name == name {
			return rec
		}
	}
	r.t.Fatalf("no package %s in the repository", name)
	return nil
}

// writeIndex signs and writes the index of every package added; edit, when
// set, changes the records first (what the index claims, not the files).
func (r *hostileRepo) writeIndex(edit func(recs []*index.Package)) *hostileRepo {
	r.t.Helper()
	recs := make([]*index.Package, len(r.recs))
	for i, rec := range r.recs {
		c := *rec
		recs[i] = &c
	}
	if edit != nil {
		edit(recs)
	}
	var buf bytes.Buffer
	err := index.Write(&buf, recs, index.WriteOptions{Description: "hostile test repository", Signer: r.signer, Alg: sign.SHA256})
	if err != nil {
		r.t.Fatal(err)
	}
	r.writeIndexBytes(buf.Bytes())
	return r
}

// writeIndexBytes writes APKINDEX.tar.gz as given.
func (r *hostileRepo) writeIndexBytes(b []byte) {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, hostileArch, "APKINDEX.tar.gz"), b, 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// config writes the context's apko.yaml installing packages (as the
// config lists them) and returns the context.
func (r *hostileRepo) config(packages ...string) string {
	r.t.Helper()
	return r.configWith("", packages...)
}

// configWith is config with more top-level YAML appended.
func (r *hostileRepo) configWith(extra string, packages ...string) string {
	r.t.Helper()
	var b strings.Builder
	b.WriteString("contents:\n  repositories:\n    - ./packages\n  keyring:\n    - ./packages/" + r.signer.KeyName + "\n  packages:\n")
	for _, p := range packages {
		b.WriteString("    - " + p + "\n")
	}
	b.WriteString("archs: [" + hostileArch + "]\n")
	b.WriteString(extra)
	if err := os.WriteFile(filepath.Join(r.ctx, "apko.yaml"), []byte(b.String()), 0o644); err != nil {
		r.t.Fatal(err)
	}
	return r.ctx
}

// lastLine is the last non-empty line buildx printed.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}

// refused builds ctx's apko.yaml expecting failure and checks that the
// last line buildx prints is exactly want (after buildx's own prefix).
// It returns the whole output.
func refused(t *testing.T, ctx string, want string, args ...string) string {
	t.Helper()
	args = append([]string{"--output", "type=oci,dest=" + filepath.Join(t.TempDir(), "x.tar")}, args...)
	out, err := tryBuildx(ctx, "apko.yaml", args...)
	if err == nil {
		t.Fatalf("build succeeded, want %q:\n%s", want, lastLines(out, 10))
	}
	if got, ok := failureMessage(lastLine(out)); !ok || got != want {
		t.Errorf("last line:\n got %s\nwant %s%s\n%s", lastLine(out), failurePrefixes[0], want, lastLines(out, 15))
	}
	return out
}

// builtRootfs builds ctx's apko.yaml and returns its image's file system
// and the layout.
func builtRootfs(t *testing.T, ctx string, args ...string) (map[string]ocitest.Entry, *ocitest.Layout) {
	t.Helper()
	l, _ := buildOCI(t, ctx, args...)
	fs, err := l.Rootfs(onlyImage(t, l))
	if err != nil {
		t.Fatal(err)
	}
	return fs, l
}

// marker is a file name no build has ever used, for entries that try to
// escape the image: checkNowhere then looks for it where an escape would
// land.
func marker(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "kiln-escape-" + hex.EncodeToString(b)
}

// escapeRoots are where a file written outside a step's output would
// land: the host's temporary and configuration directories, the root and
// BuildKit's whole state (snapshots of every step's outputs, failed ones
// included, until they are pruned).
var escapeRoots = []struct {
	dir   string
	depth int // -1: no limit
}{
	{"/", 1}, {"/tmp", -1}, {"/var/tmp", -1}, {"/etc", 2}, {"/root", 1},
	{"/var/lib/kiln-stack", -1},
}

// checkNowhere fails the test when a file or directory named name exists
// under any escape root.
func checkNowhere(t *testing.T, name string) {
	t.Helper()
	checkEscapes(t, name, true)
}

// checkNotOnHost is checkNowhere for a name a legal build put in its
// image: BuildKit's state holds the image's layers, so only the host's
// own directories are searched.
func checkNotOnHost(t *testing.T, name string) {
	t.Helper()
	checkEscapes(t, name, false)
}

func checkEscapes(t *testing.T, name string, inState bool) {
	t.Helper()
	for _, root := range escapeRoots {
		if !inState && root.dir == "/var/lib/kiln-stack" {
			continue
		}
		base := strings.Count(filepath.Clean(root.dir), string(filepath.Separator))
		if root.dir == "/" {
			base = 0
		}
		filepath.WalkDir(root.dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // a directory that vanished or is unreadable
			}
			if strings.Contains(d.Name(), name) {
				t.Errorf("%s exists outside any image", p)
			}
			if d.IsDir() && root.depth >= 0 && strings.Count(p, string(filepath.Separator))-base >= root.depth {
				return filepath.SkipDir
			}
			return nil
		})
	}
}

// checkServes builds a normal image after a hostile one: buildkitd (and
// kiln in it) must still serve users.
func checkServes(t *testing.T) {
	t.Helper()
	ctx := exampleContext(t, "no-shell", nil, 0)
	fs, _ := builtRootfs(t, ctx)
	if e, ok := fs["usr/bin/hello"]; !ok || !bytes.Contains(e.Data, []byte("hello from kiln")) {
		t.Errorf("after the hostile builds, a normal build lacks usr/bin/hello")
	}
}

// Entries of hand-made packages.
func rawDir(name string) apktest.RawEntry {
	return apktest.RawEntry{Header: tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755}}
}

func rawFile(name, data string, mode int64) apktest.RawEntry {
	return apktest.RawEntry{Header: tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode}, Data: []byte(data)}
}

func rawSymlink(name, target string) apktest.RawEntry {
	return apktest.RawEntry{Header: tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}}
}

func rawHardlink(name, target string) apktest.RawEntry {
	return apktest.RawEntry{Header: tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: target, Mode: 0o644}}
}

// raw is a hand-made package of version 1.0-r0.
func raw(name string, entries ...apktest.RawEntry) apktest.Raw {
	return apktest.Raw{Name: name, Version: "1.0-r0", Entries: entries}
}

// gzipMembers splits an .apk into its gzip members, as written.
func gzipMembers(t *testing.T, b []byte) [][]byte {
	t.Helper()
	br := bytes.NewReader(b) // an io.ByteReader: gzip reads no further than each member
	var out [][]byte
	for br.Len() > 0 {
		start := len(b) - br.Len()
		zr, err := gzip.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Fatal(err)
		}
		out = append(out, b[start:len(b)-br.Len()])
	}
	return out
}
