package plan

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kiln-build/kiln/plan/lockfile"
)

// countingSource is a HostSource that records which files were read.
type countingSource struct {
	*HostSource
	mu   sync.Mutex
	read []string
}

func (s *countingSource) ReadContext(ctx context.Context, paths []string, max int64) (map[string][]byte, error) {
	s.mu.Lock()
	s.read = append(s.read, paths...)
	s.mu.Unlock()
	return s.HostSource.ReadContext(ctx, paths, max)
}

func (s *countingSource) Head(ctx context.Context, loc, name string, n int64) ([]byte, error) {
	s.mu.Lock()
	s.read = append(s.read, "head "+loc)
	s.mu.Unlock()
	return s.HostSource.Head(ctx, loc, name, n)
}

// planWith plans dir's apko.yaml through src.
func planWith(t *testing.T, dir string, src Source, opts Options) (*Plan, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "apko.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := Load(context.Background(), "apko.yaml", data, src)
	if err != nil {
		return nil, err
	}
	host, _ := TargetOf("x86_64")
	targets, err := Targets(req, nil, host.Platform)
	if err != nil {
		return nil, err
	}
	return Resolve(context.Background(), req, targets, src, opts)
}

// lockOf plans dir and returns the lock of the plan, through a JSON
// round trip as a build reads it from disk.
func lockOf(t *testing.T, dir string) *Lock {
	t.Helper()
	pl, err := planContext(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := &HostSource{Root: dir}
	l, err := pl.Lock(context.Background(), "apko.yaml", src.Open)
	if err != nil {
		t.Fatal(err)
	}
	data, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := lockfile.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return &Lock{Name: "apko.lock.json", Lock: back}
}

func nameVersions(p *Platform) string {
	var out []string
	for _, pk := range p.Packages {
		out = append(out, pk.Name+"-"+pk.Version+"@"+pk.ContextPath(p.Arch))
	}
	return strings.Join(out, " ")
}

// TestResolveLocked checks that a plan following a lock installs the
// same packages in the same order, from the locked locations, reading no
// index and no key file, and that stale or tampered locks are refused.
func TestResolveLocked(t *testing.T) {
	const config = testRepoConfig + "  packages: [hello]\narchs: [x86_64, aarch64]\n"
	dir := testContext(t, config)
	free, err := planContext(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	lock := lockOf(t, dir)

	src := &countingSource{HostSource: &HostSource{Root: dir}}
	locked, err := planWith(t, dir, src, Options{Lock: lock})
	if err != nil {
		t.Fatal(err)
	}
	for i := range free.Platforms {
		if a, b := nameVersions(free.Platforms[i]), nameVersions(locked.Platforms[i]); a != b {
			t.Errorf("%s: locked plan installs %s, unlocked %s", free.Platforms[i].Arch, b, a)
		}
		if len(locked.Platforms[i].Packages) != 3 {
			t.Errorf("%s: %d packages", locked.Platforms[i].Arch, len(locked.Platforms[i].Packages))
		}
		for _, pk := range locked.Platforms[i].Packages {
			if pk.Location == "" {
				t.Errorf("%s has no locked location", pk)
			}
		}
	}
	for _, r := range src.read {
		if strings.Contains(r, "APKINDEX") || strings.HasSuffix(r, ".rsa.pub") {
			t.Errorf("read %s while following the lock", r)
		}
	}
	if len(src.read) != 6 {
		t.Errorf("read %d files, want the 6 packages' heads: %v", len(src.read), src.read)
	}

	tests := []struct {
		name       string
		config     string // "" keeps the config
		lockConfig string // the config the lock is made for; "" the same
		edit       func(l *lockfile.Lock)
		want       string
	}{
		{"config changed", config + "cmd: /bin/true\n", "", nil, "apko.lock.json was written for another version of apko.yaml"},
		{"a package missing", "", "", func(l *lockfile.Lock) {
			l.Config = nil
			l.Contents.Packages = l.Contents.Packages[1:]
		}, "world: hello: hello-2.12-r1 -> base: base-1.0-r0: ruled out: not available for x86_64 (resolving against the packages apko.lock.json locks)"},
		{"packages the config no longer installs", "", config + "# s6 dropped\n",
			func(l *lockfile.Lock) { l.Config = nil },
			"apko.lock.json does not match apko.yaml for x86_64: it locks [execline-2.9-r0 s6-2.12-r0], which the config does not install: lock the config again"},
		{"tampered checksum", "", "", func(l *lockfile.Lock) {
			l.Contents.Packages[0].Checksum = "Q1" + strings.Repeat("A", 27) + "="
		}, "checksum mismatch"},
		{"no key", "", "", func(l *lockfile.Lock) { l.Contents.Keyring = nil }, "apko.yaml:3:13: keyring: apko.lock.json holds no key for ./keys/"},
		{"an arch not locked", "", "", func(l *lockfile.Lock) {
			l.Contents.Packages = l.Contents.Packages[:3]
		}, "apko.lock.json locks no packages for aarch64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testContext(t, config)
			if tt.lockConfig != "" {
				os.WriteFile(filepath.Join(d, "apko.yaml"), []byte(strings.Replace(tt.lockConfig, "[hello]", "[hello, s6]", 1)), 0o644)
			}
			l := lockOf(t, d)
			os.WriteFile(filepath.Join(d, "apko.yaml"), []byte(config), 0o644)
			if tt.edit != nil {
				tt.edit(l.Lock)
			}
			if tt.config != "" {
				os.WriteFile(filepath.Join(d, "apko.yaml"), []byte(tt.config), 0o644)
			}
			_, err := planWith(t, d, &HostSource{Root: d}, Options{Lock: l})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want %q", err, tt.want)
			}
		})
	}
}

// headsSource is a countingSource that reads heads of context files in
// batches, as the frontend does.
type headsSource struct {
	*countingSource
	batches [][]string
}

func (s *headsSource) ReadContextHeads(ctx context.Context, heads map[string]int64) (map[string][]byte, error) {
	out := map[string][]byte{}
	var batch []string
	for p, n := range heads {
		batch = append(batch, p)
		f, err := s.open(p)
		if err != nil {
			return nil, err
		}
		dt := make([]byte, n)
		k, _ := io.ReadFull(f, dt)
		f.Close()
		out[p] = dt[:k]
	}
	s.batches = append(s.batches, batch)
	return out, nil
}

// TestResolveLockedReadsHeadsTogether: a source that reads many context
// files' heads at once is asked once for every locked package in the
// build context (through BuildKit, one transfer from the client instead of
// one per package), and the plan is the one reading them one by one
// makes.
func TestResolveLockedReadsHeadsTogether(t *testing.T) {
	const config = testRepoConfig + "  packages: [hello]\narchs: [x86_64, aarch64]\n"
	dir := testContext(t, config)
	lock := lockOf(t, dir)
	one, err := planWith(t, dir, &countingSource{HostSource: &HostSource{Root: dir}}, Options{Lock: lock})
	if err != nil {
		t.Fatal(err)
	}
	src := &headsSource{countingSource: &countingSource{HostSource: &HostSource{Root: dir}}}
	together, err := planWith(t, dir, src, Options{Lock: lock})
	if err != nil {
		t.Fatal(err)
	}
	if len(src.batches) != 1 || len(src.batches[0]) != 6 || len(src.read) != 0 {
		t.Errorf("heads read in batches %v and one by one %v; want the 6 packages in one batch", src.batches, src.read)
	}
	for i := range one.Platforms {
		if a, b := nameVersions(one.Platforms[i]), nameVersions(together.Platforms[i]); a != b {
			t.Errorf("%s: %s read together, %s one by one", one.Platforms[i].Arch, b, a)
		}
	}

	// A package missing from the context fails the batch; reading the
	// packages one by one then names the one that is missing.
	if err := os.Remove(filepath.Join(dir, "packages", "aarch64", "libhello-1.0-r0.apk")); err != nil {
		t.Fatal(err)
	}
	_, oneErr := planWith(t, dir, &countingSource{HostSource: &HostSource{Root: dir}}, Options{Lock: lock})
	_, togetherErr := planWith(t, dir, &headsSource{countingSource: &countingSource{HostSource: &HostSource{Root: dir}}}, Options{Lock: lock})
	if oneErr == nil || togetherErr == nil || oneErr.Error() != togetherErr.Error() || !strings.Contains(togetherErr.Error(), "libhello-1.0-r0 (aarch64)") {
		t.Errorf("a missing package: %v, one by one %v", togetherErr, oneErr)
	}
}
