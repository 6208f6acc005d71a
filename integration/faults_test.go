package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// faultConfig writes an apko.yaml installing tool from the repository at
// repo (a URL, or a context path), trusting the key at key; only
// build_repositories, so the image does not record where it came from and
// every build of it has one digest.
func faultConfig(t *testing.T, ctx, repo, key string) {
	t.Helper()
	cfg := "contents:\n  build_repositories:\n    - " + repo + "\n  keyring:\n    - " + key + "\n  packages:\n    - tool\narchs: [x86_64]\n"
	if err := os.WriteFile(filepath.Join(ctx, "apko.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
}

// timedBuild builds ctx's apko.yaml into an OCI tar, giving up after
// limit (a hung build is a failure of its own); it returns the output,
// the image digest ("" when the build failed) and how long it took.
func timedBuild(t *testing.T, ctx string, limit time.Duration, args ...string) (string, string, time.Duration) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.tar")
	c, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	full := append([]string{"buildx", "build", "--builder", builderName(), "--progress", "plain",
		"-f", filepath.Join(ctx, "apko.yaml"), "--build-arg", "BUILDKIT_SYNTAX=" + frontendImage(),
		"--output", "type=oci,dest=" + out}, args...)
	cmd := exec.CommandContext(c, "docker", append(full, ctx)...)
	start := time.Now()
	b, err := cmd.CombinedOutput()
	took := time.Since(start)
	if c.Err() != nil {
		t.Fatalf("build still running after %s:\n%s", limit, lastLines(string(b), 15))
	}
	if err != nil {
		return string(b), "", took
	}
	return string(b), onlyImage(t, loadLayout(t, out)).Descriptor.Digest.String(), took
}

// TestRepositoryFaults serves the repository from a loopback server that
// misbehaves on one file (the index, the key, the package) at a time.
// Every faulty build ends in bounded time, either recovered (a 503 once is
// retried) or with an error naming the URL and what went wrong; and the
// next build against a healthy server gives the reference digest: no
// damaged download stays in BuildKit's cache to fail it (a server sending
// half a file under the real file's ETag would leave one).
func TestRepositoryFaults(t *testing.T) {
	requireStack(t)
	r := newHostileRepo(t).addRaw(raw("tool", rawDir("opt"), rawFile("opt/tool", "tool", 0o755))).writeIndex(nil)
	ctx := r.ctx
	faultConfig(t, ctx, "./packages", "./packages/"+r.signer.KeyName)
	_, reference, _ := timedBuild(t, ctx, 3*time.Minute)
	if reference == "" {
		t.Fatal("reference build failed")
	}
	srv := newFaultServer(t, ctx)
	apkSize := len(r.apks["tool-1.0-r0.apk"])
	files := map[string]string{"index": "x86_64/APKINDEX.tar.gz", "key": r.signer.KeyName, "apk": "x86_64/tool-1.0-r0.apk"}
	const reset = `read tcp 127\.0\.0\.1:\d+->127\.0\.0\.1:\d+: read: connection reset by peer`
	cases := []struct {
		target   string
		f        fault
		want     string // the last line's message, a regexp where FILE is the file's URL and REPO the repository's (a package's error is at its repository entry); "" when the build recovers
		requests int    // for the faulty file, in the faulty build (a reset may cost one more: Go's client retries a request a reused connection lost)
	}{
		{"index", fault500, `apko\.yaml:3:7: repository REPO: fetch FILE: HTTP 500 Internal Server Error \(after 3 attempts\)`, 3},
		{"index", fault503Once, "", 2},
		{"index", faultTruncated, `apko\.yaml:3:7: repository REPO: fetch FILE: unexpected EOF \(after 3 attempts\)`, 3},
		{"index", faultShortLength, `apko\.yaml:3:7: repository REPO: index FILE: signature member: gzip: unexpected EOF`, 2},
		{"index", faultReset, `apko\.yaml:3:7: repository REPO: fetch FILE: ` + reset + ` \(after 3 attempts\)`, 3},
		{"index", faultHTML, `apko\.yaml:3:7: repository REPO: fetch FILE: the server answered with an HTML page, not the file`, 2},
		{"index", faultStall, `apko\.yaml:3:7: repository REPO: fetch FILE: no complete answer within 5s \(build arg KILN_FETCH_TIMEOUT sets the time allowed\)`, 1},
		{"key", faultShortLength, `apko\.yaml:5:7: keyring: key "kiln-test\.rsa\.pub": no PEM block found`, 2},
		{"key", faultHTML, `apko\.yaml:5:7: keyring: fetch FILE: the server answered with an HTML page, not the file`, 2},
		{"apk", fault500, `apko\.yaml:3:7: repository REPO: package tool-1\.0-r0 \(x86_64\): fetch FILE: HTTP 500 Internal Server Error \(after 3 attempts\)`, 3},
		{"apk", fault503Once, "", 2},
		{"apk", faultTruncated, `apko\.yaml:3:7: repository REPO: package tool-1\.0-r0 \(x86_64\): fetch FILE: unexpected EOF \(after 3 attempts\)`, 3},
		{"apk", faultShortLength, fmt.Sprintf(`apko\.yaml:3:7: repository REPO: package tool-1\.0-r0 \(x86_64\): fetch FILE: got %d bytes where the signed index says %d \(a body cut short, or an error page\)`, apkSize/2, apkSize), 2},
		{"apk", faultReset, `apko\.yaml:3:7: repository REPO: package tool-1\.0-r0 \(x86_64\): fetch FILE: ` + reset + ` \(after 3 attempts\)`, 3},
		{"apk", faultHTML, fmt.Sprintf(`apko\.yaml:3:7: repository REPO: package tool-1\.0-r0 \(x86_64\): fetch FILE: got 64 bytes where the signed index says %d \(a body cut short, or an error page\)`, apkSize), 2},
		{"apk", faultStall, `apko\.yaml:3:7: repository REPO: package tool-1\.0-r0 \(x86_64\): fetch FILE: no complete answer within 5s \(build arg KILN_FETCH_TIMEOUT sets the time allowed\)`, 1},
	}
	for _, c := range cases {
		name := c.target + "-" + string(c.f)
		t.Run(name, func(t *testing.T) {
			// A repository URL of its own: nothing of it is in BuildKit's
			// cache before the faulty build.
			dir := filepath.Join(ctx, name)
			if err := exec.Command("cp", "-r", filepath.Join(ctx, "packages"), dir).Run(); err != nil {
				t.Fatal(err)
			}
			key := "./packages/" + r.signer.KeyName
			if c.target == "key" {
				key = srv.url(name + "/" + r.signer.KeyName)
			}
			faultConfig(t, ctx, srv.url(name), key)
			file := name + "/" + files[c.target]
			srv.set(file, c.f)
			out, digest, took := timedBuild(t, ctx, 4*time.Minute, "--build-arg", "KILN_FETCH_TIMEOUT=5s")
			t.Logf("%s: faulty build took %s, %d requests", name, took.Round(10*time.Millisecond), srv.requests(file))
			if c.want == "" {
				if digest != reference {
					t.Errorf("faulty build: digest %q, want the reference %s:\n%s", digest, reference, lastLines(out, 10))
				}
			} else {
				want := strings.NewReplacer("FILE", regexp.QuoteMeta(srv.url(file)), "REPO", regexp.QuoteMeta(srv.url(name))).Replace(c.want)
				if msg, ok := failureMessage(lastLine(out)); !ok || !regexp.MustCompile("^"+want+"$").MatchString(msg) {
					t.Errorf("faulty build's last line:\n got %s\nwant %s%s", lastLine(out), failurePrefixes[0], want)
				}
			}
			if got := srv.requests(file); got != c.requests && !(c.f == faultReset && got == c.requests+1) {
				t.Errorf("%d requests for %s, want %d", got, file, c.requests)
			}
			if c.f == faultStall {
				// The download given up on is not left hanging in buildkitd.
				deadline := time.Now().Add(30 * time.Second)
				for srv.abandonedRequests(file) < srv.requests(file) && time.Now().Before(deadline) {
					time.Sleep(100 * time.Millisecond)
				}
				if got, want := srv.abandonedRequests(file), srv.requests(file); got != want {
					t.Errorf("%d of %d stalled requests still open 30s after the build", want-got, want)
				}
			}
			srv.set(file, faultNone)
			out, digest, took = timedBuild(t, ctx, 4*time.Minute)
			t.Logf("%s: next build took %s", name, took.Round(10*time.Millisecond))
			if digest != reference {
				t.Errorf("next build: digest %q, want the reference %s:\n%s", digest, reference, lastLines(out, 10))
			}
		})
	}
	checkServes(t)
}
