package apko

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/shlex"
)

// Names of installed certificate and key files: no leading dot, nothing
// that could leave the directory. apko uses the same rule.
var fileNameRE = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]*$`)

// Validate runs the checks that need more than one value, on a parsed or
// loaded (merged) configuration. It does not change c.
//
// run-as may name a user that no accounts.users entry defines: apko looks
// it up in the image's /etc/passwd, which packages also fill (root,
// nobody, ...), and otherwise passes the name to the runtime. So only its
// form is checked here; resolving it needs the installed image.
func (c *Config) Validate() error {
	checks := []func() error{
		c.validateContents,
		c.validateEntrypoint,
		c.validateAccounts,
		c.validatePaths,
		c.validateLayering,
		c.validateCertificates,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) validateContents() error {
	cc := &c.Contents
	if err := c.validateBaseImage(); err != nil {
		return err
	}
	// A package pinned to @tag needs a build repository with that tag, or
	// apk cannot resolve it.
	tags := map[string]bool{}
	for _, r := range concat(cc.Repositories, cc.BuildRepositories) {
		if r.Tag != "" {
			tags[r.Tag] = true
		}
	}
	for _, p := range cc.Packages {
		if p.Dep.Tag != "" && !tags[p.Dep.Tag] {
			return p.Pos.Errorf("package %q: no repository is tagged @%s (tag one: \"@%s URL\")", p.Value, p.Dep.Tag, p.Dep.Tag)
		}
	}
	seen := map[string]Pos{}
	for _, k := range cc.RuntimeKeyring {
		if err := checkNamedPEM(k, "contents.runtime_keyring"); err != nil {
			return err
		}
		if first, dup := seen[k.Name.Value]; dup {
			return k.Name.Pos.Errorf("contents.runtime_keyring: %q is listed twice (first at %s)", k.Name.Value, first)
		}
		seen[k.Name.Value] = k.Name.Pos
		if block, _ := pem.Decode([]byte(k.Content.Value)); block == nil {
			return k.Content.Pos.Errorf("contents.runtime_keyring %q: content is not a PEM public key", k.Name.Value)
		}
	}
	return nil
}

// validateBaseImage applies apko's rule for a config built on a base
// image: it may add packages (contents, archs, include) but not change
// what the base's config says, so entrypoint, cmd, stop-signal, work-dir,
// accounts, environment, paths and annotations are refused, and layering
// too. apko lets volumes, vcs-url, certificates and format through, and so
// does kiln.
func (c *Config) validateBaseImage() error {
	b := c.Contents.BaseImage
	if b == nil {
		return nil
	}
	if b.Image.Value == "" {
		return b.Pos.Errorf("contents.baseimage: no image (the path of the base's OCI layout directory in the build context)")
	}
	if b.APKIndex.Value == "" {
		return b.Pos.Errorf("contents.baseimage: no apkindex (the directory holding <arch>/APKINDEX, the base's installed database)")
	}
	refuse := func(pos Pos, field string) error {
		return pos.Errorf("%s: not allowed with contents.baseimage (a config on a base image may set only contents, archs and include; the rest comes from the base image, as in apko)", field)
	}
	switch {
	case !c.Entrypoint.IsZero():
		return refuse(c.Entrypoint.Pos, "entrypoint")
	case c.Cmd.Value != "":
		return refuse(c.Cmd.Pos, "cmd")
	case c.StopSignal.Value != "":
		return refuse(c.StopSignal.Pos, "stop-signal")
	case c.WorkDir.Value != "":
		return refuse(c.WorkDir.Pos, "work-dir")
	case c.Accounts.RunAs.Value != "" || len(c.Accounts.Users) > 0 || len(c.Accounts.Groups) > 0:
		return refuse(c.Accounts.Pos, "accounts")
	case len(c.Environment) > 0:
		return refuse(c.Environment[0].Key.Pos, "environment")
	case len(c.Paths) > 0:
		return refuse(c.Paths[0].Pos, "paths")
	case len(c.Annotations) > 0:
		return refuse(c.Annotations[0].Key.Pos, "annotations")
	case c.Layering != nil:
		return refuse(c.Layering.Pos, "layering")
	}
	return nil
}

func checkNamedPEM(e NamedPEM, what string) error {
	if e.Name.Value == "" {
		return e.Pos.Errorf("%s: entry has no name", what)
	}
	if !fileNameRE.MatchString(e.Name.Value) {
		return e.Name.Pos.Errorf("%s: invalid name %q (letters, digits, '_', '-', '.'; not starting with '.')", what, e.Name.Value)
	}
	if strings.TrimSpace(e.Content.Value) == "" {
		return e.Pos.Errorf("%s %q: no content", what, e.Name.Value)
	}
	return nil
}

func (c *Config) validateEntrypoint() error {
	for _, s := range []struct {
		v    Str
		what string
	}{{c.Entrypoint.Command, "entrypoint.command"}, {c.Cmd, "cmd"}} {
		if s.v.Value == "" {
			continue
		}
		if _, err := shlex.Split(s.v.Value); err != nil {
			return s.v.Pos.Errorf("%s: %q cannot be split into arguments: %v", s.what, s.v.Value, err)
		}
	}
	return nil
}

func (c *Config) validateAccounts() error {
	for _, u := range c.Accounts.Users {
		if u.UserName.Value == "" {
			return u.Pos.Errorf("accounts.users: user has no username")
		}
		if u.UID == nil {
			return u.Pos.Errorf("accounts.users: user %q has no uid", u.UserName.Value)
		}
		if u.UID.Value == 0 {
			return u.UID.Pos.Errorf("accounts.users: user %q has uid 0 (to run as root, use `run-as: 0`)", u.UserName.Value)
		}
	}
	for _, g := range c.Accounts.Groups {
		if g.GroupName.Value == "" {
			return g.Pos.Errorf("accounts.groups: group has no groupname")
		}
	}
	if r := c.Accounts.RunAs; r.Value != "" {
		if err := checkRunAs(r.Value); err != nil {
			return r.Pos.Errorf("accounts.run-as: %v", err)
		}
	}
	return nil
}

// checkRunAs accepts what an OCI image's User may be: user, uid,
// user:group, uid:gid (names or numbers on either side).
func checkRunAs(s string) error {
	parts := []string{s}
	if user, group, ok := strings.Cut(s, ":"); ok {
		parts = []string{user, group}
	}
	for _, part := range parts {
		if part == "" || strings.ContainsAny(part, ":, \t\n") {
			return fmt.Errorf("invalid %q (want user, uid, user:group or uid:gid)", s)
		}
		if n, err := strconv.ParseInt(part, 10, 64); err == nil && (n < 0 || n > 1<<32-1) {
			return fmt.Errorf("id %s in %q is out of range", part, s)
		}
	}
	return nil
}

func (c *Config) validatePaths() error {
	for _, m := range c.Paths {
		if m.Path.Value == "" {
			return m.Pos.Errorf("paths: entry has no path")
		}
		if m.Type.Value == "" {
			return m.Pos.Errorf("paths: %q has no type (known: %s)", m.Path.Value, strings.Join(pathTypes, ", "))
		}
		switch m.Type.Value {
		case PathHardlink, PathSymlink:
			if m.Source.Value == "" {
				return m.Pos.Errorf("paths: %s %q needs a source", m.Type.Value, m.Path.Value)
			}
		}
	}
	return nil
}

func (c *Config) validateLayering() error {
	l := c.Layering
	if l == nil {
		return nil
	}
	// apko fails a build whose layering sets a budget but no strategy.
	if l.Strategy.Value == "" && l.Budget.Pos.IsValid() {
		return l.Pos.Errorf("layering: budget needs a strategy (known: origin)")
	}
	if c.Format.Value == "erofs" {
		return c.Format.Pos.Errorf("format: erofs cannot be combined with layering")
	}
	return nil
}

func (c *Config) validateCertificates() error {
	if c.Certificates == nil {
		return nil
	}
	for _, e := range c.Certificates.Additional {
		if err := checkNamedPEM(e, "certificates.additional"); err != nil {
			return err
		}
		if err := checkOneCertificate(e.Content.Value); err != nil {
			return e.Content.Pos.Errorf("certificates.additional %q: %v", e.Name.Value, err)
		}
	}
	return nil
}

// checkOneCertificate requires exactly one parsable PEM certificate, as
// apko does when it installs one.
func checkOneCertificate(s string) error {
	rest := []byte(s)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		if n > 1 {
			return fmt.Errorf("more than one certificate (one per entry)")
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("PEM block is %q, want CERTIFICATE", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("invalid certificate: %v", err)
		}
	}
	if n == 0 {
		return fmt.Errorf("no PEM certificate in content")
	}
	return nil
}
