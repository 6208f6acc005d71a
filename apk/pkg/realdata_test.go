package pkg

import (
	"archive/tar"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/sign"
)

// TestRealPackages reads packages built by abuild and melange. Expected
// values were taken with GNU tar and gzip, not with this package.
func TestRealPackages(t *testing.T) {
	td := testdataDir(t)
	// A real Alpine key, but not the one that signed either package.
	otherKey, err := sign.LoadKeyring(filepath.Join(td, "alpine-3.16", "alpine-devel@lists.alpinelinux.org-4a6a0840.rsa.pub"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file          string
		name, version string
		arch          string
		sig           sign.Signature // Alg and KeyName
		entries       int
		regular       int
		symlinks      map[string]string
		scripts       []string
		mustHave      string // a data entry that must be present
		installedSize uint64
		firstDepend   string
		hasPackager   bool
	}{
		{
			file: "alpine-baselayout-3.2.0-r23.apk", name: "alpine-baselayout", version: "3.2.0-r23", arch: "aarch64",
			sig:     sign.Signature{Alg: sign.SHA1, KeyName: "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub"},
			entries: 83, regular: 11,
			symlinks: map[string]string{"var/run": "/run", "var/spool/cron/crontabs": "/etc/crontabs", "var/spool/mail": "/var/mail"},
			scripts:  []string{".post-install", ".post-upgrade", ".pre-install", ".pre-upgrade"},
			mustHave: "sbin/mkmntdirs", installedSize: 339968, firstDepend: "alpine-baselayout-data=3.2.0-r23",
			hasPackager: true,
		},
		{
			file: "hello-wolfi-2.12.1-r0.apk", name: "hello-wolfi", version: "2.12.1-r0", arch: "x86_64",
			sig:     sign.Signature{Alg: sign.SHA1, KeyName: "melange.rsa.pub"},
			entries: 144, regular: 47, symlinks: map[string]string{},
			mustHave: "var/lib/db/sbom/hello-wolfi-2.12.1-r0.spdx.json", installedSize: 640091, firstDepend: "so:ld-linux-x86-64.so.2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			pkg, err := os.ReadFile(filepath.Join(td, "packages", tt.file))
			if err != nil {
				t.Skipf("real package not present: %v", err)
			}
			ms := splitMembers(t, pkg)
			if len(ms) != 3 {
				t.Fatalf("%d gzip members, want 3", len(ms))
			}
			ctlSum := sha1.Sum(ms[1])
			wantChecksum := "Q1" + base64.StdEncoding.EncodeToString(ctlSum[:])
			dataSum := sha256.Sum256(ms[2])

			for _, kr := range []*sign.Keyring{nil, otherKey} {
				if _, err := Open(bytes.NewReader(pkg), ReadOptions{Keyring: kr, Name: tt.file}); !errors.Is(err, sign.ErrUntrusted) {
					t.Errorf("Open without the signing key = %v, want ErrUntrusted", err)
				}
			}
			r, err := Open(bytes.NewReader(pkg), ReadOptions{Keyring: otherKey, AllowUntrusted: true, ExpectedChecksum: wantChecksum, Name: tt.file})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if len(r.Signatures) != 1 || r.Signatures[0].Alg != tt.sig.Alg || r.Signatures[0].KeyName != tt.sig.KeyName {
				t.Errorf("Signatures = %+v, want one %v by %s", r.Signatures, tt.sig.Alg, tt.sig.KeyName)
			}
			if r.DataHash != hex.EncodeToString(dataSum[:]) {
				t.Errorf("datahash %s, but the data member's SHA-256 is %x", r.DataHash, dataSum)
			}
			i := r.Info
			if i.Name != tt.name || i.Version != tt.version || i.Arch != tt.arch || i.InstalledSize != tt.installedSize || i.Checksum != wantChecksum {
				t.Errorf("Info = %s-%s %s size %d C:%s", i.Name, i.Version, i.Arch, i.InstalledSize, i.Checksum)
			}
			if len(i.Dependencies) == 0 || i.Dependencies[0] != tt.firstDepend {
				t.Errorf("Dependencies = %q, want first %q", i.Dependencies, tt.firstDepend)
			}
			var scripts []string
			for n := range r.Scripts {
				scripts = append(scripts, n)
			}
			slices.Sort(scripts)
			if !slices.Equal(scripts, tt.scripts) {
				t.Errorf("Scripts = %q, want %q", scripts, tt.scripts)
			}
			if hasPackager := slices.ContainsFunc(r.PkgInfoExtra, func(kv [2]string) bool { return kv[0] == "packager" }); hasPackager != tt.hasPackager {
				t.Errorf("PkgInfoExtra = %q; packager present %v, want %v", r.PkgInfoExtra, hasPackager, tt.hasPackager)
			}

			got, err := drain(r)
			if err != nil {
				t.Fatalf("reading data: %v", err)
			}
			if r.Info.Size != uint64(len(pkg)) {
				t.Errorf("Info.Size = %d, want %d", r.Info.Size, len(pkg))
			}
			if len(got) != tt.entries {
				t.Errorf("%d entries, want %d", len(got), tt.entries)
			}
			regular, found := 0, false
			symlinks := map[string]string{}
			for _, e := range got {
				name := strings.TrimSuffix(e.hdr.Name, "/")
				found = found || name == tt.mustHave
				switch e.hdr.Typeflag {
				case tar.TypeReg:
					regular++
					// The bytes handed out must be the ones the header's
					// checksum describes.
					sum := sha1.Sum(e.data)
					if v := e.hdr.PAXRecords[PAXChecksum]; v != hex.EncodeToString(sum[:]) {
						t.Errorf("%s: read bytes have SHA-1 %x, header says %q", name, sum, v)
					}
					if int64(len(e.data)) != e.hdr.Size {
						t.Errorf("%s: read %d bytes, header size %d", name, len(e.data), e.hdr.Size)
					}
				case tar.TypeSymlink:
					symlinks[name] = e.hdr.Linkname
				}
				if strings.HasSuffix(name, ".spdx.json") {
					if !json.Valid(e.data) || !bytes.Contains(e.data, []byte("SPDX")) {
						t.Errorf("%s is not an SPDX JSON document", name)
					}
				}
			}
			if regular != tt.regular || !found {
				t.Errorf("%d regular files (want %d); %s found: %v", regular, tt.regular, tt.mustHave, found)
			}
			if len(symlinks) != len(tt.symlinks) {
				t.Errorf("symlinks %q, want %q", symlinks, tt.symlinks)
			}
			for k, v := range tt.symlinks {
				if symlinks[k] != v {
					t.Errorf("symlink %s -> %q, want %q", k, symlinks[k], v)
				}
			}
			rewrite(t, r, got)
		})
	}
}

// rewrite writes a read package again with Write and checks that reading
// the result gives the same files, metadata and scripts.
func rewrite(t *testing.T, orig *Reader, got []readEntry) {
	t.Helper()
	entries := make([]Entry, len(got))
	for i, e := range got {
		entries[i] = Entry{Header: *e.hdr, Data: e.data}
	}
	var buf bytes.Buffer
	info := *orig.Info
	rec, err := Write(&buf, &info, entries, WriteOptions{Scripts: orig.Scripts, SourceDateEpoch: info.BuildTime})
	if err != nil {
		t.Fatalf("rewrite: %v", err)
	}
	r, err := Open(bytes.NewReader(buf.Bytes()), ReadOptions{AllowUntrusted: true, ExpectedChecksum: rec.Checksum})
	if err != nil {
		t.Fatalf("rewrite: Open: %v", err)
	}
	again, err := drain(r)
	if err != nil {
		t.Fatalf("rewrite: reading: %v", err)
	}
	if len(again) != len(got) {
		t.Fatalf("rewrite: %d entries, want %d", len(again), len(got))
	}
	for i, e := range got {
		a := again[i]
		if a.hdr.Name != strings.TrimSuffix(e.hdr.Name, "/") || a.hdr.Typeflag != e.hdr.Typeflag || a.hdr.Mode != e.hdr.Mode ||
			a.hdr.Linkname != e.hdr.Linkname || !bytes.Equal(a.data, e.data) || !a.hdr.ModTime.Equal(e.hdr.ModTime) {
			t.Errorf("rewrite: entry %d is %q %q %o, want %q %q %o", i, a.hdr.Name, a.hdr.Typeflag, a.hdr.Mode, e.hdr.Name, e.hdr.Typeflag, e.hdr.Mode)
		}
	}
	if r.Info.Dependencies[0] != orig.Info.Dependencies[0] || r.Info.InstalledSize != orig.Info.InstalledSize || len(r.Scripts) != len(orig.Scripts) {
		t.Errorf("rewrite: info %+v scripts %d, want %+v scripts %d", r.Info, len(r.Scripts), orig.Info, len(orig.Scripts))
	}
}
