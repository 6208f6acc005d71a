package integration

import (
	"archive/tar"
	"bytes"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/integration/ocitest"
)

func TestLocalRepoImage(t *testing.T) {
	requireStack(t)
	ctx := exampleContext(t, "local-repo", nil, 0)
	l, _ := buildOCI(t, ctx, "--platform", "linux/amd64")
	img := onlyImage(t, l)
	fs, err := l.Rootfs(img)
	if err != nil {
		t.Fatal(err)
	}

	// Every layer entry has mtime 0 (no SOURCE_DATE_EPOCH given).
	for _, d := range img.Manifest.Layers {
		entries, err := l.Layer(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Header.ModTime.Unix() != 0 {
				t.Errorf("layer %s: %s mtime %v", d.Digest.Encoded()[:12], e.Header.Name, e.Header.ModTime)
			}
		}
	}

	// Files apko generates over what packages ship: accounts are extended.
	extended := map[string]bool{"etc/passwd": true, "etc/group": true}

	// The packages' files are in the image with their contents, modes
	// and owners.
	db := installedDB(t, fs)
	want := map[string]bool{}
	var names []string
	for _, p := range db {
		names = append(names, p.Name+"-"+p.Version)
		for path, e := range apkEntries(t, filepath.Join(ctx, "packages", "x86_64", p.Filename())) {
			want[path] = true
			got, ok := fs[path]
			if !ok {
				t.Errorf("%s: %s missing from the image", p.Name, path)
				continue
			}
			if got.Header.Typeflag != e.hdr.Typeflag && !(e.hdr.Typeflag == tar.TypeLink && got.Header.Typeflag == tar.TypeReg) {
				t.Errorf("%s: type %c, package has %c", path, got.Header.Typeflag, e.hdr.Typeflag)
			}
			if e.hdr.Typeflag != tar.TypeSymlink && got.Header.Mode&0o7777 != e.hdr.Mode&0o7777 {
				t.Errorf("%s: mode %o, package has %o", path, got.Header.Mode&0o7777, e.hdr.Mode&0o7777)
			}
			if got.Header.Uid != e.hdr.Uid || got.Header.Gid != e.hdr.Gid {
				t.Errorf("%s: owner %d:%d, package has %d:%d", path, got.Header.Uid, got.Header.Gid, e.hdr.Uid, e.hdr.Gid)
			}
			if e.hdr.Typeflag == tar.TypeReg && !extended[path] && !bytes.Equal(got.Data, e.data) {
				t.Errorf("%s: contents differ from the package", path)
			}
		}
	}
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "busybox-1.36.1-r0 hello-2.12-r0 kiln-baselayout-1.0-r0 libhello-1.0-r0 suid-tool-0.3-r1" {
		t.Errorf("installed %s", got)
	}
	if h := fs["usr/bin/suid-tool"].Header; h == nil || h.Mode&0o4000 == 0 {
		t.Errorf("setuid bit lost on usr/bin/suid-tool")
	}

	// Everything else is a generated file apko would write.
	applets := strings.Fields(string(fs["etc/busybox-paths.d/busybox"].Data))
	generated := map[string]bool{
		"etc/apk": true, "etc/apk/world": true, "etc/apk/repositories": true, "etc/apk/arch": true,
		"etc/apk/keys": true, "etc/apk/keys/kiln-test.rsa.pub": true,
		"usr/lib/apk": true, "usr/lib/apk/db": true, "usr/lib/apk/db/installed": true,
		"usr/lib/apk/db/scripts.tar": true, "usr/lib/apk/db/triggers": true, "usr/lib/apk/db/lock": true,
		"usr/lib/apk/exec": true, "lib": true, "lib/apk": true,
		"etc/shadow": true, "home/app": true, "var/cache": true, "var/cache/app": true,
		"var/cache/apk": true, "var/cache/misc": true, "opt": true, "proc": true,
		"dev": true, "dev/console": true, "dev/null": true, "dev/random": true, "dev/urandom": true, "dev/zero": true,
	}
	for _, a := range applets {
		// A link and the directories it needs (sbin, usr/sbin, ...).
		for p := strings.TrimPrefix(a, "/"); p != "." && p != ""; p = filepath.Dir(p) {
			generated[p] = true
		}
	}
	for _, p := range ocitest.Paths(fs) {
		if !want[p] && !generated[p] {
			t.Errorf("%s is in the image but in no package and not a generated file", p)
		}
	}
	for p := range generated {
		if _, ok := fs[p]; !ok && !want[p] {
			t.Errorf("generated %s missing", p)
		}
	}
	for p := range extended {
		if !bytes.HasPrefix(fs[p].Data, apkEntries(t, filepath.Join(ctx, "packages", "x86_64", "kiln-baselayout-1.0-r0.apk"))[p].data) {
			t.Errorf("%s does not extend the packaged file", p)
		}
	}
	if got := string(fs["etc/apk/world"].Data); got != "busybox=1.36.1-r0\nhello=2.12-r0\nkiln-baselayout=1.0-r0\nlibhello=1.0-r0\nsuid-tool=0.3-r1\n" {
		t.Errorf("world %q", got)
	}
	if got := string(fs["etc/passwd"].Data); !strings.HasSuffix(got, "app:x:10001:10001:Account created by apko:/home/app:/bin/sh\n") || !strings.HasPrefix(got, "root:x:0:0:") {
		t.Errorf("passwd %q", got)
	}
	if got := string(fs["etc/shadow"].Data); got != "app:!:::::::\n" {
		t.Errorf("shadow %q", got)
	}
	if target := fs["bin/sh"].Header; target == nil || target.Linkname != "/bin/busybox" {
		t.Errorf("bin/sh: %+v", target)
	}

	// Image config as apko sets it.
	c := img.Config
	if c.Architecture != "amd64" || c.OS != "linux" || c.Created == nil || c.Created.Unix() != 0 {
		t.Errorf("platform %s/%s created %v", c.OS, c.Architecture, c.Created)
	}
	cc := c.Config
	if strings.Join(cc.Entrypoint, "|") != "/usr/bin/hello" || strings.Join(cc.Cmd, "|") != "--greeting|hi there" ||
		cc.User != "10001" || cc.WorkingDir != "/home/app" || cc.StopSignal != "SIGTERM" {
		t.Errorf("config %+v", cc)
	}
	wantEnv := "APP_MODE=production PATH=/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"
	if got := strings.Join(cc.Env, " "); got != wantEnv {
		t.Errorf("env %s", got)
	}
	if cc.Labels["org.opencontainers.image.title"] != "kiln local example" || img.Manifest.Annotations["org.opencontainers.image.title"] != "kiln local example" {
		t.Errorf("labels %v annotations %v", cc.Labels, img.Manifest.Annotations)
	}
	if len(c.History) != len(img.Manifest.Layers) {
		t.Errorf("%d history entries for %d layers", len(c.History), len(img.Manifest.Layers))
	}

	// A scanner sees exactly the installed packages.
	syftCheck(t, l, db)
}

func TestNoShellImage(t *testing.T) {
	requireStack(t)
	ctx := exampleContext(t, "no-shell", nil, 0)
	l, _ := buildOCI(t, ctx, "--build-arg", "SOURCE_DATE_EPOCH=1700000000")
	fs, err := l.Rootfs(onlyImage(t, l))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"bin/sh", "bin/busybox", "usr/bin/sh"} {
		if _, ok := fs[p]; ok {
			t.Errorf("%s in an image that asked for no shell", p)
		}
	}
	for p, e := range fs {
		if e.Header.ModTime.Unix() != 1700000000 {
			t.Errorf("%s mtime %d, want SOURCE_DATE_EPOCH", p, e.Header.ModTime.Unix())
		}
	}
}

func TestHTTPRepoImage(t *testing.T) {
	requireStack(t)
	ctx := exampleContext(t, "http-repo", nil, 0)
	ln, err := net.Listen("tcp", "127.0.0.1:18080")
	if err != nil {
		t.Fatalf("the example serves on 127.0.0.1:18080: %v", err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(ctx))}
	go srv.Serve(ln)
	defer srv.Close()
	l, _ := buildOCI(t, ctx)
	fs, err := l.Rootfs(onlyImage(t, l))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(fs["etc/apk/repositories"].Data); got != "http://127.0.0.1:18080/packages\n" {
		t.Errorf("repositories %q", got)
	}
	if _, ok := fs["usr/bin/hello"]; !ok {
		t.Error("hello not installed from the HTTP repository")
	}
}
