package integration

import (
	"archive/tar"
	"bytes"
	cryptorand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/apktest"
	"github.com/kiln-build/kiln/integration/ocitest"
)

func TestOnePackageBump(t *testing.T) {
	requireStack(t)
	ctx := exampleContext(t, "local-repo", nil, 0)
	before, _ := buildOCI(t, ctx, "--platform", "linux/amd64")
	// Bump hello; every other package is rewritten byte-identical.
	os.RemoveAll(filepath.Join(ctx, "packages"))
	writeRepo(t, filepath.Join(ctx, "packages"), map[string]string{"hello": "2.13-r0"}, 0)
	after, log := buildOCI(t, ctx, "--platform", "linux/amd64")

	// Only the install batch that holds hello ran again.
	steps := installSteps(log)
	var ran []string
	for name, didRun := range steps {
		if didRun {
			ran = append(ran, name)
		}
	}
	if len(ran) != 1 || !strings.Contains(ran[0], "hello-2.13-r0") {
		t.Errorf("install steps that ran: %v (all: %v); the bump's progress:\n%s", ran, steps, log)
	}

	layers := func(l *ocitest.Layout) []string {
		img := onlyImage(t, l)
		var out []string
		for _, d := range img.Manifest.Layers {
			out = append(out, d.Digest.String())
		}
		return out
	}
	a, b := layers(before), layers(after)
	if len(a) != len(b) {
		t.Fatalf("layer count %d -> %d", len(a), len(b))
	}
	var changed []int
	for i := range a {
		if a[i] != b[i] {
			changed = append(changed, i)
		}
	}
	// hello's layer and the metadata layer (last) change, nothing else.
	if len(changed) != 2 || changed[1] != len(a)-1 {
		t.Errorf("changed layers %v of %d", changed, len(a))
	}
}

// layerDigests lists the image's layer digests in order.
func layerDigests(t *testing.T, l *ocitest.Layout) []string {
	t.Helper()
	var out []string
	for _, d := range onlyImage(t, l).Manifest.Layers {
		out = append(out, d.Digest.String())
	}
	return out
}

// TestBumpKeepsUnchangedLayers: when a bump re-runs an install step, a
// layer of the same step that did not change is found in BuildKit's cache
// by its content (its copy into the image is CACHED), so the export does
// not compress it again; and the copy keeps what install wrote: a
// hardlink, a setuid file with a capability, a symlink, the zero mtime.
func TestBumpKeepsUnchangedLayers(t *testing.T) {
	requireStack(t)
	// VFS_CAP_REVISION_2 with cap_net_bind_service permitted and effective.
	netBind := string([]byte{0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00})
	// A seed per run, so that every step is new to a buildkitd that ran
	// this test before.
	var seed [32]byte
	cryptorand.Read(seed[:])
	data := make([]byte, 3<<19) // 1.5 MiB, some work for the copy
	rand.NewChaCha8(seed).Read(data)
	big := apktest.Package{Name: "big", Version: "1.0-r0", Files: []apktest.File{
		{Path: "usr", Dir: true}, {Path: "usr/lib", Dir: true}, {Path: "usr/lib/big", Dir: true},
		{Path: "usr/lib/big/data", Data: data},
		{Path: "usr/lib/big/data-link", Hardlink: "usr/lib/big/data"},
		{Path: "usr/bin", Dir: true},
		{Path: "usr/bin/bigtool", Mode: 0o755 | os.ModeSetuid, Data: []byte("tool"), Xattrs: map[string]string{"security.capability": netBind}},
		{Path: "usr/bin/bt", Symlink: "bigtool"},
	}}
	bump := func(v string) apktest.Package {
		return apktest.Package{Name: "bump", Version: v, Files: []apktest.File{
			{Path: "usr", Dir: true}, {Path: "usr/share", Dir: true}, {Path: "usr/share/bump", Data: fmt.Appendf(nil, "%s %x", v, seed)}}}
	}
	// Two contexts: the same big package, bump before and after.
	before, log1 := buildOCI(t, newHostileRepo(t).add(big, bump("1.0-r0")).writeIndex(nil).config("big", "bump"), "--no-cache")
	ctx := newHostileRepo(t).add(big, bump("2.0-r0")).writeIndex(nil).config("big", "bump")
	after, log2 := buildOCI(t, ctx)

	var ran []string
	for name, didRun := range installSteps(log2) {
		if didRun {
			ran = append(ran, name)
		}
	}
	if len(ran) != 1 || !strings.Contains(ran[0], "big-1.0-r0") || !strings.Contains(ran[0], "bump-2.0-r0") {
		t.Fatalf("install steps that ran: %v; the test needs big and bump in one step", ran)
	}
	const copies, copyName = "[x86_64] layer of ", "big-1.0-r0, by content"
	if runs := vertexRuns(log1, copies); !runs[copyName] || !runs["bump-1.0-r0, by content"] || len(runs) != 2 {
		t.Errorf("the first build's copies by content: %v; want big's and bump's", runs)
	}
	if runs := vertexRuns(log2, copies); runs[copyName] || !runs["bump-2.0-r0, by content"] {
		t.Errorf("after the bump: copies %v; want bump's made and big's found by its content:\n%s", runs, log2)
	}

	a, b := layerDigests(t, before), layerDigests(t, after)
	if len(a) != 3 || len(b) != 3 || a[0] != b[0] || a[1] == b[1] || a[2] == b[2] {
		t.Errorf("layers %v -> %v: want big's kept, bump's and the metadata layer changed", a, b)
	}

	entries, err := after.Layer(onlyImage(t, after).Manifest.Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*tar.Header{}
	for _, e := range entries {
		byName[strings.TrimSuffix(e.Header.Name, "/")] = e.Header
		if e.Header.ModTime.Unix() != 0 {
			t.Errorf("%s: mtime %v", e.Header.Name, e.Header.ModTime)
		}
		if e.Header.Name == "usr/lib/big/data" && !bytes.Equal(e.Data, data) {
			t.Errorf("usr/lib/big/data: %d bytes differ from the package's", len(e.Data))
		}
	}
	// The same files with another SOURCE_DATE_EPOCH: BuildKit's content
	// checksum leaves mtimes out, yet the layer must not come from the
	// build above.
	epoch, log3 := buildOCI(t, ctx, "--build-arg", "SOURCE_DATE_EPOCH=1700000000")
	if runs := vertexRuns(log3, copies); !runs[copyName] {
		t.Errorf("with another epoch big's layer came from the cache: %v", runs)
	}
	epochEntries, err := epoch.Layer(onlyImage(t, epoch).Manifest.Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range epochEntries {
		if e.Header.ModTime.Unix() != 1700000000 {
			t.Errorf("SOURCE_DATE_EPOCH=1700000000: big's %s has mtime %v", e.Header.Name, e.Header.ModTime)
		}
	}

	for name, check := range map[string]func(h *tar.Header) bool{
		"usr/lib/big/data":      func(h *tar.Header) bool { return h.Typeflag == tar.TypeReg && h.Size == int64(len(data)) },
		"usr/lib/big/data-link": func(h *tar.Header) bool { return h.Typeflag == tar.TypeLink && h.Linkname == "usr/lib/big/data" },
		"usr/bin/bigtool": func(h *tar.Header) bool {
			return h.Mode&0o7777 == 0o4755 && h.PAXRecords["SCHILY.xattr.security.capability"] == netBind
		},
		"usr/bin/bt": func(h *tar.Header) bool { return h.Typeflag == tar.TypeSymlink && h.Linkname == "bigtool" },
	} {
		if h, ok := byName[name]; !ok || !check(h) {
			t.Errorf("big's layer: %s is %+v", name, h)
		}
	}
}
