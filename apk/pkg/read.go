package pkg

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/internal/gzmember"
	"github.com/kiln-build/kiln/apk/sign"
	kgzip "github.com/klauspost/compress/gzip"
)

// ErrChecksum marks content that does not match the checksum that covers
// it: the control checksum, the datahash, or a file's SHA-1.
var ErrChecksum = errors.New("checksum mismatch")

// ErrNoDataHash marks a package that is trusted through its index
// checksum (it has no trusted signature) but whose .PKGINFO has no
// datahash to extend that trust to the data section.
var ErrNoDataHash = errors.New("no datahash")

// Bounds on the sections read into memory; real ones are a few KiB.
const (
	maxSignatureSection = 1 << 20
	maxControlSection   = 32 << 20
)

// ReadOptions configures Open.
type ReadOptions struct {
	// Keyring holds the trusted keys; nil trusts none.
	Keyring *sign.Keyring
	// AllowUntrusted accepts unsigned packages and signatures by keys not
	// in Keyring. A trusted key's signature must still verify.
	AllowUntrusted bool
	// ExpectedChecksum is the index C: value ("Q1..."); "" skips the check.
	// Callers take it only from an index whose signature index.Read
	// verified: like apk, Open then trusts the package through the index
	// (signed index -> C: -> datahash -> file checksums), so a package
	// that is unsigned or signed by a key not in Keyring is accepted as
	// long as its .PKGINFO carries a datahash. A trusted key's signature
	// must still verify.
	ExpectedChecksum string
	// Name identifies the package in errors.
	Name string
	// ExpectedNameVersion is "name-version" as the index lists the package
	// ("" skips the check). The index checksum pins the control section,
	// so a .PKGINFO naming another package is a signed contradiction: the
	// image's database and its SBOM would disagree on what was installed.
	ExpectedNameVersion string
}

// ErrNotListed marks a package whose .PKGINFO names another package than
// the index lists.
var ErrNotListed = errors.New("not the package the index lists")

// Reader reads a package: Open verifies the signature and control section
// and parses .PKGINFO; Next and Read then stream the data section,
// verifying every file checksum and finally the datahash.
type Reader struct {
	// Info is the .PKGINFO as an index record, with Checksum set to
	// ControlChecksum. Info.Size (the .apk size) is set once Next has
	// returned io.EOF.
	Info            *index.Package
	DataHash        string            // .PKGINFO datahash, hex; "" when absent
	Scripts         map[string][]byte // ".post-install" → body
	Triggers        []string          // .PKGINFO triggers
	ControlChecksum string            // "Q1" + base64 SHA-1 of the control member
	Signatures      []sign.Signature  // as found, trusted or not
	PkgInfoExtra    [][2]string       // .PKGINFO keys with no field in Info, in order

	name    string
	src     *gzmember.Reader
	gz      gzip.Reader // the members before the data section
	data    *bufio.Reader
	dataGz  kgzip.Reader
	ahead   *readAhead // inflates dataGz for tr
	tr      *tar.Reader
	dataSum hash.Hash // SHA-256 of the data member; nil without datahash
	err     error     // sticky; io.EOF once the data section is verified

	cur     *tar.Header
	curSum  hash.Hash // SHA-1 of the current file's bytes; nil when unchecked
	curWant []byte
	curDone bool
}

// Open reads a package up to its data section. It fails unless the
// control checksum matches opts.ExpectedChecksum and the package is
// trusted: signed by a key in opts.Keyring, pinned by ExpectedChecksum
// with a datahash, or allowed by AllowUntrusted.
func Open(r io.Reader, opts ReadOptions) (*Reader, error) {
	pr, err := openControl(r, opts)
	if err != nil {
		return nil, err
	}
	if pr.DataHash != "" {
		pr.dataSum = sha256.New()
		pr.src.SetSink(pr.dataSum)
	}
	// The data member is the package's last bytes, so it may be read
	// through a read-ahead buffer, which klauspost's inflate reads much
	// faster than compress/gzip reads a byte reader that stops at the
	// member's end: BenchmarkReadGoTree reads a package 15-29% faster.
	// finishData checks that nothing the buffer read follows the member.
	pr.data = bufio.NewReaderSize(pr.src, 64<<10)
	if err := pr.dataGz.Reset(pr.data); err != nil {
		return nil, pr.errorf("data section: %w", noEOF(err))
	}
	pr.dataGz.Multistream(false)
	pr.ahead = newReadAhead(&pr.dataGz)
	pr.tr = tar.NewReader(pr.ahead)
	return pr, nil
}

// Close stops reading the package: a Reader from Open inflates its data
// section ahead of Next and Read until the end or Close. Next and Read
// fail after it, unless the package was read to its verified end.
func (pr *Reader) Close() error {
	if pr.ahead != nil {
		pr.ahead.Close()
	}
	if pr.err == nil {
		pr.err = pr.errorf("%w", errReadAheadClosed)
	}
	return nil
}

// errControlOnly stops Next on a Reader from ReadControl.
var errControlOnly = errors.New("read with ReadControl: the data section was not read")

// ReadControl is Open without the data section: it verifies the
// signature section and the control checksum, and parses .PKGINFO, from
// the package's first bytes only (a lockfile gives their length). Its
// Reader has Info, DataHash, ControlChecksum and Signatures; Next fails.
func ReadControl(r io.Reader, opts ReadOptions) (*Reader, error) {
	pr, err := openControl(r, opts)
	if err != nil {
		return nil, err
	}
	pr.err = errControlOnly
	return pr, nil
}

// openControl reads and verifies a package up to its data section.
func openControl(r io.Reader, opts ReadOptions) (*Reader, error) {
	pr := &Reader{name: opts.Name, src: gzmember.NewReader(r)}
	if pr.name == "" {
		pr.name = "package"
	}
	firstSum := sha1.New()
	pr.src.SetSink(firstSum)
	first, err := pr.member(maxControlSection, "first section")
	if err != nil {
		return nil, err
	}
	signed, err := isSignatureSection(first)
	if err != nil {
		return nil, pr.errorf("first section: %w", err)
	}
	control, controlSum := first, firstSum
	var digests *sign.Digester
	if signed {
		if len(first) > maxSignatureSection {
			return nil, pr.errorf("signature section is %d bytes", len(first))
		}
		if pr.Signatures, err = sign.ReadSegment(bytes.NewReader(first)); err != nil {
			return nil, pr.errorf("%w", err)
		}
		digests = sign.NewDigester(pr.Signatures)
		controlSum = sha1.New()
		pr.src.SetSink(io.MultiWriter(controlSum, digests))
		if control, err = pr.member(maxControlSection, "control section"); err != nil {
			return nil, err
		}
	}
	pr.src.SetSink(nil) // flushes the control member's last bytes into its hashes
	pr.ControlChecksum = "Q1" + base64.StdEncoding.EncodeToString(controlSum.Sum(nil))

	if want := opts.ExpectedChecksum; want != "" && want != pr.ControlChecksum {
		if !strings.HasPrefix(want, "Q1") {
			return nil, pr.errorf("expected checksum %q is not a Q1 (SHA-1) checksum", want)
		}
		return nil, pr.errorf("%w: control section is %s, index says %s", ErrChecksum, pr.ControlChecksum, want)
	}
	pinned := false // trusted through the index checksum, not a signature
	if err := checkTrust(opts, pr.Signatures, digests); err != nil {
		if opts.ExpectedChecksum == "" || !(errors.Is(err, sign.ErrUnsigned) || errors.Is(err, sign.ErrUntrusted)) {
			return nil, pr.errorf("%w", err)
		}
		pinned = true
	}
	if err := pr.parseControl(control); err != nil {
		return nil, err
	}
	if want, got := opts.ExpectedNameVersion, pr.Info.Name+"-"+pr.Info.Version; want != "" && got != want {
		return nil, pr.errorf("%w (%s): its .PKGINFO says %s", ErrNotListed, want, got)
	}
	if pinned && pr.DataHash == "" {
		// The index checksum covers the control section only; without a
		// datahash nothing trusted would cover the files.
		return nil, pr.errorf("%w: the index checksum trusts an unsigned package only through its datahash, and %s has none", ErrNoDataHash, PkgInfoFile)
	}
	return pr, nil
}

func (pr *Reader) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{pr.name}, args...)...)
}

// noEOF turns io.EOF into io.ErrUnexpectedEOF: only the verified end of
// the data section may look like io.EOF to callers that loop on it.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// member decompresses the next gzip member whole.
func (pr *Reader) member(limit int, what string) ([]byte, error) {
	if err := pr.gz.Reset(pr.src); err != nil {
		return nil, pr.errorf("%s: %w", what, noEOF(err))
	}
	pr.gz.Multistream(false)
	b, err := io.ReadAll(io.LimitReader(&pr.gz, int64(limit)+1))
	if err != nil {
		return nil, pr.errorf("%s: %w", what, noEOF(err))
	}
	if len(b) > limit {
		return nil, pr.errorf("%s: larger than %d bytes", what, limit)
	}
	return b, nil
}

// isSignatureSection tells a signature section from the control section
// of an unsigned package by its first entry.
func isSignatureSection(b []byte) (bool, error) {
	h, err := tar.NewReader(bytes.NewReader(b)).Next()
	if err != nil {
		return false, fmt.Errorf("not a tar stream: %w", noEOF(err))
	}
	return strings.HasPrefix(h.Name, ".SIGN."), nil
}

func checkTrust(opts ReadOptions, sigs []sign.Signature, d *sign.Digester) error {
	if len(sigs) == 0 {
		if opts.AllowUntrusted {
			return nil
		}
		return sign.ErrUnsigned
	}
	err := opts.Keyring.Verify(sigs, d)
	if err != nil && opts.AllowUntrusted && errors.Is(err, sign.ErrUntrusted) {
		return nil
	}
	return err
}

// parseControl reads .PKGINFO and the scriptlets.
func (pr *Reader) parseControl(control []byte) error {
	tr := tar.NewReader(bytes.NewReader(control))
	var pkginfo []byte
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return pr.errorf("control section: %w", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return pr.errorf("control section: %q: %w", h.Name, noEOF(err))
		}
		switch {
		case h.Name == PkgInfoFile:
			if pkginfo != nil {
				return pr.errorf("control section: two %s entries", PkgInfoFile)
			}
			pkginfo = body
		case slices.Contains(ScriptNames, h.Name):
			if pr.Scripts == nil {
				pr.Scripts = map[string][]byte{}
			}
			pr.Scripts[h.Name] = body
		case strings.HasPrefix(h.Name, "."):
			// Other control files (apk-tools 3 adds some) carry nothing kiln uses.
		default:
			return pr.errorf("control section: unexpected entry %q", h.Name)
		}
	}
	if pkginfo == nil {
		return pr.errorf("control section has no %s", PkgInfoFile)
	}
	pi, err := parsePkgInfo(pkginfo)
	if err != nil {
		return pr.errorf("%w", err)
	}
	if pi.dataHash != "" {
		if raw, err := hex.DecodeString(pi.dataHash); err != nil || len(raw) != sha256.Size {
			return pr.errorf("%s: datahash %q is not a hex SHA-256", PkgInfoFile, pi.dataHash)
		}
	}
	pr.Info, pr.DataHash, pr.Triggers, pr.PkgInfoExtra = pi.pkg, pi.dataHash, pi.triggers, pi.extra
	pr.Info.Checksum = pr.ControlChecksum
	return nil
}
