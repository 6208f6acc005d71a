package resolve

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
)

// alpineResolver reads shared/testdata's Alpine 3.16 index. Its signing
// key is not in shared/testdata, so these tests SKIP SIGNATURE
// VERIFICATION explicitly (AllowUntrusted); apk/index tests that the
// same file is refused without it.
var alpineOnce struct {
	sync.Once
	r   *Resolver
	err error
}

func alpineResolver(tb testing.TB) *Resolver {
	tb.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		dir = filepath.Dir(dir)
	}
	p := filepath.Join(dir, "..", "shared", "testdata", "alpine-3.16", "x86_64", "APKINDEX.tar.gz")
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared test data absent: %v", err)
	}
	alpineOnce.Do(func() {
		f, err := os.Open(p)
		if err != nil {
			alpineOnce.err = err
			return
		}
		defer f.Close()
		idx, err := index.Read(f, index.ReadOptions{AllowUntrusted: true}) // verification skipped: key absent
		if err != nil {
			alpineOnce.err = err
			return
		}
		alpineOnce.r, alpineOnce.err = New([]Repository{{Name: "alpine-3.16/main", Arch: "x86_64", Packages: idx.Packages}})
	})
	if alpineOnce.err != nil {
		tb.Fatal(alpineOnce.err)
	}
	return alpineOnce.r
}

var alpineWorlds = []string{"python3", "alpine-base", "nginx", "build-base", "openssh", "git"}

// The expectations below were checked by hand against the index text
// (a Python one-off that splits APKINDEX records and lists the providers
// of each name; not the resolver):
//   - python3 3.10.8-r0 needs so:liblzma.so.5 (only xz-libs), so:libssl.so.1.1
//     (only libssl1.1), so:libffi.so.8 (libffi) and so:libsqlite3.so.0 (sqlite-libs);
//   - nginx needs /bin/sh, which only busybox provides, and so:libpcre.so.1 (pcre);
//   - git needs so:libcurl.so.4, only libcurl;
//   - alpine-base pulls openrc, which needs ifupdown-any: ifupdown-ng (k:900)
//     beats busybox-ifupdown (k:200) and ifupdown (k:100), so apk picks ifupdown-ng;
//   - build-base lists gcc, g++, make, binutils, libc-dev, fortify-headers, patch, file;
//   - openssh pulls openssh-server, openssh-sftp-server and the virtual
//     openssh-client, offered by openssh-client-default (k:1) and
//     openssh-client-krb5 (no k:; the two conflict), so -default;
//   - ssl_client has i:busybox=1.35.0-r17 libssl1.1, so it comes with nginx
//     and git (both get busybox and libssl1.1), and with alpine-base.
var alpineMust = map[string][]string{
	"python3":     {"python3", "musl", "xz-libs", "libssl1.1", "libcrypto1.1", "libffi", "sqlite-libs", "zlib"},
	"nginx":       {"nginx", "busybox", "pcre", "libssl1.1", "zlib", "ssl_client"},
	"git":         {"git", "libcurl", "pcre2", "expat", "ssl_client"},
	"alpine-base": {"alpine-base", "openrc", "ifupdown-ng", "busybox", "apk-tools", "alpine-keys", "libc-utils"},
	"build-base":  {"build-base", "gcc", "g++", "make", "binutils", "libc-dev", "fortify-headers", "patch", "file", "musl-dev"},
	"openssh":     {"openssh", "openssh-client-default", "openssh-client-common", "openssh-server", "openssh-sftp-server"},
}
var alpineMustNot = map[string][]string{
	"alpine-base": {"busybox-ifupdown", "ifupdown"},
	"openssh":     {"openssh-client-krb5"},
	"python3":     {"ssl_client"}, // no busybox in python3's closure
}

func TestAlpineWorlds(t *testing.T) {
	r := alpineResolver(t)
	for _, w := range alpineWorlds {
		t.Run(w, func(t *testing.T) {
			sol, err := r.Resolve([]string{w})
			if err != nil {
				t.Fatal(err)
			}
			checkClosure(t, r, sol)
			got := map[string]bool{}
			for _, p := range sol.Packages {
				got[p.Package.Name] = true
			}
			for _, n := range alpineMust[w] {
				if !got[n] {
					t.Errorf("%s: closure lacks %s", w, n)
				}
			}
			for _, n := range alpineMustNot[w] {
				if got[n] {
					t.Errorf("%s: closure has %s", w, n)
				}
			}
			// Whatever the world's dependencies do not reach came through
			// install_if, whose conditions must then hold.
			reach := map[string]bool{}
			var walk func(rp *Resolved)
			walk = func(rp *Resolved) {
				if reach[rp.Package.Name] {
					return
				}
				reach[rp.Package.Name] = true
				for _, d := range rp.Depends {
					walk(d)
				}
			}
			for _, rp := range sol.Packages {
				if rp.Package.Name == w {
					walk(rp)
				}
			}
			for _, rp := range sol.Packages {
				if reach[rp.Package.Name] {
					continue
				}
				if len(rp.Package.InstallIf) == 0 {
					t.Errorf("%s: %s is neither a dependency nor install_if", w, rp.Package.Name)
				}
			}
			t.Logf("%s: %d packages", w, len(sol.Packages))
		})
	}
}

func BenchmarkNewAlpine316(b *testing.B) {
	r := alpineResolver(b)
	repos := []Repository{*r.repos[0]}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := New(repos); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolveAlpine316(b *testing.B) {
	r := alpineResolver(b)
	for _, w := range alpineWorlds {
		b.Run(w, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := r.Resolve([]string{w}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// synthetic50k is a repository shaped like a big distribution: every
// package needs libc and a couple of libraries by so: name, some need a
// command, and libraries come in two versions.
func synthetic50k() []Repository {
	var pkgs []*index.Package
	pkgs = append(pkgs, &index.Package{Name: "libc", Version: "1.2.3-r0", Arch: "x86_64", Provides: []string{"so:libc.so.1=1"}})
	for i := 0; i < 50000; i++ {
		p := &index.Package{Name: fmt.Sprintf("pkg%05d", i), Version: fmt.Sprintf("%d.%d-r%d", i%9, i%17, i%3), Arch: "x86_64",
			Provides:     []string{fmt.Sprintf("so:libp%05d.so.1=1.0", i), fmt.Sprintf("cmd:p%05d=1", i)},
			Dependencies: []string{"so:libc.so.1"}}
		if i > 10 {
			p.Dependencies = append(p.Dependencies, fmt.Sprintf("so:libp%05d.so.1", i/2), fmt.Sprintf("cmd:p%05d", i/3))
		}
		pkgs = append(pkgs, p)
		if i%10 == 0 { // an older version too
			old := *p
			old.Version = "0.1-r0"
			pkgs = append(pkgs, &old)
		}
	}
	return []Repository{{Name: "synthetic", Arch: "x86_64", Packages: pkgs}}
}

func BenchmarkResolve50k(b *testing.B) {
	repos := synthetic50k()
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := New(repos); err != nil {
				b.Fatal(err)
			}
		}
	})
	r, err := New(repos)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("resolve", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sol, err := r.Resolve([]string{"pkg49999", "pkg31337", "pkg20000"})
			if err != nil || len(sol.Packages) < 20 {
				b.Fatal(err)
			}
		}
	})
}
