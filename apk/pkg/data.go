package pkg

import (
	"archive/tar"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Next advances to the next entry of the data section. It first reads
// whatever the caller left of the previous file and checks its SHA-1. At
// the end it checks that the data member ends cleanly, that nothing
// follows it and that the datahash matches, and only then returns io.EOF.
func (pr *Reader) Next() (*tar.Header, error) {
	if pr.err != nil {
		return nil, pr.err
	}
	if err := pr.finishEntry(); err != nil {
		pr.err = err
		return nil, err
	}
	pr.cur, pr.curSum, pr.curWant, pr.curDone = nil, nil, nil, false
	h, err := pr.tr.Next()
	if errors.Is(err, io.EOF) {
		if err := pr.finishData(); err != nil {
			pr.err = err
			return nil, err
		}
		pr.err = io.EOF
		return nil, io.EOF
	}
	if err != nil {
		pr.err = pr.errorf("data section: %w", noEOF(err))
		return nil, pr.err
	}
	if err := pr.startEntry(h); err != nil {
		pr.err = err
		return nil, err
	}
	return h, nil
}

// Read reads the current file. At the end of a regular file that carries
// a checksum, a mismatch is returned instead of io.EOF.
func (pr *Reader) Read(p []byte) (int, error) {
	if pr.err != nil {
		return 0, pr.err
	}
	if pr.cur == nil {
		return 0, io.EOF
	}
	n, err := pr.tr.Read(p)
	if pr.curSum != nil {
		pr.curSum.Write(p[:n])
	}
	if errors.Is(err, io.EOF) {
		if verr := pr.verifyEntry(); verr != nil {
			pr.err = verr
			return n, verr
		}
		return n, io.EOF
	}
	if err != nil {
		pr.err = pr.errorf("data section: %q: %w", pr.cur.Name, noEOF(err))
		return n, pr.err
	}
	return n, nil
}

// startEntry prepares the checksum check of a new entry; a symlink's is
// checked at once.
func (pr *Reader) startEntry(h *tar.Header) error {
	pr.cur = h
	// apk has no sparse files, and a sparse header can claim exabytes of
	// zeros that checksumming would then read.
	if isSparse(h) {
		return pr.errorf("data section: %q: sparse files are not supported", h.Name)
	}
	v, ok := h.PAXRecords[PAXChecksum]
	if !ok || (h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeSymlink) {
		return nil
	}
	want, err := parseFileChecksum(v)
	if err != nil {
		return pr.errorf("data section: %q: %w", h.Name, err)
	}
	if h.Typeflag == tar.TypeSymlink {
		got := sha1.Sum([]byte(h.Linkname))
		if !bytes.Equal(got[:], want) {
			return pr.errorf("%w: symlink %q -> %q has SHA-1 %x, header says %s", ErrChecksum, h.Name, h.Linkname, got, v)
		}
		return nil
	}
	pr.curSum, pr.curWant = sha1.New(), want
	return nil
}

// isSparse reports a GNU sparse entry, old style or PAX.
func isSparse(h *tar.Header) bool {
	if h.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// parseFileChecksum accepts the hex SHA-1 abuild writes and the "Q1"
// base64 form some other writers use.
func parseFileChecksum(v string) ([]byte, error) {
	var raw []byte
	var err error
	if b64, ok := strings.CutPrefix(v, "Q1"); ok {
		raw, err = base64.StdEncoding.DecodeString(b64)
	} else {
		raw, err = hex.DecodeString(v)
	}
	if err != nil || len(raw) != sha1.Size {
		return nil, fmt.Errorf("bad %s record %q", PAXChecksum, v)
	}
	return raw, nil
}

// ContentSHA1 reads what the caller left of the current regular file and
// returns the SHA-1 of its contents, which the reader computes to check
// the header's checksum, so a caller that records it need not hash every
// byte again. ok is false when the file carries no checksum (nothing was
// computed). The check itself still comes, at Next or at the file's end.
func (pr *Reader) ContentSHA1() (sum []byte, ok bool, err error) {
	if pr.curSum == nil {
		return nil, false, pr.err
	}
	// Once done, the sum covers the whole file, whether or not it matched
	// (pr.err then says it did not): the caller compares it too.
	if !pr.curDone {
		if pr.err != nil {
			return nil, false, pr.err
		}
		if _, err := io.Copy(pr.curSum, pr.tr); err != nil {
			pr.err = pr.errorf("data section: %q: %w", pr.cur.Name, noEOF(err))
			return nil, false, pr.err
		}
	}
	return pr.curSum.Sum(nil), true, nil
}

// finishEntry reads the rest of the current file so its checksum is
// verified even when the caller skipped the contents.
func (pr *Reader) finishEntry() error {
	if pr.curSum == nil || pr.curDone {
		return nil
	}
	if _, err := io.Copy(pr.curSum, pr.tr); err != nil {
		return pr.errorf("data section: %q: %w", pr.cur.Name, noEOF(err))
	}
	return pr.verifyEntry()
}

func (pr *Reader) verifyEntry() error {
	if pr.curSum == nil || pr.curDone {
		return nil
	}
	pr.curDone = true
	if got := pr.curSum.Sum(nil); !bytes.Equal(got, pr.curWant) {
		return pr.errorf("%w: file %q has SHA-1 %x, header says %x", ErrChecksum, pr.cur.Name, got, pr.curWant)
	}
	return nil
}

// finishData runs after the tar end: the rest of the member (padding) is
// read so the gzip trailer is checked and the datahash covers the whole
// member, and nothing may follow the member.
func (pr *Reader) finishData() error {
	if _, err := io.Copy(io.Discard, pr.ahead); err != nil {
		return pr.errorf("data section: %w", noEOF(err))
	}
	pr.ahead.Close() // it has returned: the member's reader is ours again
	// Checked before the datahash: the hash has what the read-ahead
	// buffer read, which is the member only when nothing follows it.
	if _, err := pr.data.Peek(1); err == nil {
		return pr.errorf("unexpected data after the data section at offset %d", pr.src.Offset()-int64(pr.data.Buffered()))
	} else if !errors.Is(err, io.EOF) {
		return pr.errorf("after data section: %w", err)
	}
	pr.src.SetSink(nil)
	if pr.dataSum != nil {
		if got := hex.EncodeToString(pr.dataSum.Sum(nil)); got != pr.DataHash {
			return pr.errorf("%w: data section has SHA-256 %s, %s datahash says %s", ErrChecksum, got, PkgInfoFile, pr.DataHash)
		}
	}
	pr.Info.Size = uint64(pr.src.Offset())
	return nil
}
