package install

import (
	"archive/tar"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestModesAndOwners(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown to other users and keep setuid")
	}
	s := newSandbox(t)
	in := newInstaller(t, s.root, Options{Chown: ChownAlways})
	ents := []ent{
		dir("bin/"),
		withMode(file("bin/su", "suid"), 0o4755),
		withMode(file("bin/wall", "sgid"), 0o2711),
		withMode(dir("tmp/"), 0o1777),
		withMode(dir("srv/"), 0o2750),
		withMode(dir("ro/"), 0o555),
		file("ro/inside", "written before the dir became read-only"),
		owned(withMode(file("bin/secret", "s"), 0o600), 1000, 42),
		owned(withMode(dir("home/"), 0o700), 1000, 1000),
		owned(symlink("link", "bin/su"), 7, 8),
	}
	if err := in.Install(pkgInfo("a"), tarOf(t, ents...), Control{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path     string
		mode     fs.FileMode
		uid, gid uint32
	}{
		{"bin/su", 0o755 | fs.ModeSetuid, 0, 0},
		{"bin/wall", 0o711 | fs.ModeSetgid, 0, 0},
		{"tmp", fs.ModeDir | 0o777 | fs.ModeSticky, 0, 0},
		{"srv", fs.ModeDir | 0o750 | fs.ModeSetgid, 0, 0},
		{"ro", fs.ModeDir | 0o555, 0, 0},
		{"bin/secret", 0o600, 1000, 42},
		{"home", fs.ModeDir | 0o700, 1000, 1000},
		{"link", fs.ModeSymlink | 0o777, 7, 8},
	}
	for _, tc := range tests {
		fi := lstat(t, s.root, tc.path)
		if fi.Mode() != tc.mode {
			t.Errorf("%s: mode %v, want %v", tc.path, fi.Mode(), tc.mode)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != tc.uid || st.Gid != tc.gid {
			t.Errorf("%s: owner %d:%d, want %d:%d", tc.path, st.Uid, st.Gid, tc.uid, tc.gid)
		}
	}
}

func TestChownNever(t *testing.T) {
	s := newSandbox(t)
	in := newInstaller(t, s.root, Options{Chown: ChownNever})
	if err := in.Install(pkgInfo("a"), tarOf(t, owned(file("f", "x"), 1234, 5678)), Control{}); err != nil {
		t.Fatal(err)
	}
	st := lstat(t, s.root, "f").Sys().(*syscall.Stat_t)
	if st.Uid != uint32(os.Geteuid()) {
		t.Errorf("owner %d, want the extracting user %d", st.Uid, os.Geteuid())
	}
	// The database still records the owner the package asks for.
	if fs := in.Files("a"); len(fs) != 1 || fs[0].UID != 1234 || fs[0].GID != 5678 {
		t.Errorf("files = %+v", fs)
	}
}

// xattrsSupported probes whether the test filesystem takes user.* xattrs.
func xattrsSupported(t *testing.T, dir string) bool {
	p := filepath.Join(dir, "probe")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(p)
	return unix.Setxattr(p, "user.probe", []byte("1"), 0) == nil
}

func TestXattrs(t *testing.T) {
	s := newSandbox(t)
	if !xattrsSupported(t, s.outside) {
		t.Skip("filesystem refuses user.* xattrs")
	}
	in := newInstaller(t, s.root, Options{})
	x := func(e ent, kv ...string) ent {
		e.pax = map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			e.pax["SCHILY.xattr."+kv[i]] = kv[i+1]
		}
		return e
	}
	ents := []ent{
		x(dir("d/"), "user.dir", "on a dir"),
		x(file("d/f", "x"), "user.one", "1", "user.two", "second"),
		file("d/plain", "x"),
	}
	if err := in.Install(pkgInfo("a"), tarOf(t, ents...), Control{}); err != nil {
		t.Fatal(err)
	}
	get := func(p, name string) string {
		buf := make([]byte, 64)
		n, err := unix.Lgetxattr(filepath.Join(s.root, p), name, buf)
		if err != nil {
			return "error: " + err.Error()
		}
		return string(buf[:n])
	}
	for _, c := range []struct{ path, name, want string }{
		{"d", "user.dir", "on a dir"},
		{"d/f", "user.one", "1"},
		{"d/f", "user.two", "second"},
	} {
		if got := get(c.path, c.name); got != c.want {
			t.Errorf("%s %s = %q, want %q", c.path, c.name, got, c.want)
		}
	}
	// apk's digest: SHA-1 over (be32 len, name, be32 len, value) in name
	// order; this value was computed separately with Python's hashlib.
	recs := map[string]FileRecord{}
	for _, f := range in.Files("a") {
		recs[f.Path] = f
	}
	if got, want := recs["d/f"].XattrDigest, "Q1rYBQKg2+lEg+Ba7q/h81o86BYy0="; got != want {
		t.Errorf("d/f xattr digest %q, want %q", got, want)
	}
	if got := recs["d/plain"].XattrDigest; got != "" {
		t.Errorf("d/plain xattr digest %q, want none", got)
	}
}

// Every entry, directories and symlinks included, carries the
// SOURCE_DATE_EPOCH mtime once installs and the database are written.
func TestMtimesAreSourceDateEpoch(t *testing.T) {
	const epoch = 1700000000
	s := newSandbox(t)
	in := newInstaller(t, s.root, Options{SourceDateEpoch: epoch})
	a := []ent{
		dir("usr/"), dir("usr/bin/"), file("usr/bin/a", "a"), hardlink("usr/bin/a2", "usr/bin/a"),
		symlink("usr/bin/s", "a"), symlink("dangling", "/nowhere"), withMode(dir("ro/"), 0o555),
		file("ro/f", "f"), dir("empty/"),
	}
	b := []ent{dir("usr/"), dir("usr/lib/"), file("usr/lib/b", "b"), file("usr/bin/c", "c")}
	if err := in.Install(pkgInfo("a"), tarOf(t, a...), Control{}); err != nil {
		t.Fatal(err)
	}
	if err := in.Install(pkgInfo("b"), tarOf(t, b...), Control{}); err != nil {
		t.Fatal(err)
	}
	if err := in.WriteDatabase(DatabaseFiles{World: []string{"a", "b"}, Keys: map[string][]byte{"k.rsa.pub": []byte("key")}}); err != nil {
		t.Fatal(err)
	}
	want := time.Unix(epoch, 0)
	n := 0
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		n++
		if !fi.ModTime().Equal(want) {
			t.Errorf("%s (%v): mtime %v, want %v", p, fi.Mode().Type(), fi.ModTime().UTC(), want.UTC())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Errorf("walked only %d entries", n)
	}
}

func TestUnsupportedEntryType(t *testing.T) {
	s := newSandbox(t)
	in := newInstaller(t, s.root, Options{})
	err := in.Install(pkgInfo("a"), tarOf(t, ent{typ: tar.TypeGNUSparse, name: "sparse"}), Control{})
	if err == nil {
		t.Fatal("Install succeeded, want an error")
	}
}

func TestHeaderChecksumVerified(t *testing.T) {
	tests := []struct {
		name    string
		e       ent
		wantErr bool
	}{
		{"matching hex", ent{name: "f", body: "hello", pax: map[string]string{paxChecksumKey: "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"}}, false},
		{"matching Q1", ent{name: "f", body: "hello", pax: map[string]string{paxChecksumKey: sha1Of("hello")}}, false},
		{"mismatch", ent{name: "f", body: "hellO", pax: map[string]string{paxChecksumKey: "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"}}, true},
		{"garbage", ent{name: "f", body: "hello", pax: map[string]string{paxChecksumKey: "zz"}}, true},
		{"symlink mismatch", ent{typ: tar.TypeSymlink, name: "s", link: "a", pax: map[string]string{paxChecksumKey: "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			in := newInstaller(t, s.root, Options{})
			err := in.Install(pkgInfo("a"), tarOf(t, tc.e), Control{})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Install = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				if names := dirNames(t, s.root); len(names) != 0 {
					t.Errorf("root holds %q after a failed entry", names)
				}
			}
		})
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	s := newSandbox(t)
	if _, err := New(filepath.Join(s.outside, "sentinel"), Options{}); err == nil {
		t.Error("New on a file succeeded")
	}
	if _, err := New(filepath.Join(s.top, "missing"), Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("New on a missing dir = %v", err)
	}
	for _, db := range []string{"/abs/installed", "../installed", "."} {
		if _, err := New(s.root, Options{DBPath: db}); err == nil {
			t.Errorf("New with DBPath %q succeeded", db)
		}
	}
}
