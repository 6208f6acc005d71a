package install

import (
	"bytes"
	"testing"
)

// The installed database is read back from every install record the
// metadata step merges: whatever reads, encodes and reads back the same.
func FuzzReadDatabase(f *testing.F) {
	f.Add([]byte("C:Q1abc=\nP:a\nV:1.0-r0\nA:x86_64\nS:10\nI:20\nT:desc\nU:https://x\nL:MIT\no:a\nm:me\nt:0\nc:abc\nD:b so:c\np:cmd:a=1\nr:old\nq:1\nF:usr\nR:a\na:0:0:755\nZ:Q1xyz=\nM:0:0:755\n\n"))
	f.Add([]byte("P:b\nV:2\nF:\nR:top\nZ:Q1=\nF:etc/x\nM:0:0:2755:Q1attr=\nR:y\na:1000:1000:4755:Q1x=\n\n"))
	f.Add([]byte("P:c\nV:1\ni:a b\nk:10\n\n\nP:d\nV:1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := ReadDatabase(bytes.NewReader(b))
		if err != nil {
			return
		}
		enc := EncodeInstalled(pkgs)
		again, err := ReadDatabase(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("encoded database does not read: %v\n%q", err, enc)
		}
		if enc2 := EncodeInstalled(again); !bytes.Equal(enc, enc2) {
			t.Fatalf("not a fixed point:\n%q\n%q", enc, enc2)
		}
		if len(again) != len(pkgs) {
			t.Fatalf("%d packages, then %d", len(pkgs), len(again))
		}
	})
}
