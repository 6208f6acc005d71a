// Command testrepo writes kiln's example apk repository: real, signed
// packages (a static busybox from Debian's busybox-static among them)
// for the examples in dockerfile-syntax-examples/ and the end-to-end
// tests. The signing key is kept next to the repository (and made when
// missing) so rebuilding gives byte-identical packages.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/integration/testrepo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "testrepo:", err)
		os.Exit(1)
	}
}

type setFlag map[string]string

func (s setFlag) String() string { return fmt.Sprint(map[string]string(s)) }
func (s setFlag) Set(v string) error {
	name, ver, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want NAME=VERSION, got %q", v)
	}
	s[name] = ver
	return nil
}

func run() error {
	dir := flag.String("dir", "", "repository directory to write")
	key := flag.String("key", "", "RSA private key (PEM); made when missing (default: the user cache dir, never the build context)")
	bbAmd64 := flag.String("busybox-x86_64", testrepo.HostBusybox(), "static busybox for x86_64")
	bbArm64 := flag.String("busybox-aarch64", "", "static busybox for aarch64 (optional)")
	filler := flag.Int("filler", 0, "extra filler packages (for the benchmark image)")
	goroot := flag.String("goroot", "", "add a go toolchain package made from this GOROOT (e.g. $(go env GOROOT))")
	versions := setFlag{}
	flag.Var(versions, "set", "`NAME=VERSION` override a package version (repeatable)")
	flag.Parse()
	if *dir == "" {
		return fmt.Errorf("--dir is required")
	}
	if *bbAmd64 == "" {
		return fmt.Errorf("no static busybox: install Debian's busybox-static or pass --busybox-x86_64")
	}
	if *key == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return err
		}
		*key = filepath.Join(cache, "kiln", "kiln-test.rsa")
	}
	signer, err := loadOrMakeKey(*key)
	if err != nil {
		return err
	}
	bb := map[string]string{"x86_64": *bbAmd64}
	if *bbArm64 != "" {
		bb["aarch64"] = *bbArm64
	}
	recs, err := testrepo.Write(testrepo.Options{Dir: *dir, Signer: signer, Busybox: bb, ListWith: *bbAmd64,
		Versions: versions, Filler: *filler, GoRoot: *goroot})
	if err != nil {
		return err
	}
	archs := make([]string, 0, len(recs))
	for a := range recs {
		archs = append(archs, a)
	}
	sort.Strings(archs)
	for _, a := range archs {
		fmt.Printf("%s: %d packages in %s\n", a, len(recs[a]), filepath.Join(*dir, a))
	}
	return nil
}

func loadOrMakeKey(path string) (*sign.Signer, error) {
	if _, err := os.Stat(path); err == nil {
		return sign.LoadSigner(path)
	}
	s, err := sign.GenerateSigner(filepath.Base(path)+".pub", 2048)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, s.PrivateKeyPEM(), 0o600); err != nil {
		return nil, err
	}
	return s, nil
}
