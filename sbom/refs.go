package sbom

import (
	"net/url"
	"path"
	"regexp"
	"strings"
)

// distro is a well-known apk distribution: its purl namespace and the
// organisation that supplies its packages.
type distro struct {
	host      string // suffix of the repository's host
	namespace string
	supplier  string
}

var distros = []distro{
	{"wolfi.dev", "wolfi", "Wolfi"},
	{"alpinelinux.org", "alpine", "Alpine Linux"},
	{"chainguard.dev", "chainguard", "Chainguard, Inc."},
}

// namespace names a repository for purls: the distribution for the
// well-known ones, else the repository's own name (the last element of its
// path, or its host), as a user would call it.
func namespace(repository string) (ns, supplier string) {
	loc := repository
	if u, err := url.Parse(repository); err == nil && u.Host != "" {
		host := strings.ToLower(u.Hostname())
		for _, d := range distros {
			if host == d.host || strings.HasSuffix(host, "."+d.host) {
				return d.namespace, d.supplier
			}
		}
		loc = u.Path
		if strings.Trim(loc, "/") == "" {
			return sanitizeNamespace(host), ""
		}
	}
	loc = strings.TrimPrefix(loc, "file://")
	base := path.Base(path.Clean("/" + strings.ReplaceAll(loc, "\\", "/")))
	if base == "/" || base == "." {
		return "local", ""
	}
	return sanitizeNamespace(base), ""
}

var notNamespace = regexp.MustCompile(`[^a-z0-9._-]+`)

func sanitizeNamespace(s string) string {
	s = strings.Trim(notNamespace.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if s == "" {
		return "local"
	}
	return s
}

// purl is the package URL of an apk: pkg:apk/<namespace>/<name>@<version>?arch=<arch>.
func purl(ns string, p Package) string {
	return "pkg:apk/" + purlSegment(ns) + "/" + purlSegment(p.Name) + "@" + purlSegment(p.Version) +
		"?arch=" + url.QueryEscape(p.Arch)
}

// purlSegment percent-encodes a purl path segment; '+' is common in apk
// names and versions and must not be read as a space.
func purlSegment(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), "+", "%2B")
}

// imagePURL is the package URL of the image itself.
func imagePURL(name, platform string) string {
	q := url.Values{}
	parts := strings.Split(platform, "/")
	if len(parts) > 0 && parts[0] != "" {
		q.Set("os", parts[0])
	}
	if len(parts) > 1 {
		q.Set("arch", parts[1])
	}
	if len(parts) > 2 {
		q.Set("variant", parts[2])
	}
	s := "pkg:oci/" + purlSegment(strings.ToLower(name))
	if enc := q.Encode(); enc != "" {
		s += "?" + enc
	}
	return s
}

var revision = regexp.MustCompile(`-r[0-9]+$`)

// cpe derives the CPE 2.3 name scanners match vulnerability feeds with:
// the origin (the upstream project a package is built from) as vendor and
// product, and the upstream version without apk's -rN release.
func cpe(p Package) string {
	product := p.Origin
	if product == "" {
		product = p.Name
	}
	v := revision.ReplaceAllString(p.Version, "")
	return "cpe:2.3:a:" + cpeEscape(product) + ":" + cpeEscape(product) + ":" + cpeEscape(v) + ":*:*:*:*:*:*:*"
}

// cpeEscape quotes what the CPE 2.3 formatted-string binding does not
// allow bare: everything but letters, digits, '.', '_' and '-'.
func cpeEscape(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		case r < 0x80:
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "*"
	}
	return b.String()
}

// originator turns an apk maintainer ("Name <mail>") into an SPDX person.
func originator(maintainer string) (name string, ok bool) {
	m := strings.TrimSpace(maintainer)
	if m == "" {
		return "", false
	}
	if i := strings.LastIndex(m, "<"); i >= 0 && strings.HasSuffix(m, ">") {
		person := strings.TrimSpace(m[:i])
		mail := m[i+1 : len(m)-1]
		if person == "" {
			person = mail
		}
		return person + " (" + mail + ")", true
	}
	return m, true
}

// downloadLocation is where the .apk can be fetched from: its URL for a
// remote repository. A path in someone's build context is no location.
// Repositories keep every package, noarch ones too, under the target arch.
func downloadLocation(targetArch string, p Package) string {
	if strings.HasPrefix(p.Repository, "https://") || strings.HasPrefix(p.Repository, "http://") {
		return p.Repository + "/" + targetArch + "/" + p.Name + "-" + p.Version + ".apk"
	}
	return "NOASSERTION"
}
