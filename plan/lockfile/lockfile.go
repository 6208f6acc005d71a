// Package lockfile reads and writes apko's lockfile (apko.lock.json,
// what `apko lock` writes): the exact packages a config installs per
// arch, where each .apk is and the checksums of its sections, with the
// keys and repositories they came from. kiln writes it with `kiln lock`
// and builds from it, and reads the ones apko writes.
package lockfile

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Version is the only format version apko writes.
const Version = "v1"

// Lock is a lockfile. Field order and names are apko's.
type Lock struct {
	Version  string   `json:"version"`
	Config   *Config  `json:"config,omitempty"`
	Contents Contents `json:"contents"`
}

// Config names the config a lock was written for. Checksum covers the
// config's bytes and those of the files it includes, in reading order.
type Config struct {
	Name     string `json:"name,omitempty"`
	Checksum string `json:"checksum,omitempty"`
}

// Contents are the locked keys, repositories and packages.
type Contents struct {
	Keyring             []Key        `json:"keyring"`
	BuildRepositories   []Repository `json:"build_repositories"`
	RuntimeRepositories []Repository `json:"runtime_repositories"`
	Repositories        []Repository `json:"repositories"`
	Packages            []Package    `json:"packages"` // per arch, in install order
}

// Key is a keyring entry with its content.
type Key struct {
	Name    string `json:"name"` // the URL without its scheme
	URL     string `json:"url"`  // as the config writes it
	Content string `json:"content,omitempty"`
}

// Repository is one repository for one arch.
type Repository struct {
	Name         string `json:"name"` // "<repository>/<arch>" without scheme or @tag
	URL          string `json:"url"`  // its APKINDEX.tar.gz
	Architecture string `json:"architecture"`
}

// Package is one locked .apk.
type Package struct {
	Name         string        `json:"name"`
	URL          string        `json:"url"`
	Version      string        `json:"version"`
	Architecture string        `json:"architecture"`
	Signature    RangeChecksum `json:"signature"` // empty for an unsigned package
	Control      RangeChecksum `json:"control"`
	Data         RangeChecksum `json:"data"`
	Checksum     string        `json:"checksum"` // "Q1" + base64 SHA-1 of the control section
}

// RangeChecksum is a section's byte range ("bytes=FIRST-LAST") and the
// checksum of its bytes ("sha1-<base64>" or "sha256-<base64>").
type RangeChecksum struct {
	Range    string `json:"range"`
	Checksum string `json:"checksum"`
}

// NewRange formats a section at offset of size bytes.
func NewRange(offset, size int64) string {
	return fmt.Sprintf("bytes=%d-%d", offset, offset+size-1)
}

var rangeRE = regexp.MustCompile(`^bytes=([0-9]+)-([0-9]+)$`)

// Bounds reads a range: its first byte and its length.
func (rc RangeChecksum) Bounds() (offset, size int64, err error) {
	m := rangeRE.FindStringSubmatch(rc.Range)
	if m == nil {
		return 0, 0, fmt.Errorf("range %q is not bytes=FIRST-LAST", rc.Range)
	}
	first, err1 := strconv.ParseInt(m[1], 10, 64)
	last, err2 := strconv.ParseInt(m[2], 10, 64)
	if err1 != nil || err2 != nil || last < first {
		return 0, 0, fmt.Errorf("range %q is not bytes=FIRST-LAST", rc.Range)
	}
	return first, last - first + 1, nil
}

// ConfigChecksum is the checksum a lock records for a config made of
// these files' bytes, in the order they were read (the config, then what
// it includes).
func ConfigChecksum(files ...[]byte) string {
	h := sha256.New()
	for _, f := range files {
		h.Write(f)
	}
	return "sha256-" + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// Parse reads a lockfile. Unknown fields are ignored, so that locks from
// newer apko versions still read; the version must be v1.
func Parse(data []byte) (*Lock, error) {
	var l Lock
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("not an apko lockfile: %w", err)
	}
	if l.Version != Version {
		return nil, fmt.Errorf("lockfile version %q: kiln reads %s", l.Version, Version)
	}
	for i, p := range l.Contents.Packages {
		if p.Name == "" || p.Version == "" || p.Architecture == "" || p.URL == "" {
			return nil, fmt.Errorf("packages[%d] lacks a name, version, architecture or url", i)
		}
		if !strings.HasPrefix(p.Checksum, "Q1") {
			return nil, fmt.Errorf("package %s-%s (%s): checksum %q is not an apk Q1 checksum", p.Name, p.Version, p.Architecture, p.Checksum)
		}
	}
	return &l, nil
}

// Marshal writes a lockfile as apko does: two-space indented JSON and a
// final newline.
func (l *Lock) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// NameFor is the lockfile apko writes for a config: its name without the
// extension, then ".lock.json" (apko.yaml -> apko.lock.json).
func NameFor(config string) string {
	base := config
	if i := strings.LastIndex(base, "."); i > strings.LastIndex(base, "/") {
		base = base[:i]
	}
	return base + ".lock.json"
}

// StripScheme drops a URL's "http://" or "https://", as apko names keys
// and repositories.
func StripScheme(s string) string {
	if _, rest, ok := strings.Cut(s, "://"); ok {
		return rest
	}
	return s
}

// PackagesFor returns the locked packages of one arch, in install order.
// A noarch package belongs to the arch whose directory it is fetched
// from.
func (l *Lock) PackagesFor(arch string) []Package {
	var out []Package
	for _, p := range l.Contents.Packages {
		if p.Architecture == arch || p.Architecture == "noarch" && strings.Contains(p.URL, "/"+arch+"/") {
			out = append(out, p)
		}
	}
	return out
}
