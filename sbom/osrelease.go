package sbom

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"strings"
)

// OSReleasePaths are the files that say what an image's distribution is:
// /etc/os-release, which is often a symlink to /usr/lib/os-release.
var OSReleasePaths = []string{"etc/os-release", "usr/lib/os-release"}

// OSFile is one package's OSReleasePaths entry: a regular file's Data or
// a symlink's Link target.
type OSFile struct {
	Package string `json:"package"`
	Path    string `json:"path"`
	Data    string `json:"data,omitempty"`
	Link    string `json:"link,omitempty"`
}

// OS is the operating system the SBOM names, from /etc/os-release.
type OS struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	VersionID string `json:"version_id"`
}

// Without /etc/os-release the image's system is unknown, as apko says.
var unknownOS = OS{ID: "unknown", Name: "kiln-generated image", VersionID: "unknown"}

// OSFromFiles finds the image's /etc/os-release among the files packages
// installed (in install order: a later package's file is the one the
// image holds) and reads it.
func OSFromFiles(files []OSFile) (OS, error) {
	final := map[string]OSFile{}
	for _, f := range files {
		final[f.Path] = f
	}
	p := "etc/os-release"
	for hops := 0; hops < 4; hops++ {
		f, ok := final[p]
		if !ok {
			return unknownOS, nil
		}
		if f.Link == "" {
			os, err := ParseOSRelease([]byte(f.Data))
			if err != nil {
				return OS{}, fmt.Errorf("/%s from %s: %w", p, f.Package, err)
			}
			return os, nil
		}
		target := f.Link
		if !path.IsAbs(target) {
			target = path.Join("/", path.Dir(p), target)
		}
		p = strings.TrimPrefix(path.Clean(target), "/")
	}
	return unknownOS, nil
}

// ParseOSRelease reads the fields apko uses from an os-release file:
// KEY=value lines, values optionally quoted; blank and # lines skipped.
func ParseOSRelease(data []byte) (OS, error) {
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return OS{}, fmt.Errorf("line %d: %q is not KEY=value", n, line)
		}
		fields[k] = strings.Trim(v, `"'`)
	}
	if err := sc.Err(); err != nil {
		return OS{}, err
	}
	os := OS{ID: fields["ID"], Name: fields["NAME"], VersionID: fields["VERSION_ID"]}
	if os.ID == "" {
		os.ID = unknownOS.ID
	}
	return os, nil
}
