package plan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
)

// readsSource is a HostSource that records each ReadContext call; with
// failFirst its first call fails, as a read ahead does when a file is
// missing.
type readsSource struct {
	*HostSource
	failFirst bool
	mu        sync.Mutex
	calls     [][]string
}

func (s *readsSource) ReadContext(ctx context.Context, paths []string, max int64) (map[string][]byte, error) {
	s.mu.Lock()
	s.calls = append(s.calls, append([]string(nil), paths...))
	fail := s.failFirst && len(s.calls) == 1
	s.mu.Unlock()
	if fail {
		return nil, &PathError{Path: paths[0], Err: errors.New("refused by the test")}
	}
	return s.HostSource.ReadContext(ctx, paths, max)
}

// TestResolveReadsKeysAndIndexesTogether checks that planning reads the
// keyring and every context repository's index for every arch in one read
// of the build context; that when that read fails it reads them one after
// the other and plans the same; and that a key file over its own limit
// (under the indexes', which the read ahead uses) is still refused at its
// keyring entry.
func TestResolveReadsKeysAndIndexesTogether(t *testing.T) {
	dir := testContext(t, testRepoConfig+"  packages: [hello, s6]\narchs: [x86_64, aarch64]\n")
	src := &readsSource{HostSource: &HostSource{Root: dir}}
	got, err := planWith(t, dir, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := "keys/" + apktest.KeyName
	indexes := []string{"packages/aarch64/APKINDEX.tar.gz", "packages/x86_64/APKINDEX.tar.gz"}
	if want := [][]string{append([]string{key}, indexes...)}; !reflect.DeepEqual(src.calls, want) {
		t.Errorf("context reads = %q, want one read of %q", src.calls, want)
	}

	split := &readsSource{HostSource: &HostSource{Root: dir}, failFirst: true}
	oneByOne, err := planWith(t, dir, split, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(split.calls) != 3 || !reflect.DeepEqual(split.calls[1], []string{key}) || len(split.calls[2]) != 2 {
		t.Errorf("after a failed read ahead, context reads = %q, want the keys, then the indexes", split.calls)
	}
	if len(got.Platforms) != 2 || len(oneByOne.Platforms) != 2 {
		t.Fatalf("platforms: %d and %d, want 2", len(got.Platforms), len(oneByOne.Platforms))
	}
	for i := range got.Platforms {
		if a, b := nameVersions(got.Platforms[i]), nameVersions(oneByOne.Platforms[i]); a != b {
			t.Errorf("platform %d: %s, reading one by one %s", i, a, b)
		}
	}
	if !reflect.DeepEqual(got.Keys, oneByOne.Keys) {
		t.Error("the keys differ from reading them on their own")
	}

	// Read ahead under the indexes' limit, a key over its own is still
	// refused, at its entry.
	if err := os.WriteFile(filepath.Join(dir, "keys", apktest.KeyName), make([]byte, MaxKeyBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = planWith(t, dir, &HostSource{Root: dir}, Options{})
	if err == nil || !strings.Contains(err.Error(), "apko.yaml:3:") || !strings.Contains(err.Error(), "keyring:") {
		t.Fatalf("oversized key: err = %v, want it refused at the keyring entry", err)
	}
}
