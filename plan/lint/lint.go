// Package lint finds what is legal in an apko config or a melange build
// but likely to hurt: builds that change under the user's feet, trust
// fetched without TLS, sources nothing verifies, steps that will not work
// without the network, fields apko and melange are removing. The
// frontend reports the findings for `docker buildx build --call check`,
// `kiln lint` prints them; both read the same list, with the position of
// each.
package lint

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/kiln-build/kiln/apk/version"
	"github.com/kiln-build/kiln/config/apko"
)

// Level says whether a finding fails a check.
type Level int

const (
	Warning Level = iota
	Error
)

func (l Level) String() string {
	if l == Error {
		return "error"
	}
	return "warning"
}

// Rule is one kind of finding.
type Rule struct {
	Name        string
	Level       Level
	Description string // what the rule is about, one line
}

// The rules, in the order they are documented.
var (
	UnpinnedPackage = Rule{"UnpinnedPackage", Warning,
		"A package without an exact or ~ version installs whatever the repositories serve on the day of the build."}
	PlainHTTPKey = Rule{"PlainHTTPKey", Error,
		"A key fetched over plain HTTP can be replaced on the way, and every index is verified against it."}
	PlainHTTPRepository = Rule{"PlainHTTPRepository", Warning,
		"A repository over plain HTTP exposes what is installed; kiln still verifies its index against the keyring."}
	DeprecatedInclude = Rule{"DeprecatedInclude", Warning,
		"apko marks include: as deprecated and will remove it."}
	DoubleEqualPin = Rule{"DoubleEqualPin", Warning,
		"apko reads pkg==V as any version of pkg; apk and kiln read it as pkg=V, so the two build different things."}
)

// Rules lists every rule: the apko rules, which also apply to melange
// build and test environments, then the melange ones.
var Rules = []Rule{UnpinnedPackage, PlainHTTPKey, PlainHTTPRepository, DeprecatedInclude, DoubleEqualPin,
	UnverifiedSource, NeedsNetwork, DeprecatedField, UnknownPipeline}

// Finding is one rule's hit at one place.
type Finding struct {
	Rule    Rule
	Pos     apko.Pos
	Message string
}

// String formats f as "file:line:col: level: Rule: message".
func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: %s: %s", f.Pos, f.Rule.Level, f.Rule.Name, f.Message)
}

// Options say what else a build of the config follows.
type Options struct {
	// Locked: a lockfile pins every package, so none is unpinned.
	Locked bool
}

// Check lints a loaded config (includes merged: each value keeps the
// position in the file that wrote it). Findings are in file, then line
// order.
func Check(cfg *apko.Config, opts Options) []Finding {
	var l list
	l.contents(cfg.Contents, opts.Locked, "or lock the config (kiln lock)")
	if cfg.Include.Value != "" {
		l.add(DeprecatedInclude, cfg.Include.Pos, "include: is deprecated in apko: merge %s into this file", cfg.Include.Value)
	}
	return l.sorted()
}

// list collects findings.
type list struct {
	out  []Finding
	seen map[string]bool
}

// add records a finding once: a melange build is checked for several
// architectures, and most of what they find is the same.
func (l *list) add(r Rule, pos apko.Pos, format string, args ...any) {
	f := Finding{Rule: r, Pos: pos, Message: fmt.Sprintf(format, args...)}
	key := f.String()
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	if l.seen[key] {
		return
	}
	l.seen[key] = true
	l.out = append(l.out, f)
}

// contents checks the packages, keys and repositories of an apko
// contents section (an image's, or a melange build or test
// environment's); orLock says how else to pin a package.
func (l *list) contents(c apko.Contents, locked bool, orLock string) {
	for _, p := range c.Packages {
		if strings.Contains(p.Value, "==") && !p.Dep.Conflict {
			l.add(DoubleEqualPin, p.Pos, "package %q: apko reads == as no version at all, apk and kiln as =: write %s=%s", p.Value, p.Dep.Name, p.Dep.Version)
		}
		if p.Dep.Conflict || locked {
			continue
		}
		switch p.Dep.Op {
		case version.OpEqual, version.OpFuzzy, version.OpChecksum:
		case version.OpAny:
			msg := fmt.Sprintf("package %q has no version: pin it (%s=VERSION, or %s~VERSION to follow patch releases)", p.Value, p.Dep.Name, p.Dep.Name)
			if orLock != "" {
				msg += " " + orLock
			}
			l.add(UnpinnedPackage, p.Pos, "%s", msg)
		default:
			l.add(UnpinnedPackage, p.Pos, "package %q allows a range of versions: which one installs depends on the day of the build", p.Value)
		}
	}
	for _, k := range c.Keyring {
		if plainHTTP(k.Value) {
			l.add(PlainHTTPKey, k.Pos, "key %s is fetched over plain HTTP: use https://, or a key file in the build context", k.Value)
		}
	}
	for _, list := range []struct {
		field string
		repos []apko.Repository
	}{{"repositories", c.Repositories}, {"build_repositories", c.BuildRepositories}, {"runtime_repositories", c.RuntimeRepositories}} {
		for _, r := range list.repos {
			if plainHTTP(r.URL) {
				l.add(PlainHTTPRepository, r.Pos, "%s entry %s is served over plain HTTP: use https://", list.field, r.URL)
			}
		}
	}
}

// sorted returns the findings in file, then line, then column order.
func (l *list) sorted() []Finding {
	out := l.out
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Pos, out[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return out
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Rule.Level == Error {
			return true
		}
	}
	return false
}

// plainHTTP reports whether loc is fetched over plain HTTP from another
// machine. Loopback is left alone: nothing crosses a network, and local
// mirrors and tests serve there.
func plainHTTP(loc string) bool {
	if !strings.HasPrefix(loc, "http://") {
		return false
	}
	u, err := url.Parse(loc)
	if err != nil {
		return true
	}
	host := u.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
