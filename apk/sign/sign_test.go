package sign

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	testSignersOnce sync.Once
	testSigners     [2]*Signer
)

// signers returns two distinct 1024-bit keys, made once per test binary.
func signers(t testing.TB) (*Signer, *Signer) {
	t.Helper()
	testSignersOnce.Do(func() {
		for i, name := range []string{"a.rsa.pub", "b.rsa.pub"} {
			s, err := GenerateSigner(name, 1024)
			if err != nil {
				t.Fatal(err)
			}
			testSigners[i] = s
		}
	})
	return testSigners[0], testSigners[1]
}

func keyringOf(t *testing.T, ss ...*Signer) *Keyring {
	t.Helper()
	k := NewKeyring()
	for _, s := range ss {
		p, err := s.PublicKeyPEM()
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Add(s.KeyName, p); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func sigFor(t *testing.T, s *Signer, alg Algorithm, data []byte) Signature {
	t.Helper()
	sig, err := s.Sign(alg, Digest(alg, data))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestVerify(t *testing.T) {
	a, b := signers(t)
	data := []byte("signed bytes")
	other := []byte("signed bytez")
	renamed := sigFor(t, a, SHA256, data)
	renamed.KeyName = b.KeyName // a's signature claiming to be b's

	tests := []struct {
		name    string
		keyring *Keyring
		sigs    []Signature
		data    []byte
		wantErr error
	}{
		{"sha1 ok", keyringOf(t, a), []Signature{sigFor(t, a, SHA1, data)}, data, nil},
		{"sha256 ok", keyringOf(t, a), []Signature{sigFor(t, a, SHA256, data)}, data, nil},
		{"second signature trusted", keyringOf(t, b), []Signature{sigFor(t, a, SHA1, data), sigFor(t, b, SHA256, data)}, data, nil},
		{"unsigned", keyringOf(t, a), nil, data, ErrUnsigned},
		{"unknown key", keyringOf(t, b), []Signature{sigFor(t, a, SHA256, data)}, data, ErrUntrusted},
		{"nil keyring", nil, []Signature{sigFor(t, a, SHA256, data)}, data, ErrUntrusted},
		{"tampered data sha1", keyringOf(t, a), []Signature{sigFor(t, a, SHA1, data)}, other, ErrBadSignature},
		{"tampered data sha256", keyringOf(t, a), []Signature{sigFor(t, a, SHA256, data)}, other, ErrBadSignature},
		{"key name lies", keyringOf(t, a, b), []Signature{renamed}, data, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDigester(tt.sigs)
			d.Write(tt.data)
			err := tt.keyring.Verify(tt.sigs, d)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestSegmentRoundTrip(t *testing.T) {
	a, b := signers(t)
	sigs := []Signature{sigFor(t, a, SHA1, []byte("x")), sigFor(t, b, SHA256, []byte("x"))}
	var buf1, buf2 bytes.Buffer
	if err := WriteSegment(&buf1, sigs...); err != nil {
		t.Fatal(err)
	}
	if err := WriteSegment(&buf2, sigs...); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf1.Bytes(), buf2.Bytes()) {
		t.Fatal("WriteSegment is not deterministic")
	}
	zr, err := gzip.NewReader(&buf1)
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header carries name %q / mtime %v", zr.Name, zr.ModTime)
	}
	raw := new(bytes.Buffer)
	if _, err := raw.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	// No end-of-archive blocks: the stream is header+padded data per entry.
	if raw.Len()%512 != 0 || bytes.HasSuffix(raw.Bytes(), make([]byte, 1024)) {
		t.Errorf("segment has %d bytes, ends with end-of-archive blocks", raw.Len())
	}
	got, err := ReadSegment(bytes.NewReader(raw.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].MemberName() != ".SIGN.RSA.a.rsa.pub" || got[1].MemberName() != ".SIGN.RSA256.b.rsa.pub" ||
		!bytes.Equal(got[0].Value, sigs[0].Value) || !bytes.Equal(got[1].Value, sigs[1].Value) {
		t.Fatalf("ReadSegment = %+v", got)
	}
}

func TestReadSegmentRejectsOtherEntries(t *testing.T) {
	// A control segment (.PKGINFO) must never be taken for a signature.
	var buf bytes.Buffer
	if err := WriteSegment(&buf, Signature{Alg: SHA1, KeyName: "k", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	zr, _ := gzip.NewReader(&buf)
	raw := new(bytes.Buffer)
	raw.ReadFrom(zr)
	b := raw.Bytes()
	copy(b[0:100], append([]byte(".PKGINFO"), make([]byte, 92)...))
	// fix the header checksum so only the name is wrong
	fixChecksum(b[:512])
	_, err := ReadSegment(bytes.NewReader(b))
	if err == nil || !strings.Contains(err.Error(), ".PKGINFO") {
		t.Fatalf("ReadSegment = %v, want unexpected entry error", err)
	}
}

func fixChecksum(h []byte) {
	for i := 148; i < 156; i++ {
		h[i] = ' '
	}
	sum := 0
	for _, c := range h {
		sum += int(c)
	}
	copy(h[148:], []byte(strings.Repeat("0", 6-len(itoa8(sum)))+itoa8(sum)+"\x00 "))
}

func itoa8(n int) string {
	s := ""
	for n > 0 {
		s = string(rune('0'+n%8)) + s
		n /= 8
	}
	return s
}

func TestParseMemberName(t *testing.T) {
	tests := []struct {
		in  string
		alg Algorithm
		key string
		ok  bool
	}{
		{".SIGN.RSA.alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub", SHA1, "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub", true},
		{".SIGN.RSA256.melange.rsa.pub", SHA256, "melange.rsa.pub", true},
		{".SIGN.RSA.", 0, "", false},
		{".SIGN.RSA.../etc/passwd", 0, "", false},
		{".PKGINFO", 0, "", false},
		{".SIGN.DSA.x", 0, "", false},
		// Only what a USTAR entry holds and a keyring file may be called.
		{".SIGN.RSA.a.rsa.pua\xff\xff\xff\xff\xe5", 0, "", false},
		{".SIGN.RSA.clé.rsa.pub", 0, "", false},
		{".SIGN.RSA.a\x1b[31m.rsa.pub", 0, "", false},
		{".SIGN.RSA." + strings.Repeat("k", 90), SHA1, strings.Repeat("k", 90), true},
		{".SIGN.RSA." + strings.Repeat("k", 91), 0, "", false},
	}
	for _, tt := range tests {
		alg, key, ok := ParseMemberName(tt.in)
		if ok != tt.ok || (ok && (alg != tt.alg || key != tt.key)) {
			t.Errorf("ParseMemberName(%q) = %v %q %v", tt.in, alg, key, ok)
		}
	}
}

func TestLoadKeyringAndSigner(t *testing.T) {
	a, _ := signers(t)
	dir := t.TempDir()
	pub, _ := a.PublicKeyPEM()
	os.WriteFile(filepath.Join(dir, "melange.rsa.pub"), pub, 0o644)
	os.WriteFile(filepath.Join(dir, "melange.rsa"), a.PrivateKeyPEM(), 0o600)
	os.WriteFile(filepath.Join(dir, "junk.pub"), []byte("not a key"), 0o644)

	if _, err := LoadKeyring(dir); err == nil || !strings.Contains(err.Error(), "junk.pub") {
		t.Fatalf("LoadKeyring(dir with junk) = %v, want error naming junk.pub", err)
	}
	k, err := LoadKeyring(filepath.Join(dir, "melange.rsa.pub"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadSigner(filepath.Join(dir, "melange.rsa"))
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyName != "melange.rsa.pub" {
		t.Fatalf("signer key name %q", s.KeyName)
	}
	sig := sigFor(t, s, SHA256, []byte("data"))
	d := NewDigester([]Signature{sig})
	d.Write([]byte("data"))
	if err := k.Verify([]Signature{sig}, d); err != nil {
		t.Fatal(err)
	}
}

func TestRealAlpineKeyParses(t *testing.T) {
	p := filepath.Join("..", "..", "..", "shared", "testdata", "alpine-3.16", "alpine-devel@lists.alpinelinux.org-4a6a0840.rsa.pub")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	k, err := LoadKeyring(p)
	if err != nil {
		t.Fatal(err)
	}
	if !k.Has("alpine-devel@lists.alpinelinux.org-4a6a0840.rsa.pub") {
		t.Fatalf("keyring names %v", k.Names())
	}
}
