// Package lint finds what is legal in an apko config but likely to hurt:
// builds that change under the user's feet, trust fetched without TLS,
// fields apko is removing. The frontend reports the findings for
// `docker buildx build --call check`, `kiln lint` prints them; both read
// the same list, with the position of each.
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
)

// Rules lists every rule.
var Rules = []Rule{UnpinnedPackage, PlainHTTPKey, PlainHTTPRepository, DeprecatedInclude}

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
	var out []Finding
	add := func(r Rule, pos apko.Pos, format string, args ...any) {
		out = append(out, Finding{Rule: r, Pos: pos, Message: fmt.Sprintf(format, args...)})
	}
	c := cfg.Contents
	for _, p := range c.Packages {
		if p.Dep.Conflict || opts.Locked {
			continue
		}
		switch p.Dep.Op {
		case version.OpEqual, version.OpFuzzy, version.OpChecksum:
		case version.OpAny:
			add(UnpinnedPackage, p.Pos, "package %q has no version: pin it (%s=VERSION, or %s~VERSION to follow patch releases) or lock the config (kiln lock)", p.Value, p.Dep.Name, p.Dep.Name)
		default:
			add(UnpinnedPackage, p.Pos, "package %q allows a range of versions: which one installs depends on the day of the build", p.Value)
		}
	}
	for _, k := range c.Keyring {
		if plainHTTP(k.Value) {
			add(PlainHTTPKey, k.Pos, "key %s is fetched over plain HTTP: use https://, or a key file in the build context", k.Value)
		}
	}
	for _, list := range []struct {
		field string
		repos []apko.Repository
	}{{"repositories", c.Repositories}, {"build_repositories", c.BuildRepositories}, {"runtime_repositories", c.RuntimeRepositories}} {
		for _, r := range list.repos {
			if plainHTTP(r.URL) {
				add(PlainHTTPRepository, r.Pos, "%s entry %s is served over plain HTTP: use https://", list.field, r.URL)
			}
		}
	}
	if cfg.Include.Value != "" {
		add(DeprecatedInclude, cfg.Include.Pos, "include: is deprecated in apko: merge %s into this file", cfg.Include.Value)
	}
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
