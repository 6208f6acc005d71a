package index

import (
	"bytes"
	"compress/gzip"
	"reflect"
	"testing"

	"github.com/kiln-build/kiln/apk/sign"
)

func FuzzParseText(f *testing.F) {
	f.Add([]byte("P:a\nV:1.0\nD:b c>=1\np:so:x=1\n\nP:b\nV:2\nk:10\n"))
	f.Add([]byte("C:Q1abc=\nP:x\nV:1\nS:1\nI:2\nt:3\nq:1\nZ:zz\n"))
	f.Add([]byte("\n\nP:a\nV:1\nD:  x   y \nk:0\nq:-1\nt:+5\n::\n\n\n"))
	f.Add([]byte(synthRecord(7) + synthRecord(10)))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := ParseTextBytes(b)
		if err != nil {
			return
		}
		// Whatever parses must write, and read back the same: after one
		// round, ParseText and WriteText are each other's inverse.
		var buf bytes.Buffer
		if err := WriteText(&buf, pkgs); err != nil {
			t.Fatalf("parsed records do not write: %v", err)
		}
		again, err := ParseTextBytes(buf.Bytes())
		if err != nil {
			t.Fatalf("written text does not parse: %v\n%q", err, buf.Bytes())
		}
		if !reflect.DeepEqual(again, pkgs) {
			t.Fatalf("records changed through WriteText:\n%q", buf.Bytes())
		}
		var buf2 bytes.Buffer
		if err := WriteText(&buf2, again); err != nil || !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
			t.Fatalf("not a fixed point (%v):\n%q\n%q", err, buf.Bytes(), buf2.Bytes())
		}
	})
}

func FuzzRead(f *testing.F) {
	a, _ := signers(f)
	f.Add(writeIndex(f, samplePackages(), WriteOptions{Signer: a, Description: "d"}))
	f.Add(writeIndex(f, samplePackages(), WriteOptions{}))
	f.Add(rawIndex(f, tarEntry{"DESCRIPTION", -1, []byte("x")}, tarEntry{"APKINDEX", -1, []byte(synthRecord(1))}))
	kr := keyring(f, a)
	f.Fuzz(func(t *testing.T, b []byte) { readRoundTrip(t, b, kr) })
}

// FuzzReadTar fuzzes the inflated tar stream: random bytes rarely survive
// gzip's CRC, so FuzzRead alone would not get past it.
func FuzzReadTar(f *testing.F) {
	a, _ := signers(f)
	f.Add(gunzipAll(f, writeIndex(f, samplePackages(), WriteOptions{Description: "d"})))
	f.Add(gunzipAll(f, rawIndex(f, tarEntry{"junk", -1, []byte("x")}, tarEntry{"APKINDEX", -1, []byte(synthRecord(1) + synthRecord(10))})))
	kr := keyring(f, a)
	// One compressor per worker process: allocating one per input costs
	// more than the Read under test.
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	f.Fuzz(func(t *testing.T, b []byte) {
		var buf bytes.Buffer
		zw.Reset(&buf)
		zw.Write(b)
		zw.Close()
		readRoundTrip(t, buf.Bytes(), kr)
	})
}

// readRoundTrip reads b both ways (trusted key and untrusted allowed); it
// must not panic, and what it accepts must write and read back.
func readRoundTrip(t *testing.T, b []byte, kr *sign.Keyring) {
	const maxU = 16 << 20
	Read(bytes.NewReader(b), ReadOptions{Keyring: kr, MaxUncompressed: maxU})
	idx, err := Read(bytes.NewReader(b), ReadOptions{AllowUntrusted: true, MaxUncompressed: maxU})
	if err != nil {
		return
	}
	var buf bytes.Buffer
	if err := Write(&buf, idx.Packages, WriteOptions{Description: idx.Description}); err != nil {
		t.Fatalf("Write of a read index: %v", err)
	}
	again, err := Read(&buf, ReadOptions{AllowUntrusted: true})
	if err != nil {
		t.Fatalf("Read of a written index: %v", err)
	}
	if again.Description != idx.Description || len(again.Packages) != len(idx.Packages) {
		t.Fatalf("rewritten index: %q, %d packages; was %q, %d", again.Description, len(again.Packages), idx.Description, len(idx.Packages))
	}
}
