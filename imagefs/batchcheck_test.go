package imagefs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/step"
)

// writeTree makes dir hold entries: "d" a directory, "f" a regular file,
// anything else a symlink to it.
func writeTree(t *testing.T, dir string, entries map[string]string) {
	t.Helper()
	for p, kind := range entries {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch kind {
		case "d":
			err = os.MkdirAll(full, 0o755)
		case "f":
			err = os.WriteFile(full, []byte("x"), 0o644)
		default:
			err = os.Symlink(kind, full)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func writeJSON(t *testing.T, file string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheckBatches(t *testing.T) {
	// The first batch hands on usr-merge's bin link; the others are one
	// layer each, and the last one's lookups are what the case says.
	first := map[string]string{"usr/bin": "d", "bin": "usr/bin"}
	jvm := map[string]string{"opt/jvm/java-17": "d", "opt/jvm/default": "java-17"}
	tests := []struct {
		name    string
		middle  []map[string]string // layers of the batches between the first and the last
		lookups []string            // the last batch's
		differs string              // "" or a part of the verdict
	}{
		{"nothing between", nil, []string{"bin", "opt"}, ""},
		{"no link between", []map[string]string{{"opt/a": "d"}}, []string{"bin", "opt"}, ""},
		{"a link between, looked up", []map[string]string{jvm}, []string{"opt", "opt/jvm", "opt/jvm/default"}, "/opt/jvm/default: install batch 3 found nothing below it, the batches below would have given a symlink to java-17"},
		{"a link between, not looked up", []map[string]string{jvm}, []string{"opt", "opt/jvm"}, ""},
		{"the first's link made again", []map[string]string{{"usr/bin": "d", "bin": "usr/bin"}}, []string{"bin"}, ""},
		{"the first's link changed", []map[string]string{{"opt/bin": "d", "bin": "opt/bin"}}, []string{"bin"}, "/bin: install batch 3 found a symlink to usr/bin"},
		{"a link to a file between", []map[string]string{{"usr/lib/libx.so.1.2": "f", "usr/lib/libx.so.1": "libx.so.1.2"}}, []string{"usr/lib/libx.so.1"}, ""},
		{"a link two batches down", []map[string]string{{"opt/a": "d"}, jvm}, []string{"opt/jvm/default"}, "install batch 4 found nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			var layers []string
			var batches []step.InstallBatch
			add := func(entries map[string]string, lookups []string) {
				i := len(batches)
				layer, links := filepath.Join(tmp, "layer", strings.Repeat("x", i+1)), filepath.Join(tmp, "links", strings.Repeat("x", i+1))
				for _, d := range []string{layer, links} {
					if err := os.MkdirAll(d, 0o755); err != nil {
						t.Fatal(err)
					}
				}
				writeTree(t, layer, entries)
				if i == 0 {
					writeJSON(t, filepath.Join(links, step.LinksFile), []step.Link{{Path: "bin", Target: "usr/bin"}})
				} else {
					writeJSON(t, filepath.Join(links, step.LookupsFile), lookups)
				}
				layers = append(layers, layer)
				batches = append(batches, step.InstallBatch{Links: links, Layers: 1})
			}
			add(first, nil)
			for _, m := range tt.middle {
				add(m, []string{"bin"})
			}
			add(map[string]string{"opt/b": "d"}, tt.lookups)
			v, err := checkBatches(layers, batches)
			if err != nil {
				t.Fatal(err)
			}
			if tt.differs == "" && v.Differs != "" || !strings.Contains(v.Differs, tt.differs) {
				t.Errorf("verdict %q, want one with %q", v.Differs, tt.differs)
			}
			if tt.differs != "" {
				checkDiffersOut(t, tmp, layers, batches, v)
			}
		})
	}
}

// checkDiffersOut runs the metadata step over batches that differ: its
// output holds the verdict, for the frontend to find, and nothing else.
func checkDiffersOut(t *testing.T, tmp string, layers []string, batches []step.InstallBatch, want step.Verdict) {
	t.Helper()
	spec, out := filepath.Join(tmp, "spec.json"), filepath.Join(tmp, "out")
	writeJSON(t, spec, step.ImageSpec{})
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ImageMeta(step.ImageMeta{Spec: spec, Out: out, Layers: layers, Batches: batches}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(out)
	if err != nil || len(entries) != 1 || entries[0].Name() != step.DiffersFile {
		t.Fatalf("the metadata step's output holds %v (%v), want only %s", entries, err, step.DiffersFile)
	}
	data, err := os.ReadFile(filepath.Join(out, step.DiffersFile))
	var got step.Verdict
	if err == nil {
		err = json.Unmarshal(data, &got)
	}
	if err != nil || got != want {
		t.Errorf("verdict written %+v (%v), want %+v", got, err, want)
	}
}

// TestBatchesSideBySideAsChained installs three batches (the usr-merge
// baselayout, a library, a package with /bin and /sbin paths) side by
// side and chained: the check finds nothing, and the third batch's layer
// and record are the same bytes either way.
func TestBatchesSideBySideAsChained(t *testing.T) {
	dir, pkgs := usrMergeRepo(t)
	keys := filepath.Join(dir, "keys")
	batch := func(mode, name, lower string) step.InstallAPK {
		out, meta, links := filepath.Join(dir, mode, "out", name), filepath.Join(dir, mode, "meta", name), filepath.Join(dir, mode, "links", name)
		for _, d := range []string{out, meta, links} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		s := step.InstallAPK{Keyring: keys, Lower: lower, Links: links, Layers: []step.InstallLayer{{Out: out, Meta: meta,
			Packages: []step.APKFile{{Path: filepath.Join(dir, "repo", "x86_64", pkgs[name].Filename()), Checksum: pkgs[name].Checksum}}}}}
		if err := InstallAPK(s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := batch("both", "baselayout", "")
	second := batch("both", "libfoo", first.Links)
	side := batch("side", "legacy", first.Links)
	chained := batch("chained", "legacy", second.Links)

	layers := []string{first.Layers[0].Out, second.Layers[0].Out, side.Layers[0].Out}
	v, err := checkBatches(layers, []step.InstallBatch{{Links: first.Links, Layers: 1}, {Links: second.Links, Layers: 1}, {Links: side.Links, Layers: 1}})
	if err != nil || v.Differs != "" {
		t.Fatalf("verdict %+v, %v; want none", v, err)
	}
	// The layer whole; the record by content and mode (its own files'
	// times are the step's clock: the record stays out of the image).
	if a, b := listing(t, side.Layers[0].Out), listing(t, chained.Layers[0].Out); a != b {
		t.Errorf("layers side by side and chained differ:\n%s", lineDiff(a, b))
	}
	if a, b := withoutTimes(listing(t, side.Layers[0].Meta)), withoutTimes(listing(t, chained.Layers[0].Meta)); a != b {
		t.Errorf("records side by side and chained differ:\n%s", lineDiff(a, b))
	}
}

// withoutTimes drops the mtime field (the fourth) from listing's lines.
func withoutTimes(l string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(l, "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 {
			f = append(f[:3], f[4:]...)
		}
		b.WriteString(strings.Join(f, " ") + "\n")
	}
	return b.String()
}
