package apko

import (
	"errors"
	"io/fs"
	"testing"
)

// memFS serves include files from a map.
type memFS map[string]string

func (m memFS) read(p string) ([]byte, error) {
	s, ok := m[p]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	return []byte(s), nil
}

func TestIncludeErrors(t *testing.T) {
	tests := []struct {
		name  string
		files memFS
		err   string
	}{
		{"self include", memFS{"apko.yaml": "include: apko.yaml\n"},
			"apko.yaml:1:10: include: include cycle: apko.yaml -> apko.yaml"},
		{"cycle through two files", memFS{
			"apko.yaml":   "contents:\n  packages: [a]\ninclude: base/a.yaml\n",
			"base/a.yaml": "include: base/b.yaml\n",
			"base/b.yaml": "cmd: x\ninclude: ./base/a.yaml\n",
		}, "base/b.yaml:2:10: include: include cycle: base/a.yaml -> base/b.yaml -> base/a.yaml"},
		{"missing include", memFS{"apko.yaml": "# syntax=ghcr.io/kiln-build/kiln:v0\ninclude: nope.yaml\n"},
			`apko.yaml:2:10: include "nope.yaml": open nope.yaml: file does not exist`},
		{"error inside included file", memFS{
			"apko.yaml": "include: base.yaml\n",
			"base.yaml": "contents:\n  packages:\n    - ok\n    - 'bad=>1'\n",
		}, "base.yaml:4:7: contents.packages[1]: " + depErr("bad=>1")},
		{"missing top file", memFS{}, "apko.yaml: reading: open apko.yaml: file does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("apko.yaml", tt.files.read)
			if err == nil {
				t.Fatalf("no error, want %s", tt.err)
			}
			if err.Error() != tt.err {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.err)
			}
		})
	}

	// The cause stays reachable.
	_, err := Load("apko.yaml", memFS{"apko.yaml": "include: x.yaml\n"}.read)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing include error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestIncludeMerge(t *testing.T) {
	files := memFS{
		"base.yaml": `
contents:
  repositories: [https://base]
  keyring: [base.pub]
  packages: [base-pkg]
  runtime_keyring:
    - name: base.pub
      content: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
  baseimage:
    image: ./img
entrypoint:
  type: service-bundle
  services: {a: /a}
cmd: base-cmd
stop-signal: TERM
work-dir: /base
format: tar
vcs-url: https://base
accounts:
  run-as: base
  users: [{username: base, uid: 1}]
  groups: [{groupname: base, gid: 1}]
environment: {A: base, B: base}
annotations: {X: base}
paths: [{path: /base, type: directory}]
volumes: [/base]
archs: [x86_64]
layering: {strategy: origin, budget: 2}
certificates: {providers: [base-certs]}
`,
		"apko.yaml": `include: base.yaml
contents:
  repositories: [https://top]
  packages: [top-pkg]
entrypoint:
  command: /top
environment: {B: top, C: top}
accounts:
  users: [{username: top, uid: 2}]
`,
	}
	c, err := Load("apko.yaml", files.read)
	if err != nil {
		t.Fatal(err)
	}
	// The top file's entrypoint is set, so none of base's is inherited.
	eq(t, "entrypoint", []any{c.Entrypoint.Type.Value, c.Entrypoint.Command.Value, len(c.Entrypoint.Services)}, []any{"", "/top", 0})
	eq(t, "inherited scalars", []string{c.Cmd.Value, c.StopSignal.Value, c.WorkDir.Value, c.Format.Value, c.Accounts.RunAs.Value},
		[]string{"base-cmd", "TERM", "/base", "tar", "base"})
	eq(t, "vcs-url is not inherited", c.VCSURL.Value, "")
	eq(t, "repositories", values(c.Contents.Repositories, func(r Repository) string { return r.URL }), []string{"https://base", "https://top"})
	eq(t, "packages", pkgs(c), []string{"base-pkg", "top-pkg"})
	eq(t, "keyring", len(c.Contents.Keyring), 1)
	eq(t, "runtime keyring", len(c.Contents.RuntimeKeyring), 1)
	eq(t, "baseimage", c.Contents.BaseImage != nil && c.Contents.BaseImage.Image.Value == "./img", true)
	eq(t, "users", values(c.Accounts.Users, func(u User) string { return u.UserName.Value }), []string{"base", "top"})
	eq(t, "groups", len(c.Accounts.Groups), 1)
	eq(t, "env", Map(c.Environment), map[string]string{"A": "base", "B": "top", "C": "top"})
	eq(t, "annotations", Map(c.Annotations), map[string]string{"X": "base"})
	eq(t, "paths", len(c.Paths), 1)
	eq(t, "volumes", len(c.Volumes), 1)
	eq(t, "archs", archNames(c), []string{"x86_64"})
	eq(t, "layering", c.Layering != nil && c.Layering.Budget.Value == 2, true)
	eq(t, "certificates", c.Certificates != nil && c.Certificates.Providers[0].Value == "base-certs", true)
	// Merged values keep the file they came from.
	eq(t, "position", c.Contents.Packages[0].Pos.String(), "base.yaml:5:14")
	// The inherited baseimage is then rejected, pointing into base.yaml.
	err = c.Validate()
	if err == nil || err.Error()[:len("base.yaml:10:5:")] != "base.yaml:10:5:" {
		t.Errorf("Validate: %v", err)
	}
}

// Parse must not follow includes.
func TestParseIgnoresInclude(t *testing.T) {
	c, err := Parse("apko.yaml", []byte("include: other.yaml\ncmd: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "include", c.Include.Value, "other.yaml")
	eq(t, "includes", len(c.Includes), 0)
}
