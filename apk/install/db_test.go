package install

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/kiln-build/kiln/apk/index"
)

// installPair installs two packages covering every record shape and
// writes the database.
func installPair(t *testing.T, root string) *Installer {
	t.Helper()
	in := newInstaller(t, root, Options{SourceDateEpoch: 1600000000})
	a := pkgInfo("alpha", func(p *index.Package) {
		p.Description = "first package"
		p.License = "MIT"
		p.Dependencies = []string{"so:libc.musl-x86_64.so.1", "beta>=1"}
		p.Provides = []string{"cmd:alpha=1.0-r0"}
		p.Replaces = []string{"oldalpha"}
		p.ReplacesPriority = 3
		p.InstalledSize = 4096
		p.BuildTime = 1650000000
	})
	aEnts := []ent{
		file("README", "root-level file"),
		dir("etc/"),
		file("etc/alpha.conf", "conf"),
		withMode(dir("root/"), 0o700),
		owned(withMode(dir("var/"), 0o775), 0, 42),
		withMode(file("var/secret", "s"), 0o640),
		dir("usr/"), dir("usr/bin/"),
		withMode(file("usr/bin/alpha", "#!/bin/sh\necho alpha\n"), 0o4755),
		symlink("usr/bin/al", "alpha"),
		withMode(hardlink("usr/bin/alpha2", "usr/bin/alpha"), 0o4755),
	}
	ctl := Control{
		Scripts:  map[string][]byte{".post-install": []byte("#!/bin/sh\necho hi\n"), ".pre-install": []byte("#!/bin/sh\n"), ".melange.yaml": []byte("not a script")},
		Triggers: []string{"/usr/share/fonts/*", "/usr/lib/alpha"},
	}
	if err := in.Install(a, tarOf(t, aEnts...), ctl); err != nil {
		t.Fatal(err)
	}
	b := pkgInfo("beta", func(p *index.Package) { p.Version = "2.1-r3" })
	if err := in.Install(b, tarOf(t, dir("etc/"), file("etc/beta", "beta")), Control{}); err != nil {
		t.Fatal(err)
	}
	files := DatabaseFiles{
		World:        []string{"beta", "alpha", "beta"},
		Repositories: []string{"https://dl.example.org/main", "/local/repo"},
		Arch:         "x86_64",
		Keys:         map[string][]byte{"test.rsa.pub": []byte("PUBLIC KEY")},
	}
	if err := in.WriteDatabase(files); err != nil {
		t.Fatal(err)
	}
	return in
}

func TestDatabaseRoundTrip(t *testing.T) {
	s := newSandbox(t)
	in := installPair(t, s.root)
	raw := readFile(t, s.root, "usr/lib/apk/db/installed")
	got, err := ReadDatabase(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := in.Packages()
	for i := range want {
		want[i].Scripts, want[i].Triggers = nil, nil // not part of the installed file
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadDatabase mismatch:\n got %+v\nwant %+v", got, want)
	}

	// Facts of the format, checked against the text itself.
	alpha := raw[:strings.Index(raw, "\n\n")+2]
	for _, line := range []string{
		"P:alpha\n", "V:1.0-r0\n", "r:oldalpha\n", "q:3\n", "D:so:libc.musl-x86_64.so.1 beta>=1\n",
		"F:\nR:README\nZ:" + sha1Of("root-level file") + "\n",
		"F:etc\nR:alpha.conf\nZ:" + sha1Of("conf") + "\n",
		"F:root\nM:0:0:700\n",
		"F:var\nM:0:42:775\nR:secret\na:0:0:640\n",
		"F:usr\nF:usr/bin\nR:alpha\na:0:0:4755\nZ:" + sha1Of("#!/bin/sh\necho alpha\n") + "\n",
		"R:al\na:0:0:777\nZ:" + sha1Of("alpha") + "\n",
		"R:alpha2\na:0:0:4755\nZ:" + sha1Of("#!/bin/sh\necho alpha\n") + "\n",
	} {
		if !strings.Contains(alpha, line) {
			t.Errorf("alpha's record lacks %q:\n%s", line, alpha)
		}
	}
	if strings.Contains(alpha, "F:etc\nM:") {
		t.Error("default directory got an M: line")
	}
	if !strings.HasSuffix(raw, "R:beta\nZ:"+sha1Of("beta")+"\n\n") {
		t.Errorf("database does not end with beta's file and a blank line:\n%s", raw)
	}

	for _, c := range []struct{ path, want string }{
		{"etc/apk/world", "alpha\nbeta\n"},
		{"etc/apk/repositories", "https://dl.example.org/main\n/local/repo\n"},
		{"etc/apk/arch", "x86_64\n"},
		{"etc/apk/keys/test.rsa.pub", "PUBLIC KEY"},
		{"usr/lib/apk/db/triggers", in.Packages()[0].Checksum + " /usr/share/fonts/* /usr/lib/alpha\n"},
	} {
		if got := readFile(t, s.root, c.path); got != c.want {
			t.Errorf("%s = %q, want %q", c.path, got, c.want)
		}
	}
}

func TestScriptsTar(t *testing.T) {
	s := newSandbox(t)
	in := installPair(t, s.root)
	f, err := os.Open(filepath.Join(s.root, "usr/lib/apk/db/scripts.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	sum, err := checksumHex(in.Packages()[0].Checksum)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		names = append(names, hdr.Name)
		if hdr.Mode != 0o755 || hdr.ModTime.Unix() != 1600000000 || hdr.Uid != 0 {
			t.Errorf("%s: mode %o mtime %d uid %d", hdr.Name, hdr.Mode, hdr.ModTime.Unix(), hdr.Uid)
		}
		if strings.HasSuffix(hdr.Name, ".post-install") && string(body) != "#!/bin/sh\necho hi\n" {
			t.Errorf("post-install body %q", body)
		}
	}
	want := []string{"alpha-1.0-r0." + sum + ".pre-install", "alpha-1.0-r0." + sum + ".post-install"}
	if !equalStrings(names, want) {
		t.Errorf("scripts.tar holds %q, want %q", names, want)
	}
	if !strings.HasPrefix(sum, "X1") || len(sum) != 42 {
		t.Errorf("checksum in names %q, want X1 and 40 hex digits", sum)
	}
}

// A later install (a later image layer) loads the database the earlier
// one wrote and sees its ownership, scripts and triggers.
func TestLoadDatabase(t *testing.T) {
	s := newSandbox(t)
	first := installPair(t, s.root)
	in := newInstaller(t, s.root, Options{SourceDateEpoch: 1600000000})
	if err := in.LoadDatabase(); err != nil {
		t.Fatal(err)
	}
	if got, want := in.Packages(), first.Packages(); !reflect.DeepEqual(got, want) {
		t.Fatalf("loaded packages differ:\n got %+v\nwant %+v", got, want)
	}
	err := in.Install(pkgInfo("gamma"), tarOf(t, dir("etc/"), file("etc/beta", "other")), Control{})
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Owner != "beta-2.1-r3" || ce.Path != "etc/beta" {
		t.Fatalf("Install over a loaded package = %v", err)
	}
	if err := in.Install(pkgInfo("delta"), tarOf(t, dir("etc/"), file("etc/beta", "beta")), Control{}); err != nil {
		t.Fatalf("identical file of a loaded package: %v", err)
	}
	// Rewriting the loaded database keeps it byte for byte, plus delta.
	before := readFile(t, s.root, "usr/lib/apk/db/installed")
	if err := in.WriteDatabase(DatabaseFiles{}); err != nil {
		t.Fatal(err)
	}
	after := readFile(t, s.root, "usr/lib/apk/db/installed")
	if !strings.HasPrefix(after, before) || !strings.Contains(after[len(before):], "P:delta\n") {
		t.Errorf("rewritten database:\n%s", after)
	}
}

func TestLoadDatabaseMissing(t *testing.T) {
	s := newSandbox(t)
	in := newInstaller(t, s.root, Options{})
	if err := in.LoadDatabase(); err != nil {
		t.Fatalf("LoadDatabase on an empty root: %v", err)
	}
	if n := len(in.Packages()); n != 0 {
		t.Errorf("%d packages", n)
	}
}

// ReadDatabase on text in apk-tools' own layout (a fragment of an Alpine
// installed database).
func TestReadDatabaseApkFormat(t *testing.T) {
	const db = `C:Q1PGxwzLd7SQ/SZjUGrncnpjjtpKY=
P:alpine-baselayout
V:3.2.0-r22
A:aarch64
S:10992
I:339968
T:Alpine base dir structure and init scripts
o:alpine-baselayout
t:1655134784
D:alpine-baselayout-data=3.2.0-r22 /bin/sh so:libc.musl-aarch64.so.1
F:etc/crontabs
R:root
a:0:0:600
Z:Q1vfk1apUWI4yLJGhhNRd0kJixfvY=
F:tmp
M:0:0:1777
F:var
R:run
a:0:0:777
Z:Q11/SNZz/8cK2dSKK+cJpVrZIuF4Q=
f:s

C:Q11lVAM7vn9XHtyClU/ZflmqTH8EU=
P:alpine-baselayout-data
V:3.2.0-r22
r:alpine-baselayout
F:etc
R:shadow
a:0:42:640:Q1abcdefghijklmnopqrstuvwxyzAB=
Z:Q1ltrPIAW2zHeDiajsex2Bdmq3uqA=
`
	pkgs, err := ReadDatabase(strings.NewReader(db))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 {
		t.Fatalf("%d packages", len(pkgs))
	}
	bl, data := pkgs[0], pkgs[1]
	if bl.Name != "alpine-baselayout" || bl.InstalledSize != 339968 || len(bl.Dependencies) != 3 {
		t.Errorf("header: %+v", bl.Package)
	}
	if len(bl.Extra) != 1 || bl.Extra[0].Key != 'f' || bl.Extra[0].Value != "s" {
		t.Errorf("unknown lines kept as %+v", bl.Extra)
	}
	wantDirs := []DirRecord{
		{Path: "etc/crontabs", Mode: 0o755, Files: []FileRecord{{Path: "etc/crontabs/root", Mode: 0o600, Checksum: "Q1vfk1apUWI4yLJGhhNRd0kJixfvY="}}},
		{Path: "tmp", Mode: 0o1777},
		{Path: "var", Mode: 0o755, Files: []FileRecord{{Path: "var/run", Mode: 0o777, Checksum: "Q11/SNZz/8cK2dSKK+cJpVrZIuF4Q="}}},
	}
	if !reflect.DeepEqual(bl.Dirs, wantDirs) {
		t.Errorf("dirs:\n got %+v\nwant %+v", bl.Dirs, wantDirs)
	}
	shadow := data.Files()[0]
	if shadow.GID != 42 || shadow.Mode != 0o640 || shadow.XattrDigest != "Q1abcdefghijklmnopqrstuvwxyzAB=" || data.Replaces[0] != "alpine-baselayout" {
		t.Errorf("shadow: %+v, replaces %q", shadow, data.Replaces)
	}
	// Planning reads the same records' headers without the installer.
	heads, err := index.ParseInstalled([]byte(db))
	if err != nil {
		t.Fatal(err)
	}
	if len(heads) != len(pkgs) {
		t.Fatalf("index.ParseInstalled: %d records, want %d", len(heads), len(pkgs))
	}
	for i := range heads {
		if !reflect.DeepEqual(*heads[i], pkgs[i].Package) {
			t.Errorf("index.ParseInstalled record %d:\n got %+v\nwant %+v", i, *heads[i], pkgs[i].Package)
		}
	}
	// And it is written back in the same layout.
	out := EncodeInstalled(pkgs)
	for _, frag := range []string{"F:tmp\nM:0:0:1777\nF:var\n", "R:shadow\na:0:42:640:Q1abcdefghijklmnopqrstuvwxyzAB=\nZ:", "f:s\n"} {
		if !bytes.Contains(out, []byte(frag)) {
			t.Errorf("re-encoded database lacks %q:\n%s", frag, out)
		}
	}
}

func TestReadDatabaseErrors(t *testing.T) {
	tests := []struct{ name, db string }{
		{"M before F", "P:a\nV:1\nM:0:0:755\n"},
		{"a before R", "P:a\nV:1\nF:etc\na:0:0:644\n"},
		{"Z before R", "P:a\nV:1\nZ:Q1xx\n"},
		{"bad mode", "P:a\nV:1\nF:etc\nR:x\na:0:0:9x\n"},
		{"mode too big", "P:a\nV:1\nF:etc\nM:0:0:77777\n"},
		{"short acl", "P:a\nV:1\nF:etc\nM:0:755\n"},
		{"R with a slash", "P:a\nV:1\nF:etc\nR:a/b\n"},
		{"not key value", "P:a\nV:1\ngarbage\n"},
		{"no name", "V:1\nF:etc\n\n"},
		{"bad size", "P:a\nV:1\nS:big\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ReadDatabase(strings.NewReader(tc.db)); err == nil {
				t.Error("ReadDatabase succeeded")
			}
		})
	}
}

func TestWriteDatabaseRejectsBadKeyNames(t *testing.T) {
	for _, k := range []string{"", "..", "a/b", "x\x00y"} {
		s := newSandbox(t)
		in := newInstaller(t, s.root, Options{})
		if err := in.WriteDatabase(DatabaseFiles{Keys: map[string][]byte{k: nil}}); err == nil {
			t.Errorf("key name %q accepted", k)
		}
		s.checkOutside(t)
	}
}

// Packages of a lower layer are known only from their database fragment:
// their files are not in this root, yet conflicts with them are found and
// identical files are not written again.
func TestAddInstalledFromLowerLayer(t *testing.T) {
	lower := newSandbox(t)
	first := newInstaller(t, lower.root, Options{})
	if err := first.Install(pkgInfo("base"), tarOf(t, dir("etc/"), file("etc/os-release", "ID=kiln")), Control{}); err != nil {
		t.Fatal(err)
	}
	fragment, err := ReadDatabase(bytes.NewReader(first.InstalledDB()))
	if err != nil {
		t.Fatal(err)
	}

	upper := newSandbox(t)
	in := newInstaller(t, upper.root, Options{})
	if err := in.AddInstalled(fragment); err != nil {
		t.Fatal(err)
	}
	if err := in.AddInstalled(fragment); err == nil {
		t.Error("adding the same package twice succeeded")
	}
	if err := in.Install(pkgInfo("same"), tarOf(t, dir("etc/"), file("etc/os-release", "ID=kiln")), Control{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(upper.root, "etc/os-release")); !os.IsNotExist(err) {
		t.Errorf("identical file was written into the upper layer: %v", err)
	}
	err = in.Install(pkgInfo("other"), tarOf(t, dir("etc/"), file("etc/os-release", "ID=other")), Control{})
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Owner != "base-1.0-r0" {
		t.Fatalf("Install = %v, want a conflict with base", err)
	}
}

// A database-only root (an install record) writes and loads the same
// database as a root with the files, and refuses installs.
func TestDatabaseOnly(t *testing.T) {
	s := newSandbox(t)
	first := installPair(t, s.root)
	dbFiles := []string{"usr/lib/apk/db/installed", "usr/lib/apk/db/scripts.tar", "usr/lib/apk/db/triggers"}

	written := map[bool]string{}
	for _, only := range []bool{false, true} {
		root := newSandbox(t).root
		frag := newInstaller(t, root, Options{SourceDateEpoch: 1600000000, DatabaseOnly: only})
		if err := frag.AddInstalled(first.Packages()); err != nil {
			t.Fatal(err)
		}
		if err := frag.WriteDatabase(DatabaseFiles{}); err != nil {
			t.Fatal(err)
		}
		var all strings.Builder
		for _, f := range dbFiles {
			all.WriteString(readFile(t, root, f))
		}
		written[only] = all.String()
		if only {
			loaded := newInstaller(t, root, Options{DatabaseOnly: true})
			if err := loaded.LoadDatabase(); err != nil {
				t.Fatal(err)
			}
			if got, want := loaded.Packages(), first.Packages(); !reflect.DeepEqual(got, want) {
				t.Errorf("loaded from a database-only root:\n got %+v\nwant %+v", got, want)
			}
			if owner := loaded.Owner("etc/beta"); owner != "beta" {
				t.Errorf("Owner(etc/beta) = %q, want beta", owner)
			}
			err := loaded.Install(pkgInfo("gamma"), tarOf(t, dir("etc/"), file("etc/gamma", "g")), Control{})
			if err == nil || !strings.Contains(err.Error(), "installed database only") {
				t.Errorf("Install into a database-only root = %v", err)
			}
			if _, err := os.Lstat(filepath.Join(root, "etc/gamma")); !os.IsNotExist(err) {
				t.Errorf("the refused install wrote etc/gamma: %v", err)
			}
		}
	}
	if written[true] != written[false] {
		t.Error("a database-only root wrote a different database")
	}
}

// The database files are read as regular files of the root only: a
// symlink (even to a database elsewhere), a directory or a FIFO in their
// place is refused, and a FIFO does not block the read.
func TestLoadDatabaseRefusesNonRegularFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, root, db string)
	}{
		{"symlink", func(t *testing.T, root, db string) {
			elsewhere := filepath.Join(t.TempDir(), "installed")
			if err := os.WriteFile(elsewhere, []byte("P:evil\nV:1-r0\n\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(elsewhere, db); err != nil {
				t.Fatal(err)
			}
		}},
		{"directory", func(t *testing.T, root, db string) {
			if err := os.Mkdir(db, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"fifo", func(t *testing.T, root, db string) {
			if err := unix.Mkfifo(db, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			db := filepath.Join(s.root, "usr/lib/apk/db/installed")
			if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
				t.Fatal(err)
			}
			tc.plant(t, s.root, db)
			in := newInstaller(t, s.root, Options{})
			err := in.LoadDatabase()
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Fatalf("LoadDatabase over a %s = %v, want it refused as not a regular file", tc.name, err)
			}
			if n := len(in.Packages()); n != 0 {
				t.Errorf("%d packages loaded", n)
			}
		})
	}
}
