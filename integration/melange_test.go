package integration

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/pkg"
	"github.com/kiln-build/kiln/apk/sign"
)

// melangeContext copies an example's files into a fresh build context and
// writes the test repository into its packages/ (with a go toolchain
// package when withGo).
func melangeContext(t *testing.T, example string, withGo bool) string {
	t.Helper()
	ctx := t.TempDir()
	srcDir := filepath.Join("..", "dockerfile-syntax-examples", example)
	ents, err := os.ReadDir(srcDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(srcDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(ctx, e.Name()), data, 0o644)
	}
	goroot := ""
	if withGo {
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			t.Fatal(err)
		}
		goroot = strings.TrimSpace(string(out))
	}
	writeRepoWith(t, filepath.Join(ctx, "packages"), nil, goroot)
	return ctx
}

// buildPackages builds ctx's melange.yaml into a fresh directory outside
// the context and returns it with buildx's output.
func buildPackages(t *testing.T, ctx string, args ...string) (string, string) {
	t.Helper()
	out := t.TempDir()
	log := buildx(t, ctx, "melange.yaml", append(args, "--output", "type=local,dest="+out)...)
	return out, log
}

// readRepo verifies a built repository (its index and every package
// against the public key next to it) and returns its records by name.
func readRepo(t *testing.T, out, arch string) map[string]*index.Package {
	t.Helper()
	pub, err := os.ReadFile(filepath.Join(out, "melange.rsa.pub"))
	if err != nil {
		t.Fatal(err)
	}
	kr := sign.NewKeyring()
	if err := kr.Add("melange.rsa.pub", pub); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(out, arch, "APKINDEX.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	idx, err := index.Read(f, index.ReadOptions{Keyring: kr})
	if err != nil {
		t.Fatalf("index: %v", err)
	}
	recs := map[string]*index.Package{}
	for _, p := range idx.Packages {
		recs[p.Name] = p
		fh, err := os.Open(filepath.Join(out, arch, p.Filename()))
		if err != nil {
			t.Fatal(err)
		}
		r, err := pkg.Open(fh, pkg.ReadOptions{Keyring: kr, ExpectedChecksum: p.Checksum})
		if err != nil {
			t.Fatalf("%s: %v", p.Filename(), err)
		}
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
		fh.Close()
	}
	return recs
}

func names(m map[string]*index.Package) string {
	var out []string
	for n, p := range m {
		out = append(out, n+"-"+p.Version)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestMelangeShell builds the shell example: vars and var-transforms in
// the script, a -dev subpackage split off with split/dev, one subpackage
// per data item, and a test that runs the built package.
func TestMelangeShell(t *testing.T) {
	requireStack(t)
	ctx := melangeContext(t, "melange-shell", false)
	out, log := buildPackages(t, ctx, "--platform", "linux/amd64")
	recs := readRepo(t, out, "x86_64")
	if got := names(recs); got != "greeting-1.2.0-r3 greeting-dev-1.2.0-r3 greeting-en-1.2.0-r3 greeting-fr-1.2.0-r3" {
		t.Fatalf("packages %s", got)
	}
	files := apkEntries(t, filepath.Join(out, "x86_64", "greeting-1.2.0-r3.apk"))
	if got := string(files["usr/bin/greeting"].data); !strings.Contains(got, `echo "hello, world (1_2_0)"`) {
		t.Errorf("usr/bin/greeting = %q: vars not substituted", got)
	}
	if _, ok := files["usr/include/greeting.h"]; ok {
		t.Error("the header stayed in the main package; split/dev should have moved it")
	}
	dev := apkEntries(t, filepath.Join(out, "x86_64", "greeting-dev-1.2.0-r3.apk"))
	for _, p := range []string{"usr/include/greeting.h", "usr/lib/libgreeting.a"} {
		if _, ok := dev[p]; !ok {
			t.Errorf("greeting-dev lacks %s", p)
		}
	}
	if got := string(apkEntries(t, filepath.Join(out, "x86_64", "greeting-fr-1.2.0-r3.apk"))["usr/share/greeting/fr"].data); got != "bonjour\n" {
		t.Errorf("greeting-fr has %q", got)
	}
	if recs["greeting-dev"].Origin != "greeting" || !strings.Contains(strings.Join(recs["greeting"].Provides, " "), "cmd:greeting=1.2.0-r3") {
		t.Errorf("origin %q provides %v", recs["greeting-dev"].Origin, recs["greeting"].Provides)
	}
	if !strings.Contains(log, "test step 1: greets the world") {
		t.Errorf("the test did not run:\n%s", lastLines(log, 20))
	}
}

// TestMelangeFailingTest changes the test so it fails: the build fails
// and shows the step's output.
func TestMelangeFailingTest(t *testing.T) {
	requireStack(t)
	ctx := melangeContext(t, "melange-shell", false)
	editFile(t, filepath.Join(ctx, "melange.yaml"), `grep -q "hello, world (1_2_0)"`, `grep "goodbye"`)
	out, err := tryBuildx(ctx, "melange.yaml", "--platform", "linux/amd64", "--output", "type=local,dest="+t.TempDir())
	if err == nil {
		t.Fatalf("a failing test passed:\n%s", lastLines(out, 10))
	}
	for _, want := range []string{"test step 1: greets the world", "hello, world (1_2_0)", "melange.yaml:65:3: test failed on x86_64: [x86_64] test step 1: greets the world: exited with status 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("buildx output lacks %q:\n%s", want, lastLines(out, 15))
		}
	}
}

// TestMelangeTestOnlyChange edits only the test: no build step and no
// packaging runs again.
func TestMelangeTestOnlyChange(t *testing.T) {
	requireStack(t)
	ctx := melangeContext(t, "melange-shell", false)
	buildPackages(t, ctx, "--platform", "linux/amd64")
	editFile(t, filepath.Join(ctx, "melange.yaml"), `greeting | grep -q "hello, world (1_2_0)"`, `greeting | grep -q "hello, world"`)
	_, log := buildPackages(t, ctx, "--platform", "linux/amd64")
	for name, ran := range stepsRun(log, "] build step ", "] package and sign", "] test step ") {
		want := strings.Contains(name, "] test step ")
		if ran != want {
			t.Errorf("%s ran: %v, want %v", name, ran, want)
		}
	}
}

// TestMelangeNoNetwork runs a step that downloads from a loopback server:
// it fails without the opt-in, naming it, and works with it.
func TestMelangeNoNetwork(t *testing.T) {
	requireStack(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("from the network\n")) })}
	go srv.Serve(ln)
	defer srv.Close()
	ctx := melangeContext(t, "melange-shell", false)
	editFile(t, filepath.Join(ctx, "melange.yaml"), "  - name: build\n    runs: |\n",
		"  - name: download\n    runs: wget -O ${{targets.destdir}}/downloaded http://"+ln.Addr().String()+"/\n  - name: build\n    runs: |\n")
	out, err := tryBuildx(ctx, "melange.yaml", "--platform", "linux/amd64", "--output", "type=local,dest="+t.TempDir())
	if err == nil {
		t.Fatalf("a step reached the network without the opt-in:\n%s", lastLines(out, 10))
	}
	for _, want := range []string{"build step 1: download", "KILN_NETWORK=1"} {
		if !strings.Contains(out, want) {
			t.Errorf("buildx output lacks %q:\n%s", want, lastLines(out, 12))
		}
	}
	pkgs, log := buildPackages(t, ctx, "--platform", "linux/amd64", "--build-arg", "KILN_NETWORK=1")
	if !strings.Contains(log, "build step 1 (network): download") {
		t.Errorf("the step's name does not say it has the network:\n%s", lastLines(log, 30))
	}
	if got := string(apkEntries(t, filepath.Join(pkgs, "x86_64", "greeting-1.2.0-r3.apk"))["downloaded"].data); got != "from the network\n" {
		t.Errorf("downloaded = %q", got)
	}
}

// stepsRun maps the vertices whose names contain one of the texts to
// whether they ran (true) or came from the cache.
func stepsRun(log string, texts ...string) map[string]bool {
	ids := map[string]string{}
	out := map[string]bool{}
	for _, line := range strings.Split(log, "\n") {
		id, rest, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(id, "#") {
			continue
		}
		for _, tx := range texts {
			if strings.Contains(rest, tx) && strings.HasPrefix(rest, "[") {
				ids[id] = rest
				if _, seen := out[rest]; !seen {
					out[rest] = true
				}
			}
		}
		if rest == "CACHED" {
			if name, ok := ids[id]; ok {
				out[name] = false
			}
		}
	}
	return out
}

func editFile(t *testing.T, p, old, new string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q", p, old)
	}
	os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}
