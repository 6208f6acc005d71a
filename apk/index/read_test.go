package index

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/sign"
)

func TestWriteReadRoundTrip(t *testing.T) {
	a, _ := signers(t)
	for _, alg := range []sign.Algorithm{sign.SHA1, sign.SHA256} {
		in := samplePackages()
		slices.Reverse(in) // Write sorts
		opts := WriteOptions{Description: "test repo", Signer: a, Alg: alg, SourceDateEpoch: 42}
		data := writeIndex(t, in, opts)
		if again := writeIndex(t, samplePackages(), opts); !bytes.Equal(data, again) {
			t.Errorf("%v: two Writes of the same packages differ", alg)
		}
		idx, err := Read(bytes.NewReader(data), ReadOptions{Keyring: keyring(t, a)})
		if err != nil {
			t.Fatalf("%v: %v", alg, err)
		}
		if !reflect.DeepEqual(idx.Packages, samplePackages()) {
			t.Errorf("%v: packages read back differ:\n got %+v\nwant %+v", alg, idx.Packages, samplePackages())
		}
		if idx.Description != "test repo" {
			t.Errorf("%v: description %q", alg, idx.Description)
		}
		if len(idx.Signatures) != 1 || idx.Signatures[0].KeyName != "a.rsa.pub" || idx.Signatures[0].Alg != alg {
			t.Errorf("%v: signatures %+v", alg, idx.Signatures)
		}
		if name := idx.Signatures[0].MemberName(); !bytes.Contains(gunzipAll(t, data[:sigOffset(t, data)]), []byte(name)) {
			t.Errorf("%v: signature member lacks entry %s", alg, name)
		}
	}
}

func TestWriteDeterministic(t *testing.T) {
	a, _ := signers(t)
	base := WriteOptions{Description: "d", Signer: a, SourceDateEpoch: 1700000000}
	first := writeIndex(t, samplePackages(), base)
	if !bytes.Equal(first, writeIndex(t, samplePackages(), base)) {
		t.Fatal("same input, different bytes")
	}
	// gzip -n: no name, mtime 0 in every member header (bytes 4..7).
	for _, off := range []int{0, sigOffset(t, first)} {
		if h := first[off : off+10]; h[0] != 0x1f || h[1] != 0x8b || h[3]&0x08 != 0 || !bytes.Equal(h[4:8], []byte{0, 0, 0, 0}) {
			t.Errorf("gzip header at %d: % x", off, h)
		}
	}
	// The inputs that should matter do.
	for name, opts := range map[string]WriteOptions{
		"epoch":       {Description: "d", Signer: a, SourceDateEpoch: 1700000001},
		"description": {Description: "e", Signer: a, SourceDateEpoch: 1700000000},
	} {
		if bytes.Equal(first, writeIndex(t, samplePackages(), opts)) {
			t.Errorf("changing %s did not change the output", name)
		}
	}
}

// flipByte corrupts one compressed byte in the middle of the index member.
func flipByte(t testing.TB, data []byte) []byte {
	off := sigOffset(t, data)
	out := bytes.Clone(data)
	out[off+(len(data)-off)/2] ^= 0x01
	return out
}

// recompressed changes one package's version and compresses the index
// member again: valid gzip and tar, so only the signature can notice.
func recompressed(t testing.TB, data []byte) []byte {
	off := sigOffset(t, data)
	raw := gunzipAll(t, data[off:])
	evil := bytes.Replace(raw, []byte("V:1.2.13-r0"), []byte("V:1.2.14-r0"), 1)
	if bytes.Equal(evil, raw) {
		t.Fatal("found nothing to change")
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(evil)
	zw.Close()
	return append(bytes.Clone(data[:off]), buf.Bytes()...)
}

func TestReadVerify(t *testing.T) {
	a, b := signers(t)
	for _, alg := range []sign.Algorithm{sign.SHA1, sign.SHA256} {
		data := writeIndex(t, samplePackages(), WriteOptions{Signer: a, Alg: alg})
		unsigned := writeIndex(t, samplePackages(), WriteOptions{})
		// A keyring that has a key called a.rsa.pub, but b's key.
		impostor := sign.NewKeyring()
		addKey(t, impostor, "a.rsa.pub", b)
		both := keyring(t, b, a)

		tests := []struct {
			name    string
			data    []byte
			opts    ReadOptions
			wantErr error // nil: must read
		}{
			{"trusted", data, ReadOptions{Keyring: both}, nil},
			{"other key only", data, ReadOptions{Keyring: keyring(t, b)}, sign.ErrUntrusted},
			{"other key only, untrusted allowed", data, ReadOptions{Keyring: keyring(t, b), AllowUntrusted: true}, nil},
			{"no keyring", data, ReadOptions{}, sign.ErrUntrusted},
			{"no keyring, untrusted allowed", data, ReadOptions{AllowUntrusted: true}, nil},
			{"trusted name, wrong key", data, ReadOptions{Keyring: impostor}, sign.ErrBadSignature},
			{"trusted name, wrong key, untrusted allowed", data, ReadOptions{Keyring: impostor, AllowUntrusted: true}, sign.ErrBadSignature},
			{"flipped byte", flipByte(t, data), ReadOptions{Keyring: keyring(t, a)}, sign.ErrBadSignature},
			{"flipped byte, untrusted allowed", flipByte(t, data), ReadOptions{Keyring: keyring(t, a), AllowUntrusted: true}, sign.ErrBadSignature},
			{"recompressed", recompressed(t, data), ReadOptions{Keyring: keyring(t, a)}, sign.ErrBadSignature},
			{"recompressed, untrusted allowed", recompressed(t, data), ReadOptions{Keyring: keyring(t, a), AllowUntrusted: true}, sign.ErrBadSignature},
			{"unsigned", unsigned, ReadOptions{Keyring: keyring(t, a)}, sign.ErrUnsigned},
			{"unsigned, untrusted allowed", unsigned, ReadOptions{Keyring: keyring(t, a), AllowUntrusted: true}, nil},
		}
		for _, tt := range tests {
			tt.opts.Name = "https://repo.example/x86_64/APKINDEX.tar.gz"
			idx, err := Read(bytes.NewReader(tt.data), tt.opts)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("%v %s: %v", alg, tt.name, err)
			case tt.wantErr == nil && len(idx.Packages) != 3:
				t.Errorf("%v %s: %d packages", alg, tt.name, len(idx.Packages))
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("%v %s: err = %v, want %v", alg, tt.name, err, tt.wantErr)
			case err != nil && !strings.HasPrefix(err.Error(), "index https://repo.example/x86_64/APKINDEX.tar.gz: "):
				t.Errorf("%v %s: error does not name the index: %v", alg, tt.name, err)
			}
		}
	}
}

func TestReadCaps(t *testing.T) {
	data := writeIndex(t, samplePackages(), WriteOptions{})
	mib := bytes.Repeat([]byte("\n"), 1<<20)
	// A member that starts like a signature and inflates without end.
	var sigBomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&sigBomb, gzip.BestCompression)
	zw.Write([]byte(".SIGN.RSA.a.rsa.pub"))
	for range 64 {
		zw.Write(make([]byte, 1<<20))
	}
	zw.Close()

	tests := []struct {
		name string
		data []byte
		opts ReadOptions
		want string
	}{
		{"compressed cap", data, ReadOptions{MaxCompressed: 100}, "larger than 100 bytes compressed"},
		{"APKINDEX entry over the cap", rawIndex(t, tarEntry{"APKINDEX", -1, bytes.Repeat(mib, 3)}), ReadOptions{MaxUncompressed: 2 << 20},
			"APKINDEX entry of 3145728 bytes, more than 2097152"},
		{"other entries over the cap", rawIndex(t, tarEntry{"junk", -1, bytes.Repeat(mib, 3)}, tarEntry{"APKINDEX", -1, []byte("P:a\nV:1\n")}),
			ReadOptions{MaxUncompressed: 2 << 20}, "inflates to more than 2097152 bytes"},
		{"signature member bomb", sigBomb.Bytes(), ReadOptions{}, "signature member: exceeds the size cap: inflates to more than 65536 bytes"},
	}
	for _, tt := range tests {
		tt.opts.AllowUntrusted = true
		tt.opts.Name = tt.name
		_, err := Read(bytes.NewReader(tt.data), tt.opts)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "index "+tt.name+": ") {
			t.Errorf("%s: err = %v, want ErrTooLarge with %q", tt.name, err, tt.want)
		}
	}
	// Exactly at the cap is fine: the cap counts the whole tar stream.
	exact := int64(len(gunzipAll(t, data)))
	if _, err := Read(bytes.NewReader(data), ReadOptions{AllowUntrusted: true, MaxUncompressed: exact}); err != nil {
		t.Errorf("index of exactly MaxUncompressed bytes: %v", err)
	}
	if _, err := Read(bytes.NewReader(data), ReadOptions{AllowUntrusted: true, MaxUncompressed: exact - 1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("index one byte over MaxUncompressed: %v", err)
	}
}

// A header may claim any size; Read must not allocate it on trust.
func TestReadLyingSize(t *testing.T) {
	data := rawIndex(t, tarEntry{"APKINDEX", 250 << 20, []byte("P:a\nV:1\n")})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Read(bytes.NewReader(data), ReadOptions{AllowUntrusted: true})
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "tar: APKINDEX: unexpected EOF") {
		t.Errorf("err = %v, want the short entry refused", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("allocated %d MiB for a %d-byte index", grew>>20, len(data))
	}
	// Claims deflate could meet but the stream does not: truncated, for
	// texts parsed at once and concurrently.
	noise := make([]byte, 4<<10)
	rand.NewChaCha8([32]byte{1}).Read(noise)
	for _, claim := range []int64{50 << 10, 2 << 20} {
		short := rawIndex(t, tarEntry{"noise", -1, noise}, tarEntry{"APKINDEX", claim, []byte("P:a\nV:1\n")})
		if _, err := Read(bytes.NewReader(short), ReadOptions{AllowUntrusted: true}); err == nil || !strings.Contains(err.Error(), "tar: APKINDEX: unexpected EOF") {
			t.Errorf("truncated APKINDEX claiming %d bytes: err = %v", claim, err)
		}
	}
}

func TestReadMalformed(t *testing.T) {
	data := writeIndex(t, samplePackages(), WriteOptions{})
	signed := writeIndex(t, samplePackages(), WriteOptions{Signer: func() *sign.Signer { a, _ := signers(t); return a }()})
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not gzip"},
		{"not gzip", []byte("P:a\nV:1\n"), "not gzip"},
		{"truncated", data[:len(data)/2], "unexpected EOF"},
		{"signature only", signed[:sigOffset(t, signed)], "nothing follows the signature"},
		{"no APKINDEX", rawIndex(t, tarEntry{"DESCRIPTION", -1, []byte("x")}), "no APKINDEX entry"},
		{"two APKINDEX", rawIndex(t, tarEntry{"APKINDEX", -1, []byte("P:a\nV:1\n")}, tarEntry{"APKINDEX", -1, []byte("P:b\nV:1\n")}), "a second APKINDEX"},
		{"bad text", rawIndex(t, tarEntry{"APKINDEX", -1, []byte("P:a\nV:1\nS:x\n")}), `APKINDEX line 3: S: "x" is not a number`},
		{"huge description", rawIndex(t, tarEntry{"DESCRIPTION", -1, make([]byte, 65<<10)}, tarEntry{"APKINDEX", -1, []byte("P:a\nV:1\n")}), "DESCRIPTION: exceeds the size cap"},
	}
	for _, tt := range tests {
		_, err := Read(bytes.NewReader(tt.data), ReadOptions{AllowUntrusted: true, Name: "m"})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "index m: ") {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// Large texts are parsed concurrently with inflating; the result and the
// errors must be those of parsing the whole text at once.
func TestReadLargeMatchesParseText(t *testing.T) {
	var text strings.Builder
	for i := range 3000 {
		text.WriteString(strings.Replace(synthRecord(i), "\n\n", "\n", 1))
		if i == 1500 {
			text.WriteString("p:" + strings.Join(longProvides(DefaultMaxLine-100), " ") + "\n")
		}
		text.WriteString("\n")
	}
	good := []byte(text.String())
	bad := append(bytes.Clone(good), "P:x\nV:1\nthis is not a field\n"...)
	for _, tt := range []struct {
		name string
		text []byte
	}{{"valid", good}, {"error at the end", bad}, {"error in the first line", append([]byte("?\n"), good...)}} {
		want, wantErr := ParseTextBytes(tt.text)
		// Through an io.Reader that cannot tell its length, too.
		idx, err := Read(struct{ io.Reader }{bytes.NewReader(rawIndex(t, tarEntry{"APKINDEX", -1, tt.text}))}, ReadOptions{AllowUntrusted: true})
		if wantErr != nil {
			if err == nil || !strings.HasSuffix(err.Error(), wantErr.Error()) {
				t.Errorf("%s: Read err = %v, ParseText err = %v", tt.name, err, wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(want) != 3000 || !reflect.DeepEqual(idx.Packages, want) {
			t.Errorf("%s: Read gave %d packages, ParseText %d, or they differ", tt.name, len(idx.Packages), len(want))
		}
	}
}
