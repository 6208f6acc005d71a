package version

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/internal/testkit"
)

// alpineIndex returns the text of shared/testdata's real Alpine 3.16
// APKINDEX, found from the module root, or skips.
func alpineIndex(tb testing.TB) []byte {
	tb.Helper()
	path := testkit.SharedTestdata(tb, "alpine-3.16/x86_64/APKINDEX.tar.gz")
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	// Signature and index are concatenated gzip members; gzip reads them
	// as one stream and tar sees the members in a row.
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			tb.Fatalf("no APKINDEX member in %s: %v", path, err)
		}
		if h.Name == "APKINDEX" {
			b, err := io.ReadAll(tr)
			if err != nil {
				tb.Fatal(err)
			}
			return b
		}
	}
}

// indexFields returns the values of the "X:" lines of an index.
func indexFields(index []byte, key string) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(index))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			out = append(out, v)
		}
	}
	return out
}

// apk-tools 2.x, which built this index, also accepted a digit after a
// letter; apk-tools 3 and this package do not.
var twoXOnly = regexp.MustCompile(`[0-9][a-z][0-9]`)

func TestRealIndexVersions(t *testing.T) {
	index := alpineIndex(t)
	versions := indexFields(index, "V")
	if len(versions) < 4000 {
		t.Fatalf("only %d versions in the index", len(versions))
	}
	var parsed []Version
	for _, s := range versions {
		v, err := Parse(s)
		if err != nil {
			if !twoXOnly.MatchString(s) {
				t.Errorf("real version rejected: %v", err)
			}
			continue
		}
		parsed = append(parsed, v)
	}
	if len(versions)-len(parsed) > 10 {
		t.Errorf("%d of %d real versions rejected", len(versions)-len(parsed), len(versions))
	}
	// Sorting must be consistent: after sort, every neighbour pair is in
	// order, which would fail for a non-transitive comparison.
	sort.Slice(parsed, func(i, j int) bool { return parsed[i].Compare(parsed[j]) < 0 })
	for i := 1; i < len(parsed); i++ {
		if parsed[i-1].Compare(parsed[i]) > 0 {
			t.Fatalf("sorted out of order: %s before %s", parsed[i-1], parsed[i])
		}
		if CompareLoose(parsed[i-1].String(), parsed[i].String()) > 0 {
			t.Fatalf("CompareLoose disagrees: %s before %s", parsed[i-1], parsed[i])
		}
	}
}

func TestRealIndexDependencies(t *testing.T) {
	index := alpineIndex(t)
	n := 0
	broken := map[string]bool{}
	for _, key := range []string{"D", "p", "i", "r"} {
		for _, field := range indexFields(index, key) {
			deps, err := ParseDependencies(field)
			if err != nil {
				// Only malformed versions may fail, and the loose parser
				// keeps those as apk-tools 3 does.
				for _, tok := range strings.Fields(field) {
					_, isBroken, err := ParseDependencyLoose(tok)
					if err != nil {
						t.Errorf("%s: %v", key, err)
					}
					if _, err := ParseDependency(tok); (err != nil) != isBroken {
						t.Errorf("%s: %q: strict error %v, loose broken %v", key, tok, err, isBroken)
					}
					if isBroken {
						broken[tok] = true
					}
				}
				continue
			}
			for _, d := range deps {
				n++
				if again, err := ParseDependency(d.String()); err != nil || !sameDep(again, d) {
					t.Errorf("%s: %q does not round-trip: %v", key, d.String(), err)
				}
			}
		}
	}
	if n < 15000 {
		t.Errorf("only %d dependencies read", n)
	}
	// Alpine 3.16 has a handful, e.g. pc:librtmp=v2.4 and cmd:smtp=6.8.0p2-r4.
	if len(broken) == 0 || len(broken) > 20 {
		t.Errorf("%d broken constraints: %v", len(broken), broken)
	}
	t.Logf("%d constraints, %d distinct broken ones", n, len(broken))
}
