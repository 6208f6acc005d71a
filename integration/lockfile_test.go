package integration

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/kiln-build/kiln/plan/lockfile"
)

// TestLockfile checks apko.lock.json as a user meets it: `kiln lock`
// writes it next to the config; a build then installs exactly the locked
// versions, reads no index (the server sees no APKINDEX request), fetches
// every .apk and pins it by its checksum; KILN_LOCKFILE names another
// lock or none. A lock that `apko lock` writes for the same config gives
// the same image.
func TestLockfile(t *testing.T) {
	requireStack(t)
	requireArm64Busybox(t)
	kiln := hostKiln(t)
	ctx := t.TempDir()
	writeRepo(t, filepath.Join(ctx, "packages"), nil, 0)
	var mu sync.Mutex
	var requests []string
	files := http.FileServer(http.Dir(ctx))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.URL.Path)
		mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	served := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := requests
		requests = nil
		return out
	}
	writeFile(t, filepath.Join(ctx, "apko.yaml"), "contents:\n  repositories:\n    - "+srv.URL+"/packages\n  keyring:\n    - "+
		srv.URL+"/packages/kiln-test.rsa.pub\n  packages:\n    - busybox\n    - hello\narchs: [x86_64, aarch64]\n")
	both := []string{"--platform", "linux/amd64,linux/arm64"}

	unlocked, _ := cacheBuild(t, ctx, both...)
	cmd := exec.Command(kiln, "lock", "--context", ctx, filepath.Join(ctx, "apko.yaml"))
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "apko.lock.json: 6 packages for 2 archs") {
		t.Fatalf("kiln lock: %v\n%s", err, out)
	}
	lock := readLock(t, filepath.Join(ctx, "apko.lock.json"))

	// A newer hello is published; the locked build keeps 2.12-r0, whose
	// .apk the repository still serves.
	old, err := os.ReadFile(filepath.Join(ctx, "packages", "x86_64", "hello-2.12-r0.apk"))
	if err != nil {
		t.Fatal(err)
	}
	oldArm, _ := os.ReadFile(filepath.Join(ctx, "packages", "aarch64", "hello-2.12-r0.apk"))
	writeRepo(t, filepath.Join(ctx, "packages"), map[string]string{"hello": "2.13-r0"}, 0)
	writeFile(t, filepath.Join(ctx, "packages", "x86_64", "hello-2.12-r0.apk"), string(old))
	writeFile(t, filepath.Join(ctx, "packages", "aarch64", "hello-2.12-r0.apk"), string(oldArm))
	served()

	locked, log := cacheBuild(t, ctx, both...)
	if locked != unlocked {
		t.Errorf("locked build made %s, the build the lock was taken from %s", locked, unlocked)
	}
	var indexes, apks []string
	for _, p := range served() {
		switch {
		case strings.HasSuffix(p, "APKINDEX.tar.gz"):
			indexes = append(indexes, p)
		case strings.HasSuffix(p, ".apk"):
			apks = append(apks, p)
		}
	}
	if len(indexes) > 0 {
		t.Errorf("the locked build read indexes %v", indexes)
	}
	sort.Strings(apks)
	var want []string
	for _, p := range lock.Contents.Packages {
		want = append(want, strings.TrimPrefix(p.URL, srv.URL))
	}
	sort.Strings(want)
	if len(apks) > 0 && strings.Join(apks, " ") != strings.Join(want, " ") {
		// BuildKit may serve a package from its cache; what it fetches
		// must be the locked files.
		for _, a := range apks {
			if !strings.Contains(strings.Join(want, " "), a) {
				t.Errorf("fetched %s, which the lock does not name", a)
			}
		}
	}
	if strings.Contains(log, "hello-2.13") {
		t.Errorf("the locked build saw hello 2.13:\n%s", lastLines(log, 20))
	}

	// KILN_LOCKFILE=none resolves from the indexes again: hello 2.13.
	fresh, log := cacheBuild(t, ctx, append(both, "--build-arg", "KILN_LOCKFILE=none")...)
	if !strings.Contains(log, "hello-2.13-r0") {
		t.Errorf("KILN_LOCKFILE=none did not install hello 2.13:\n%s", lastLines(log, 20))
	}

	// A lock whose pinned checksum does not match the served package.
	tampered := *lock
	tampered.Contents.Packages = append([]lockfile.Package{}, lock.Contents.Packages...)
	for i, p := range tampered.Contents.Packages {
		if p.Name == "hello" {
			tampered.Contents.Packages[i].Checksum = "Q1" + strings.Repeat("A", 27) + "="
		}
	}
	data, _ := tampered.Marshal()
	os.MkdirAll(filepath.Join(ctx, "locks"), 0o755)
	writeFile(t, filepath.Join(ctx, "locks", "tampered.json"), string(data))
	out := buildFails(t, ctx, append(both, "--build-arg", "KILN_LOCKFILE=locks/tampered.json"))
	if got := kilnError(out); !strings.Contains(got, "tampered.json: hello-2.12-r0 (") || !strings.Contains(got, "checksum mismatch") {
		t.Errorf("tampered lock: %s", got)
	}

	// The repository now serves hello 2.13: apko and kiln write the same
	// lockfile, byte for byte, and apko's lock builds the image a build
	// from the indexes makes.
	t.Run("a lock apko wrote", func(t *testing.T) {
		apko := apkoBinary(t)
		dir := t.TempDir()
		cmd := exec.Command(apko, "lock", "apko.yaml", "--output", filepath.Join(dir, "apko.lock.json"))
		cmd.Dir = ctx
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("apko lock: %v\n%s", err, out)
		}
		cmd = exec.Command(kiln, "lock", "-o", filepath.Join(dir, "kiln.lock.json"), "apko.yaml")
		cmd.Dir = ctx
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kiln lock: %v\n%s", err, out)
		}
		data, _ := os.ReadFile(filepath.Join(dir, "apko.lock.json"))
		if ours, _ := os.ReadFile(filepath.Join(dir, "kiln.lock.json")); string(ours) != string(data) {
			theirs, ours := readLock(t, filepath.Join(dir, "apko.lock.json")), readLock(t, filepath.Join(dir, "kiln.lock.json"))
			t.Errorf("the lockfiles differ; apko locks\n%s\nkiln locks\n%s", lockedSet(theirs), lockedSet(ours))
		}
		writeFile(t, filepath.Join(ctx, "locks", "apko.json"), string(data))
		fromApko, _ := cacheBuild(t, ctx, append(both, "--build-arg", "KILN_LOCKFILE=locks/apko.json")...)
		if fromApko != fresh {
			t.Errorf("building from apko's lock made %s, from the indexes %s", fromApko, fresh)
		}
	})
}

func readLock(t *testing.T, path string) *lockfile.Lock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := lockfile.Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return l
}

// lockedSet renders what a lock pins, one package per line, sorted.
func lockedSet(l *lockfile.Lock) string {
	var out []string
	for _, p := range l.Contents.Packages {
		b, _ := json.Marshal(p)
		out = append(out, string(b))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// TestLockfileContextRepository: following a lock whose packages are in
// the build context, the frontend reads every locked package's signature
// and control sections through one transfer of the context, the one the
// install steps read the packages from (where it took one per package),
// and a locked package missing from the context is named as such.
func TestLockfileContextRepository(t *testing.T) {
	requireStack(t)
	kiln := hostKiln(t)
	ctx := exampleContext(t, "local-repo", nil, 0)
	cmd := exec.Command(kiln, "lock", "--context", ctx, "--arch", "x86_64", filepath.Join(ctx, "apko.yaml"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kiln lock: %v\n%s", err, out)
	}
	lock := readLock(t, filepath.Join(ctx, "apko.lock.json"))
	if n := len(lock.Contents.Packages); n < 4 {
		t.Fatalf("the lock holds %d packages; the test needs several", n)
	}

	_, log := buildOCI(t, ctx, "--platform", "linux/amd64", "--no-cache")
	transfers := map[string]bool{} // vertex numbers
	for _, line := range strings.Split(log, "\n") {
		if num, rest, ok := strings.Cut(line, " "); ok && strings.HasPrefix(num, "#") && rest == "[internal] load build context" {
			transfers[num] = true
		}
	}
	if len(transfers) != 1 {
		t.Errorf("%d transfers of the build context (%v), want one for the packages' heads and the steps both:\n%s", len(transfers), transfers, lastLines(log, 40))
	}

	var missing string
	for _, p := range lock.Contents.Packages {
		if p.Name == "hello" {
			missing = p.URL
		}
	}
	if err := os.Remove(filepath.Join(ctx, missing)); err != nil {
		t.Fatal(err)
	}
	out := buildFails(t, ctx, []string{"--platform", "linux/amd64"})
	if got := kilnError(out); !strings.Contains(got, "apko.lock.json: hello-") || !strings.Contains(got, missing+": not found in the build context") {
		t.Errorf("a locked package missing from the context: %s", got)
	}
}
