package apko

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/apk/version"
)

// readTestdata reads includes relative to testdata/, standing in for the
// build context root.
func readTestdata(p string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", p)) }

func loadFixture(t *testing.T, name string) *Config {
	t.Helper()
	c, err := Load(name, readTestdata)
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate(%s): %v", name, err)
	}
	return c
}

func values[T any](xs []T, f func(T) string) []string {
	out := []string{}
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

func pkgs(c *Config) []string {
	return values(c.Contents.Packages, func(p Package) string { return p.Value })
}

func archNames(c *Config) []string { return values(c.Archs, func(a Arch) string { return a.Name }) }

func kvText(kvs []KV) []string {
	return values(kvs, func(kv KV) string { return kv.Key.Value + "=" + kv.Value.Value })
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, c *Config)
	}{
		{"wolfi-base.yaml", func(t *testing.T, c *Config) {
			eq(t, "packages", pkgs(c), []string{"wolfi-base"})
			eq(t, "cmd", c.Cmd.Value, "/bin/sh -l")
			eq(t, "cmd pos", c.Cmd.Pos.String(), "wolfi-base.yaml:10:6")
			eq(t, "archs", archNames(c), []string{"x86_64", "aarch64"})
			eq(t, "keyring", c.Contents.Keyring[0].Value, "https://packages.wolfi.dev/os/wolfi-signing.rsa.pub")
			eq(t, "package pos", c.Contents.Packages[0].Pos.String(), "wolfi-base.yaml:8:7")
		}},
		{"nginx.yaml", func(t *testing.T, c *Config) {
			e := c.Entrypoint
			eq(t, "type", e.Type.Value, "service-bundle")
			eq(t, "services", kvText(e.Services), []string{`nginx=/usr/sbin/nginx -c /etc/nginx/nginx.conf -g "daemon off;"`})
			eq(t, "stop-signal", c.StopSignal.Value, "SIGQUIT")
			eq(t, "work-dir", c.WorkDir.Value, "/usr/share/nginx")
			// apko trims trailing slashes from repository URLs.
			eq(t, "repo url", c.Contents.Repositories[0].URL, "https://packages.wolfi.dev/os")
			eq(t, "repo as written", c.Contents.Repositories[0].Value, "https://packages.wolfi.dev/os/")
			eq(t, "run-as", c.Accounts.RunAs.Value, "nginx")
			eq(t, "group", c.Accounts.Groups[0].GroupName.Value+"/"+itoa(c.Accounts.Groups[0].GID.Value), "nginx/10000")
			u := c.Accounts.Users[0]
			eq(t, "user", []any{u.UserName.Value, u.UID.Value, u.GID, u.Shell.Value}, []any{"nginx", uint32(10000), (*Uint32)(nil), "/bin/sh"})
			eq(t, "paths", len(c.Paths), 2)
			p := c.Paths[1]
			eq(t, "hardlink", []any{p.Path.Value, p.Type.Value, p.Source.Value, p.UID.Value, p.GID.Value, p.Permissions.Value},
				[]any{"/etc/nginx/http.d/default.conf", PathHardlink, "/etc/nginx/nginx.conf.default", uint32(10000), uint32(10000), uint32(0o644)})
			eq(t, "permissions pos", p.Permissions.Pos.String(), "nginx.yaml:43:18")
			eq(t, "annotations", kvText(c.Annotations), []string{"foo=bar", "org.opencontainers.image.description=nginx on wolfi"})
			eq(t, "archs", archNames(c), []string{"x86_64"})
			eq(t, "arch as written", c.Archs[0].Value, "amd64")
		}},
		{"alpine-base.yaml", func(t *testing.T, c *Config) {
			eq(t, "command", c.Entrypoint.Command.Value, "/bin/sh -l")
			eq(t, "env", kvText(c.Environment), []string{"PATH=/usr/sbin:/sbin:/usr/bin:/bin"})
			eq(t, "no archs", len(c.Archs), 0)
			eq(t, "no keyring", len(c.Contents.Keyring), 0)
		}},
		{"multi-arch.yaml", func(t *testing.T, c *Config) {
			// x86_64 repeats amd64 and is dropped.
			eq(t, "archs", archNames(c), []string{"x86_64", "aarch64", "armv7", "armhf", "x86", "ppc64le", "s390x", "riscv64", "loongarch64"})
			eq(t, "as written", c.Archs[2].Value, "arm/v7")
			eq(t, "arch pos", c.Archs[4].Pos.String(), "multi-arch.yaml:19:5")
		}},
		{"accounts.yaml", func(t *testing.T, c *Config) {
			a := c.Accounts
			eq(t, "run-as", a.RunAs.Value, "65532")
			eq(t, "groups", values(a.Groups, func(g Group) string { return g.GroupName.Value + ":" + itoa(g.GID.Value) }), []string{"nonroot:65532", "www-data:82"})
			eq(t, "members", values(a.Groups[1].Members, func(s Str) string { return s.Value }), []string{"nonroot", "build"})
			b := a.Users[1]
			eq(t, "build user", []any{b.UserName.Value, b.UID.Value, b.GID.Value, b.Shell.Value, b.HomeDir.Value},
				[]any{"build", uint32(1000), uint32(82), "/bin/ash", "/var/build"})
			eq(t, "uid pos", b.UID.Pos.String(), "accounts.yaml:23:12")
			eq(t, "cmd", c.Cmd.Value, "echo hello")
		}},
		{"paths.yaml", func(t *testing.T, c *Config) {
			got := values(c.Paths, func(p PathMutation) string {
				s := p.Type.Value + " " + p.Path.Value + " " + itoa(p.Permissions.Value)
				if p.Recursive.Value {
					s += " recursive"
				}
				if p.Source.Value != "" {
					s += " -> " + p.Source.Value
				}
				if p.UID != nil {
					s += " uid=" + itoa(p.UID.Value)
				}
				return s
			})
			eq(t, "paths", got, []string{
				"directory /data " + itoa(0o2775) + " recursive uid=65532",
				"empty-file /var/lib/app/ready " + itoa(0o644),
				"symlink /usr/bin/app 0 -> /opt/app/bin/app",
				"hardlink /usr/bin/app2 0 -> /opt/app/bin/app",
				"permissions /etc/app " + itoa(0o750) + " recursive",
				"permissions /tmp " + itoa(0o1777),
			})
			eq(t, "unset permissions have no position", c.Paths[2].Permissions.Pos.IsValid(), false)
		}},
		{"include.yaml", func(t *testing.T, c *Config) {
			eq(t, "includes", c.Includes, []string{"include-middle.yaml", "include-base.yaml"})
			// Lists: base first, then each including file.
			eq(t, "packages", pkgs(c), []string{"wolfi-baselayout", "ca-certificates-bundle", "busybox", "myapp@local"})
			eq(t, "package files", values(c.Contents.Packages, func(p Package) string { return p.Pos.String() }),
				[]string{"include-base.yaml:7:7", "include-base.yaml:8:7", "include-middle.yaml:5:7", "include.yaml:10:7"})
			eq(t, "build repo", c.Contents.BuildRepositories[0].Tag+" "+c.Contents.BuildRepositories[0].URL, "local /work/packages")
			eq(t, "runtime repos", c.Contents.RuntimeRepositories[0].URL, "https://packages.example.com/os")
			// Scalars: the nearest file that sets them wins.
			eq(t, "cmd", c.Cmd.Value, "serve --port 8080")
			eq(t, "entrypoint from base", c.Entrypoint.Command.Value+" @ "+c.Entrypoint.Command.Pos.String(), "/bin/sh -l @ include-base.yaml:11:12")
			eq(t, "work-dir", c.WorkDir.Value, "/base")
			eq(t, "stop-signal", c.StopSignal.Value, "SIGTERM")
			eq(t, "run-as", c.Accounts.RunAs.Value, "nonroot")
			eq(t, "users", len(c.Accounts.Users), 1)
			// Maps: keys of the including file win; others are inherited.
			env := Map(c.Environment)
			eq(t, "env", env, map[string]string{"APP_MODE": "production", "PATH": "/usr/local/bin:/usr/bin:/bin", "BASE_ONLY": "1"})
			eq(t, "annotations", Map(c.Annotations), map[string]string{
				"org.opencontainers.image.title": "myapp", "org.opencontainers.image.vendor": "Base Corp"})
			eq(t, "paths", values(c.Paths, func(p PathMutation) string { return p.Path.Value }), []string{"/base", "/app"})
			eq(t, "volumes", values(c.Volumes, func(s Str) string { return s.Value }), []string{"/base-data", "/app/data"})
			// archs are inherited only when unset; include.yaml sets them.
			eq(t, "archs", archNames(c), []string{"aarch64"})
			eq(t, "layering", c.Layering != nil && c.Layering.Strategy.Value == "origin" && c.Layering.Budget.Value == 4, true)
			eq(t, "include kept", c.Include.Value, "include-middle.yaml")
		}},
		{"include-middle.yaml", func(t *testing.T, c *Config) {
			eq(t, "archs inherited", archNames(c), []string{"x86_64", "aarch64"})
			eq(t, "env", Map(c.Environment), map[string]string{"PATH": "/usr/local/bin:/usr/bin:/bin", "BASE_ONLY": "1"})
		}},
		{"constraints.yaml", func(t *testing.T, c *Config) {
			type dep struct {
				Name, Tag string
				Op        version.Op
				Version   string
				Conflict  bool
			}
			got := values(c.Contents.Packages, func(p Package) string {
				d := p.Dep
				s := d.Name + "|" + d.Tag + "|" + d.Op.String() + "|" + d.Version
				if d.Conflict {
					s = "!" + s
				}
				return s
			})
			eq(t, "deps", got, []string{
				"python3||=|3.10.14-r0", "py3-pip||>=|23.1", "openssl||~|3.5", "musl||<|2", "hello|local||",
				"rust|edge|>|1.80", "!apk-tools|||", "so:libc.musl-x86_64.so.1|||", "cmd:sh|||", "6.0|||",
			})
			eq(t, "repo tags", values(c.Contents.Repositories, func(r Repository) string { return r.Tag + " " + r.URL }), []string{
				" https://dl-cdn.alpinelinux.org/alpine/v3.22/main", " https://dl-cdn.alpinelinux.org/alpine/v3.22/community",
				"edge https://dl-cdn.alpinelinux.org/alpine/edge/main", "local /github/workspace/packages",
			})
			eq(t, "relative keyring", c.Contents.Keyring[1].Value, "./keys/local-signing.rsa.pub")
		}},
		{"scalars.yaml", func(t *testing.T, c *Config) {
			eq(t, "packages", pkgs(c), []string{"python-3.10", "nodejs-22=22.11.0-r0"})
			eq(t, "env", kvText(c.Environment), []string{
				"PYTHON_VERSION=3.10", "NODE_VERSION=22.0", "ZIP=00303", "SCALE=1e3", "ENABLE=true", "DISABLE=no",
				"HEX=0x1F", "EMPTY=", "TILDE=~", "DATE=2024-01-01", `JSON={"a": 1}`,
			})
			eq(t, "annotations", kvText(c.Annotations), []string{"version=1.20", "build=0042"})
		}},
		{"anchors.yaml", func(t *testing.T, c *Config) {
			eq(t, "runtime repo alias", c.Contents.RuntimeRepositories[0].URL, "https://packages.wolfi.dev/os")
			eq(t, "alias keeps anchor position", c.Contents.RuntimeRepositories[0].Pos.String(), "anchors.yaml:7:7")
			eq(t, "env", kvText(c.Environment), []string{"LANG=C.UTF-8", "PYTHON=python-3.12", "TZ=UTC"})
			// Written keys win over merged ones.
			eq(t, "annotations", kvText(c.Annotations), []string{
				"TZ=Europe/Berlin", "org.opencontainers.image.authors=team@example.com", "LANG=C.UTF-8", "PYTHON=python-3.12"})
			// In a merged list the earlier mapping wins.
			eq(t, "services", kvText(c.Entrypoint.Services), []string{"web=/usr/bin/web --port 80", "worker=/usr/bin/worker"})
			u := c.Accounts.Users[1]
			eq(t, "merged user", []any{u.UserName.Value, u.UID.Value, u.GID.Value}, []any{"app2", uint32(1001), uint32(1000)})
			p := c.Paths[1]
			eq(t, "merged path", []any{p.Path.Value, p.Type.Value, p.Permissions.Value, p.UID.Value}, []any{"/srv/b", "directory", uint32(0o750), uint32(1000)})
		}},
		{"certificates.yaml", func(t *testing.T, c *Config) {
			eq(t, "providers", c.Certificates.Providers[0].Value, "ca-certificates-bundle")
			a := c.Certificates.Additional[0]
			eq(t, "name", a.Name.Value, "example-internal-root")
			eq(t, "content", strings.HasPrefix(a.Content.Value, "-----BEGIN CERTIFICATE-----\n"), true)
		}},
		{"runtime-keyring.yaml", func(t *testing.T, c *Config) {
			k := c.Contents.RuntimeKeyring[0]
			eq(t, "name", k.Name.Value, "example-mirror.rsa.pub")
			eq(t, "content", strings.HasPrefix(k.Content.Value, "-----BEGIN PUBLIC KEY-----\n"), true)
			eq(t, "runtime repos", c.Contents.RuntimeRepositories[0].URL, "https://packages.example.com/os")
		}},
		{"layering.yaml", func(t *testing.T, c *Config) {
			eq(t, "layering", []any{c.Layering.Strategy.Value, c.Layering.Budget.Value, c.Layering.Budget.Pos.String()},
				[]any{"origin", 10, "layering.yaml:14:11"})
			eq(t, "shell-fragment", c.Entrypoint.ShellFragment.Value, `exec python3 -m http.server "$PORT"`)
			eq(t, "stop-signal", c.StopSignal.Value, "2")
			eq(t, "vcs-url", c.VCSURL.Value, "https://github.com/example/app@2f7c3a1e9d8b")
			eq(t, "format", c.Format.Value, "tar")
			eq(t, "volumes", len(c.Volumes), 2)
		}},
		{"go-static.yaml", func(t *testing.T, c *Config) {
			eq(t, "run-as", c.Accounts.RunAs.Value, "65532:65532")
			eq(t, "command", c.Entrypoint.Command.Value, `/usr/bin/go-app --config "/etc/go app/config.yaml"`)
			eq(t, "stop-signal", c.StopSignal.Value, "SIGRTMIN+3")
			eq(t, "pinned", c.Contents.Packages[2].Dep.Version, "1.4.2-r1")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			tt.check(t, loadFixture(t, tt.file))
		})
	}
}

func itoa(v uint32) string {
	const digits = "0123456789"
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{digits[v%10]}, b...)
	}
	return string(b)
}

// Every fixture must also parse on its own (without includes).
func TestFixturesParse(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) < 12 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(filepath.Base(f), data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// Versions and names look like numbers and booleans to YAML; they must
// reach apk exactly as written.
func TestScalarsAsWritten(t *testing.T) {
	doc := `contents:
  packages:
    - python3=3.10
    - py3-foo>=6.0
    - 00303
    - 1e3
    - true
    - nodejs~22.10
environment:
  V: 3.10
  W: 00303
  X: 1e3
  Y: true
  Z: 6.0
`
	c, err := Parse("apko.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "packages", pkgs(c), []string{"python3=3.10", "py3-foo>=6.0", "00303", "1e3", "true", "nodejs~22.10"})
	eq(t, "versions", values(c.Contents.Packages, func(p Package) string { return p.Dep.Name + " " + p.Dep.Version }),
		[]string{"python3 3.10", "py3-foo 6.0", "00303 ", "1e3 ", "true ", "nodejs 22.10"})
	eq(t, "env", kvText(c.Environment), []string{"V=3.10", "W=00303", "X=1e3", "Y=true", "Z=6.0"})
	eq(t, "position", c.Contents.Packages[4].Pos.String(), "apko.yaml:7:7")
}
