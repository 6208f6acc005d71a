package imagefs

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kiln-build/kiln/step"
)

// lowerTree builds a usr-merged package rootfs like Wolfi's.
func lowerTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mk := func(p string, mode fs.FileMode, data string) {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(full, mode)
	}
	os.MkdirAll(filepath.Join(dir, "usr/bin"), 0o755)
	os.MkdirAll(filepath.Join(dir, "var/lib/nginx"), 0o750)
	os.Chown(filepath.Join(dir, "var/lib/nginx"), 101, 101)
	os.Symlink("usr/bin", filepath.Join(dir, "bin"))
	mk("usr/bin/busybox", 0o755, "ELF")
	mk("usr/bin/ls", 0o755, "real ls")
	mk("etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/bin/sh\n")
	mk("etc/group", 0o644, "root:x:0:\nshadow:x:42:\n")
	mk("etc/busybox-paths.d/busybox", 0o644, "/bin/busybox\n/bin/sh\n/bin/ls\n/usr/sbin/crond\n\n")
	mk("etc/nginx/nginx.conf", 0o644, "conf")
	return dir
}

func u32(v uint32) *uint32 { return &v }

func TestGenerate(t *testing.T) {
	lower := lowerTree(t)
	out := t.TempDir()
	spec := &step.ImageSpec{
		Arch:         "x86_64",
		World:        []string{"nginx", "busybox"},
		Repositories: []string{"https://packages.wolfi.dev/os"},
		Accounts: step.Accounts{
			Users:  []step.User{{Name: "www", UID: 1000, GID: u32(1000)}, {Name: "nonroot", UID: 65532}},
			Groups: []step.Group{{Name: "www", GID: 1000, Members: []string{"www"}}},
		},
		Paths: []step.Path{
			{Path: "/var/cache/app", Type: "directory", UID: u32(1000), GID: u32(1000), Permissions: 0o750},
			{Path: "/etc/app/ready", Type: "empty-file", Permissions: 0o600},
			{Path: "/etc/nginx/nginx.conf", Type: "permissions", UID: u32(1000), Permissions: 0o640},
			{Path: "/usr/local/bin/app", Type: "symlink", Source: "/bin/busybox", Permissions: 0o777},
		},
	}
	epoch := time.Unix(1700000000, 0)
	err := Generate(Input{Spec: spec, Layers: []string{lower}, Out: out, Epoch: epoch,
		InstalledDB: []byte("P:busybox\n\n"), Packages: []Installed{{Name: "busybox"}},
		Keys: map[string][]byte{"k.rsa.pub": []byte("KEY")}})
	if err != nil {
		t.Fatal(err)
	}

	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(out, p))
		if err != nil {
			t.Fatalf("read %s: %v", p, err)
		}
		return string(b)
	}
	if got := read("etc/apk/world"); got != "busybox\nnginx\n" {
		t.Errorf("world = %q", got)
	}
	if got := read("etc/apk/arch"); got != "x86_64\n" {
		t.Errorf("arch = %q", got)
	}
	if got := read("etc/apk/keys/k.rsa.pub"); got != "KEY" {
		t.Errorf("key = %q", got)
	}
	if got := read(InstalledDBPath); got != "P:busybox\n\n" {
		t.Errorf("installed = %q", got)
	}
	wantPasswd := "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/bin/sh\nwww:x:1000:1000:Account created by apko:/home/www:/bin/sh\n"
	if got := read("etc/passwd"); got != wantPasswd {
		t.Errorf("passwd = %q", got)
	}
	if got := read("etc/group"); got != "root:x:0:\nshadow:x:42:\nwww:x:1000:www\n" {
		t.Errorf("group = %q", got)
	}
	if got := read("etc/shadow"); got != "www:!:::::::\n" {
		t.Errorf("shadow = %q (only the added user, locked)", got)
	}
	checkMeta(t, out, "etc/shadow", 0o640, 0, 42)
	checkMeta(t, out, "home/www", fs.ModeDir|0o700, 1000, 1000)
	checkMeta(t, out, "home/nonroot", fs.ModeDir|0o700, 65532, 65532)
	checkMeta(t, out, "root", fs.ModeDir|0o700, 0, 0)

	// busybox links land in usr/bin through the /bin symlink, never
	// shadowing it, and skip what packages ship (ls) and busybox itself.
	if _, err := os.Lstat(filepath.Join(out, "bin")); err == nil {
		t.Error("metadata layer created /bin, shadowing the usr-merge symlink")
	}
	for p, want := range map[string]string{"usr/bin/sh": "/bin/busybox", "usr/sbin/crond": "/bin/busybox"} {
		if got, err := os.Readlink(filepath.Join(out, p)); err != nil || got != want {
			t.Errorf("%s -> %q, %v; want %q", p, got, err, want)
		}
	}
	for _, p := range []string{"usr/bin/ls", "usr/bin/busybox"} {
		if _, err := os.Lstat(filepath.Join(out, p)); err == nil {
			t.Errorf("%s written though a package ships it", p)
		}
	}

	checkMeta(t, out, "var/cache/app", fs.ModeDir|0o750, 1000, 1000)
	checkMeta(t, out, "etc/app/ready", 0o600, 0, 0)
	checkMeta(t, out, "etc/nginx/nginx.conf", 0o640, 1000, 0)
	if got := read("etc/nginx/nginx.conf"); got != "conf" {
		t.Errorf("copied-up nginx.conf = %q", got)
	}
	if got, _ := os.Readlink(filepath.Join(out, "usr/local/bin/app")); got != "/bin/busybox" {
		t.Errorf("paths symlink -> %q", got)
	}

	// apko's skeleton: modes, devices, the lock and the /lib/apk link.
	checkMeta(t, out, "tmp", fs.ModeDir|fs.ModeSticky|0o777, 0, 0)
	checkMeta(t, out, "proc", fs.ModeDir|0o555, 0, 0)
	checkMeta(t, out, "usr/lib/apk/db/lock", 0o600, 0, 0)
	checkMeta(t, out, "dev/console", fs.ModeDevice|fs.ModeCharDevice|0o620, 0, 0)
	checkMeta(t, out, "dev/null", fs.ModeDevice|fs.ModeCharDevice|0o666, 0, 0)
	if fi, _ := os.Lstat(filepath.Join(out, "dev/null")); fi != nil {
		if st := fi.Sys().(*syscall.Stat_t); st.Rdev != 1<<8|3 {
			t.Errorf("dev/null is device %#x, want 1,3", st.Rdev)
		}
	}
	if got, _ := os.Readlink(filepath.Join(out, "lib/apk")); got != "../usr/lib/apk" {
		t.Errorf("lib/apk -> %q, want ../usr/lib/apk", got)
	}

	// Every entry has the epoch as mtime, and the layer holds nothing but
	// what is listed here.
	var all []string
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if p == out {
			return nil
		}
		rel, _ := filepath.Rel(out, p)
		all = append(all, rel)
		fi, _ := os.Lstat(p)
		if !fi.ModTime().Equal(epoch) {
			t.Errorf("%s mtime %v, want %v", rel, fi.ModTime(), epoch)
		}
		return nil
	})
	sort.Strings(all)
	want := []string{"dev", "dev/console", "dev/null", "dev/random", "dev/urandom", "dev/zero",
		"etc", "etc/apk", "etc/apk/arch", "etc/apk/keys", "etc/apk/keys/k.rsa.pub", "etc/apk/repositories", "etc/apk/world",
		"etc/app", "etc/app/ready", "etc/group", "etc/nginx", "etc/nginx/nginx.conf", "etc/passwd", "etc/shadow",
		"home", "home/nonroot", "home/www", "lib", "lib/apk", "opt", "proc", "root", "tmp",
		"usr", "usr/bin", "usr/bin/sh", "usr/lib", "usr/lib/apk", "usr/lib/apk/db",
		"usr/lib/apk/db/installed", "usr/lib/apk/db/lock", "usr/lib/apk/db/scripts.tar", "usr/lib/apk/db/triggers", "usr/lib/apk/exec",
		"usr/local", "usr/local/bin", "usr/local/bin/app",
		"usr/sbin", "usr/sbin/crond", "var", "var/cache", "var/cache/apk", "var/cache/app", "var/cache/misc"}
	if strings.Join(all, "\n") != strings.Join(want, "\n") {
		t.Errorf("layer files:\n%s\nwant:\n%s", strings.Join(all, "\n"), strings.Join(want, "\n"))
	}
}

func checkMeta(t *testing.T, root, p string, mode fs.FileMode, uid, gid uint32) {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(root, p))
	if err != nil {
		t.Errorf("%s: %v", p, err)
		return
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode() != mode || st.Uid != uid || st.Gid != gid {
		t.Errorf("%s: mode %v uid %d gid %d; want %v %d %d", p, fi.Mode(), st.Uid, st.Gid, mode, uid, gid)
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name    string
		spec    step.ImageSpec
		wantErr string
	}{
		{"uid clash", step.ImageSpec{Accounts: step.Accounts{Users: []step.User{{Name: "nonroot", UID: 1}}}}, `user "nonroot" has uid 1`},
		{"symlink over package file", step.ImageSpec{Paths: []step.Path{{Path: "/etc/passwd", Type: "symlink", Source: "x"}}}, "already exists"},
		{"permissions on nothing", step.ImageSpec{Paths: []step.Path{{Path: "/nope", Type: "permissions", Permissions: 0o600}}}, "nothing at that path"},
		{"unknown type", step.ImageSpec{Paths: []step.Path{{Path: "/x", Type: "fifo"}}}, `unknown path type "fifo"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Generate(Input{Spec: &tt.spec, Layers: []string{lowerTree(t)}, Out: t.TempDir(), Packages: []Installed{{Name: "busybox"}}})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestBusyboxWithoutPathsList(t *testing.T) {
	lower := lowerTree(t)
	os.Remove(filepath.Join(lower, "etc/busybox-paths.d/busybox"))
	err := Generate(Input{Spec: &step.ImageSpec{}, Layers: []string{lower}, Out: t.TempDir(), Packages: []Installed{{Name: "busybox"}}})
	if err == nil || !strings.Contains(err.Error(), "busybox-paths.d") {
		t.Fatalf("err = %v", err)
	}
}
