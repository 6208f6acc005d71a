package pkg

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestSectionsAndControl checks ReadSections against the members cut by
// splitMembers (plain compress/gzip), and that ReadControl reads a real
// package's metadata from its first bytes only, as far as the control
// section ends, and not from fewer.
func TestSectionsAndControl(t *testing.T) {
	td := testdataDir(t)
	for _, name := range []string{"alpine-baselayout-3.2.0-r23.apk", "hello-wolfi-2.12.1-r0.apk"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(td, "packages", name))
			if err != nil {
				t.Fatal(err)
			}
			members := splitMembers(t, data)
			if len(members) != 3 {
				t.Fatalf("%d members, want signature, control, data", len(members))
			}
			s, err := ReadSections(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			sha := func(b []byte) []byte { h := sha1.Sum(b); return h[:] }
			sha2 := func(b []byte) []byte { h := sha256.Sum256(b); return h[:] }
			want := []Section{
				{0, int64(len(members[0])), sha(members[0])},
				{int64(len(members[0])), int64(len(members[1])), sha(members[1])},
				{int64(len(members[0]) + len(members[1])), int64(len(members[2])), sha2(members[2])},
			}
			got := []Section{*s.Signature, s.Control, s.Data}
			for i := range want {
				if got[i].Offset != want[i].Offset || got[i].Size != want[i].Size || !bytes.Equal(got[i].Sum, want[i].Sum) {
					t.Errorf("section %d: %+v, want %+v", i, got[i], want[i])
				}
			}
			if s.Size != int64(len(data)) {
				t.Errorf("size %d, want %d", s.Size, len(data))
			}

			q1 := "Q1" + base64.StdEncoding.EncodeToString(s.Control.Sum)
			head := data[:s.Control.Offset+s.Control.Size]
			r, err := ReadControl(bytes.NewReader(head), ReadOptions{ExpectedChecksum: q1, Name: name})
			if err != nil {
				t.Fatal(err)
			}
			if r.Info.Checksum != q1 || r.DataHash != hex.EncodeToString(s.Data.Sum) {
				t.Errorf("control: checksum %s datahash %s; sections say %s, %x", r.Info.Checksum, r.DataHash, q1, s.Data.Sum)
			}
			if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) {
				t.Errorf("Next after ReadControl: %v", err)
			}
			if _, err := ReadControl(bytes.NewReader(head[:len(head)-1]), ReadOptions{ExpectedChecksum: q1, Name: name}); err == nil {
				t.Error("ReadControl accepted a control section cut short")
			}
			if _, err := ReadControl(bytes.NewReader(head), ReadOptions{ExpectedChecksum: "Q1" + base64.StdEncoding.EncodeToString(make([]byte, 20)), Name: name}); !errors.Is(err, ErrChecksum) {
				t.Errorf("wrong pinned checksum: %v", err)
			}
		})
	}
}
