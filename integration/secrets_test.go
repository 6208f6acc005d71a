package integration

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// buildkitState is buildkitd's state directory on the stack: snapshots of
// every step's outputs, the content store (layer blobs, provenance,
// logs), the cache and history databases.
func buildkitState() string {
	if d := os.Getenv("KILN_STACK_DIR"); d != "" {
		return filepath.Join(d, "buildkit")
	}
	return "/var/lib/kiln-stack/buildkit"
}

// secretNeedles are the spellings a secret may take in a file: as is, in
// hex, and in base64 at each of the three alignments it can have inside a
// longer encoded text (only the characters that depend on the secret
// alone).
func secretNeedles(secret []byte) [][]byte {
	out := [][]byte{secret, []byte(hex.EncodeToString(secret)), []byte(strings.ToUpper(hex.EncodeToString(secret)))}
	for pad := 0; pad < 3; pad++ {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, pad), secret...))
		// Characters covering the padding bytes, and the last group (which
		// mixes in whatever follows), differ in context.
		lead := (pad*8 + 5) / 6
		core := enc[lead:]
		if cut := len(core) - 4; cut > 0 {
			core = core[:cut]
		}
		if len(core) >= 8 {
			out = append(out, []byte(core), []byte(strings.NewReplacer("+", "-", "/", "_").Replace(core)))
		}
	}
	return out
}

// secretFinding is one place a secret was found.
type secretFinding struct {
	Where string // a file, with "!" and the member or entry inside it
	As    string // which spelling
}

// findSecret searches the files under each root (a directory or a file)
// for the secret in any of its spellings, looking inside gzip and zstd
// streams and tar archives (OCI layouts, layer blobs) as well as at their
// raw bytes.
func findSecret(secret []byte, roots ...string) ([]secretFinding, error) {
	needles := secretNeedles(secret)
	var found []secretFinding
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
					return nil // a snapshot removed while walking
				}
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			f, err := os.Open(p)
			if err != nil {
				return nil
			}
			defer f.Close()
			found = append(found, scanStream(p, f, needles, 0)...)
			return nil
		})
		if err != nil {
			return found, err
		}
	}
	return found, nil
}

// maxNesting bounds how deep scanStream looks into archives in archives.
const maxNesting = 3

// scanStream searches r's bytes and, when they are a gzip or zstd stream
// or a tar archive, what they hold: each byte is read once, the raw bytes
// searched on their way to the decompressor.
func scanStream(where string, r io.Reader, needles [][]byte, depth int) []secretFinding {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(512)
	isGzip := len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b
	isZstd := len(head) >= 4 && bytes.Equal(head[:4], []byte{0x28, 0xb5, 0x2f, 0xfd})
	isTar := len(head) >= 262 && string(head[257:262]) == "ustar"
	raw := newNeedleWriter(where, needles)
	if depth >= maxNesting || !(isGzip || isZstd || isTar) {
		io.Copy(raw, br)
		return raw.found
	}
	tee := io.TeeReader(br, raw)
	var found []secretFinding
	switch {
	case isGzip:
		if zr, err := gzip.NewReader(tee); err == nil {
			found = scanStream(where+"!gunzip", zr, needles, depth+1)
		}
	case isZstd:
		if zr, err := zstd.NewReader(tee); err == nil {
			found = scanStream(where+"!unzstd", zr, needles, depth+1)
			zr.Close()
		}
	case isTar:
		tr := tar.NewReader(tee)
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			// An entry's bytes pass through raw already; only a
			// compressed or archived entry needs a look inside.
			eb := bufio.NewReaderSize(tr, 1<<16)
			eh, _ := eb.Peek(512)
			if len(eh) >= 2 && eh[0] == 0x1f && eh[1] == 0x8b || len(eh) >= 4 && bytes.Equal(eh[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}) ||
				len(eh) >= 262 && string(eh[257:262]) == "ustar" {
				found = append(found, scanStream(where+"!"+h.Name, eb, needles, depth+1)...)
			}
			io.Copy(io.Discard, eb)
		}
	}
	io.Copy(io.Discard, tee) // whatever follows the stream's end
	return append(raw.found, found...)
}

// needleWriter searches what is written to it for every needle, across
// the boundaries of writes.
type needleWriter struct {
	where   string
	needles [][]byte
	longest int
	tail    []byte // the last longest-1 bytes written
	seen    []bool
	found   []secretFinding
}

func newNeedleWriter(where string, needles [][]byte) *needleWriter {
	w := &needleWriter{where: where, needles: needles, seen: make([]bool, len(needles))}
	for _, n := range needles {
		w.longest = max(w.longest, len(n))
	}
	return w
}

func (w *needleWriter) Write(p []byte) (int, error) {
	edge := append(append([]byte{}, w.tail...), p[:min(len(p), w.longest-1)]...)
	for i, n := range w.needles {
		if !w.seen[i] && (bytes.Contains(edge, n) || bytes.Contains(p, n)) {
			w.seen[i] = true
			w.found = append(w.found, secretFinding{Where: w.where, As: spelling(i)})
		}
	}
	w.tail = append(w.tail, p...)
	if keep := w.longest - 1; len(w.tail) > keep {
		w.tail = append(w.tail[:0], w.tail[len(w.tail)-keep:]...)
	}
	return len(p), nil
}

// scanRaw searches r's bytes only.
func scanRaw(where string, r io.Reader, needles [][]byte) []secretFinding {
	w := newNeedleWriter(where, needles)
	io.Copy(w, r)
	return w.found
}

func spelling(i int) string {
	switch i {
	case 0:
		return "raw bytes"
	case 1, 2:
		return "hex"
	}
	return "base64"
}

// checkNoSecret fails the test when secret appears in buildkitd's state
// or in any of outputs (files or directories a build wrote, such as an
// OCI tar) or in logs (what buildx printed). The melange signing key's
// tests use it: a secret must reach no layer, cache record, provenance or
// log.
func checkNoSecret(t *testing.T, secret []byte, logs []string, outputs ...string) {
	t.Helper()
	found, err := findSecret(secret, append([]string{buildkitState()}, outputs...)...)
	if err != nil {
		t.Fatalf("searching for the secret: %v", err)
	}
	for i, l := range logs {
		found = append(found, scanRaw(fmt.Sprintf("log %d", i), strings.NewReader(l), secretNeedles(secret))...)
	}
	for _, f := range found {
		t.Errorf("secret found in %s (as %s)", f.Where, f.As)
	}
}

func randomSecret(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSecretSearch proves the search itself: bytes a package ships are
// found in BuildKit's state and the exported image in each spelling, and
// a secret passed to a kiln image build with --secret is found nowhere
// (images take no secrets: kiln mounts none and writes none).
func TestSecretSearch(t *testing.T) {
	requireStack(t)
	t.Run("spellings", func(t *testing.T) {
		secret := randomSecret(t)
		dir := t.TempDir()
		enc := base64.StdEncoding.EncodeToString(append([]byte("x"), secret...))
		files := map[string][]byte{
			"raw":    append([]byte("prefix "), append(secret, " suffix"...)...),
			"hex":    []byte("key=" + hex.EncodeToString(secret)),
			"base64": []byte(`{"payload":"` + enc + `"}`),
		}
		for n, d := range files {
			if err := os.WriteFile(filepath.Join(dir, n), d, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// A layer holding the secret, and a compressed file holding it.
		gzipOf := func(b []byte) []byte {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(b)
			zw.Close()
			return buf.Bytes()
		}
		inner := gzipOf(secret)
		var layer bytes.Buffer
		tw := tar.NewWriter(&layer)
		tw.WriteHeader(&tar.Header{Name: "plain", Mode: 0o644, Size: int64(len(secret))})
		tw.Write(secret)
		tw.WriteHeader(&tar.Header{Name: "inner.gz", Mode: 0o644, Size: int64(len(inner))})
		tw.Write(inner)
		tw.Close()
		gz := bytes.NewBuffer(gzipOf(layer.Bytes()))
		if err := os.WriteFile(filepath.Join(dir, "layer.tar.gz"), gz.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		found, err := findSecret(secret, dir)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, f := range found {
			got[filepath.Base(f.Where)+" "+f.As] = true
		}
		for _, want := range []string{"raw raw bytes", "hex hex", "base64 base64", "layer.tar.gz!gunzip raw bytes", "layer.tar.gz!gunzip!inner.gz!gunzip raw bytes"} {
			if !got[want] {
				t.Errorf("not found: %s (found %v)", want, found)
			}
		}
		if found, _ := findSecret(randomSecret(t), dir); len(found) != 0 {
			t.Errorf("a secret never written was found: %v", found)
		}
	})
	t.Run("a package's bytes are found", func(t *testing.T) {
		planted := randomSecret(t)
		r := newHostileRepo(t).addRaw(raw("tool", rawDir("opt"), rawFile("opt/planted", string(planted), 0o644))).writeIndex(nil)
		out := filepath.Join(t.TempDir(), "out.tar")
		buildx(t, r.config("tool"), "apko.yaml", "--output", "type=oci,dest="+out)
		found, err := findSecret(planted, buildkitState(), out)
		if err != nil {
			t.Fatal(err)
		}
		var inState, inOutput bool
		for _, f := range found {
			inState = inState || strings.HasPrefix(f.Where, buildkitState())
			inOutput = inOutput || strings.HasPrefix(f.Where, out+"!")
		}
		if !inState || !inOutput {
			t.Errorf("planted bytes found in the state %v, in the OCI output %v: %v", inState, inOutput, found)
		}
	})
	t.Run("--secret reaches nothing", func(t *testing.T) {
		secret := []byte(hex.EncodeToString(randomSecret(t))) // secrets are usually text
		file := filepath.Join(t.TempDir(), "secret")
		if err := os.WriteFile(file, secret, 0o600); err != nil {
			t.Fatal(err)
		}
		r := newHostileRepo(t).addRaw(raw("tool", rawDir("opt"), rawFile("opt/tool", "tool", 0o755))).writeIndex(nil)
		out := filepath.Join(t.TempDir(), "out.tar")
		log := buildx(t, r.config("tool"), "apko.yaml", "--secret", "id=kiln-test,src="+file,
			"--provenance", "mode=max", "--output", "type=oci,dest="+out)
		checkNoSecret(t, secret, []string{log}, out)
	})
}
