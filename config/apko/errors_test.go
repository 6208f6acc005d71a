package apko

import (
	"errors"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/config/yamlnode"
)

// wantError checks err's exact text and that it is positioned.
func wantError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", want)
	}
	var ye *yamlnode.Error
	if !errors.As(err, &ye) || ye.File == "" || ye.Line < 1 || ye.Column < 1 {
		t.Errorf("error %q is not positioned", err)
	}
	if err.Error() != want {
		t.Errorf("error\n got: %s\nwant: %s", err, want)
	}
}

const topKnown = "accounts, annotations, archs, certificates, cmd, contents, entrypoint, environment, format, include, layering, paths, stop-signal, vcs-url, volumes, work-dir"

const contentsKnown = "baseimage, build_repositories, keyring, packages, repositories, runtime_keyring, runtime_repositories"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc, err string
	}{
		// Unknown fields, with the known ones listed.
		{"unknown contents field", "contents:\n  repositories: [https://r]\n  pacakges:\n    - busybox\n",
			`apko.yaml:3:3: contents: unknown field "pacakges" (known: ` + contentsKnown + `); did you mean "packages"?`},
		{"unknown top-level field", "# syntax=ghcr.io/kiln-build/kiln:v0\ncontnets: {}\n",
			`apko.yaml:2:1: unknown field "contnets" (known: ` + topKnown + `); did you mean "contents"?`},
		{"removed apko field", "os-release:\n  name: x\n", `apko.yaml:1:1: unknown field "os-release" (known: ` + topKnown + `)`},
		{"unknown user field", "accounts:\n  users:\n    - username: a\n      uid: 1\n      home: /a\n",
			`apko.yaml:5:7: accounts.users[0]: unknown field "home" (known: gid, homedir, shell, uid, username)`},
		{"unknown path field", "paths:\n  - path: /a\n    type: directory\n    mode: 0o755\n",
			`apko.yaml:4:5: paths[0]: unknown field "mode" (known: gid, path, permissions, recursive, source, type, uid)`},
		{"unknown layering field", "layering:\n  strategy: origin\n  size: 3\n",
			`apko.yaml:3:3: layering: unknown field "size" (known: budget, strategy)`},

		// Duplicate keys.
		{"duplicate top-level", "cmd: a\nwork-dir: /\ncmd: b\n", `apko.yaml:3:1: duplicate key "cmd" (first at line 1)`},
		{"duplicate env", "environment:\n  A: 1\n  B: 2\n  A: 3\n", `apko.yaml:4:3: environment: duplicate key "A" (first at line 2)`},
		{"duplicate contents", "contents:\n  packages: [a]\n  packages: [b]\n", `apko.yaml:3:3: contents: duplicate key "packages" (first at line 2)`},

		// Wrong types.
		{"mapping for list", "contents:\n  packages:\n    busybox: true\n", "apko.yaml:3:5: contents.packages: expected a list, got a mapping"},
		{"string for list", "contents:\n  packages: busybox\n", `apko.yaml:2:13: contents.packages: expected a list, got string "busybox"`},
		{"list for string", "cmd: [/bin/sh, -c]\n", "apko.yaml:1:6: cmd: expected a string, got a list"},
		{"mapping for string item", "contents:\n  packages:\n    - name: busybox\n", "apko.yaml:3:7: contents.packages[0]: expected a string, got a mapping"},
		{"list for contents", "contents:\n  - busybox\n", "apko.yaml:2:3: contents: expected a mapping, got a list"},
		{"top-level list", "- contents\n", "apko.yaml:1:1: expected a mapping at the top level, got a list"},
		{"top-level scalar", "hello\n", `apko.yaml:1:1: expected a mapping at the top level, got string "hello"`},
		{"list for env", "environment:\n  - A=1\n", "apko.yaml:2:3: environment: expected a mapping, got a list"},
		{"mapping for env value", "environment:\n  A: {b: c}\n", "apko.yaml:2:6: environment.A: expected a string, got a mapping"},
		{"quoted uid", "accounts:\n  users:\n    - username: a\n      uid: \"65532\"\n",
			`apko.yaml:4:12: accounts.users[0].uid: expected an integer, got string "65532" (remove the quotes)`},
		{"float gid", "accounts:\n  groups:\n    - groupname: a\n      gid: 1.5\n", "apko.yaml:4:12: accounts.groups[0].gid: expected an integer, got float 1.5"},
		{"recursive not bool", "paths:\n  - path: /a\n    type: permissions\n    recursive: maybe\n",
			`apko.yaml:4:16: paths[0].recursive: expected true or false, got string "maybe"`},
		{"list for services", "entrypoint:\n  services: [a]\n", "apko.yaml:2:13: entrypoint.services: expected a mapping, got a list"},

		// Bad values.
		{"unknown arch", "archs:\n  - amd64\n  - amd46\n",
			`apko.yaml:3:5: archs[1]: unknown architecture "amd46" (known: aarch64, armhf, armv7, loongarch64, ppc64le, riscv64, s390x, x86, x86_64; OCI names like amd64, arm64, arm/v7 also work)`},
		{"arch all", "archs: [all]\n",
			`apko.yaml:1:9: archs[0]: "all" is only a command-line value in apko; list architectures here (known: aarch64, armhf, armv7, loongarch64, ppc64le, riscv64, s390x, x86, x86_64)`},
		{"bad constraint", "contents:\n  packages:\n    - busybox\n    - hello>=\n", "apko.yaml:4:7: contents.packages[1]: " + depErr("hello>=")},
		{"bad constraint op", "contents:\n  packages:\n    - 'hello=>3'\n", "apko.yaml:3:7: contents.packages[0]: " + depErr("hello=>3")},
		{"empty package", "contents:\n  packages:\n    -\n    - busybox\n", "apko.yaml:3:6: contents.packages[0]: empty package"},
		{"repository extra words", "contents:\n  repositories:\n    - \"@edge https://a https://b\"\n",
			`apko.yaml:3:7: contents.repositories[0]: invalid repository "@edge https://a https://b" (want "URL" or "@tag URL")`},
		{"repository tag without url", "contents:\n  repositories:\n    - \"@edge\"\n",
			`apko.yaml:3:7: contents.repositories[0]: invalid repository "@edge" (want "URL" or "@tag URL")`},
		{"repository two urls", "contents:\n  build_repositories:\n    - https://a https://b\n",
			`apko.yaml:3:7: contents.build_repositories[0]: invalid repository "https://a https://b" (want "URL" or "@tag URL")`},
		{"permissions 0o999", "paths:\n  - path: /a\n    type: directory\n    permissions: 0o999\n",
			`apko.yaml:4:18: paths[0].permissions: expected an integer, got string "0o999"`},
		{"permissions abc", "paths:\n  - path: /a\n    type: directory\n    permissions: abc\n",
			`apko.yaml:4:18: paths[0].permissions: expected an integer, got string "abc"`},
		{"permissions too big", "paths:\n  - path: /a\n    type: directory\n    permissions: 0o17777\n",
			"apko.yaml:4:18: paths[0].permissions: permissions 0o17777 out of range (0 to 0o7777)"},
		{"negative path uid", "paths:\n  - path: /a\n    type: directory\n    uid: -1\n", "apko.yaml:4:10: paths[0].uid: -1 is negative"},
		{"negative user uid", "accounts:\n  users:\n    - username: a\n      uid: -65532\n", "apko.yaml:4:12: accounts.users[0].uid: -65532 is negative"},
		{"uid too big", "accounts:\n  users:\n    - username: a\n      uid: 4294967296\n",
			"apko.yaml:4:12: accounts.users[0].uid: 4294967296 is too large (at most 4294967295)"},
		{"unknown path type", "paths:\n  - path: /a\n    type: dir\n",
			`apko.yaml:3:11: paths[0].type: unknown path type "dir" (known: directory, empty-file, hardlink, symlink, permissions)`},
		{"unknown strategy", "layering:\n  strategy: size\n  budget: 3\n", `apko.yaml:2:13: layering.strategy: unknown layering strategy "size" (known: origin)`},
		{"budget zero", "layering:\n  strategy: origin\n  budget: 0\n", "apko.yaml:3:11: layering.budget: budget 0 must be at least 1 (and at most 1048576)"},
		{"budget negative", "layering:\n  strategy: origin\n  budget: -2\n", "apko.yaml:3:11: layering.budget: budget -2 must be at least 1 (and at most 1048576)"},
		{"budget string", "layering:\n  strategy: origin\n  budget: many\n", `apko.yaml:3:11: layering.budget: expected an integer, got string "many"`},
		{"bad stop-signal", "stop-signal: SIGFOO\n", `apko.yaml:1:14: stop-signal: unknown signal "SIGFOO" (want a name like SIGTERM or TERM, or a number 1-64)`},
		{"stop-signal zero", "stop-signal: 0\n", `apko.yaml:1:14: stop-signal: unknown signal "0" (want a name like SIGTERM or TERM, or a number 1-64)`},
		{"stop-signal 65", "stop-signal: 65\n", `apko.yaml:1:14: stop-signal: unknown signal "65" (want a name like SIGTERM or TERM, or a number 1-64)`},
		{"stop-signal rtmin out of range", "stop-signal: SIGRTMIN+16\n",
			`apko.yaml:1:14: stop-signal: unknown signal "SIGRTMIN+16" (want a name like SIGTERM or TERM, or a number 1-64)`},
		{"unknown format", "format: zip\n", `apko.yaml:1:9: format: unknown layer format "zip" (known: tar, erofs)`},
		{"unknown entrypoint type", "entrypoint:\n  type: s6\n", `apko.yaml:2:9: entrypoint.type: unknown entrypoint type "s6" (known: service-bundle)`},
		{"env name with =", "environment:\n  A=B: c\n", `apko.yaml:2:3: environment: invalid environment variable name "A=B"`},
		{"empty env name", "environment:\n  \"\": c\n", `apko.yaml:2:3: environment: invalid environment variable name ""`},
		{"username with colon", "accounts:\n  users:\n    - username: a:b\n      uid: 1\n",
			`apko.yaml:3:17: accounts.users[0].username: invalid name "a:b" (no ':', ',' or whitespace)`},
		{"empty volume", "volumes:\n  - /a\n  - ''\n", "apko.yaml:3:5: volumes[1]: empty value"},

		// YAML-level problems.
		{"syntax error", "contents:\n  packages:\n  - a\n   b: c\n", "apko.yaml:4:4: invalid YAML: mapping values are not allowed in this context"},
		{"two documents", "cmd: a\n---\ncmd: b\n", "apko.yaml:2:1: a second YAML document starts here; the file must hold exactly one"},
		{"empty file", "# syntax=ghcr.io/kiln-build/kiln:v0\n", "apko.yaml:1:1: no YAML document (the file is empty or only comments)"},
		{"merge of a scalar", "cmd: &e A\nannotations:\n  <<: *e\n",
			`apko.yaml:3:7: annotations: merge key (<<) needs a mapping or a list of mappings, got string "A"`},
		{"merge cycle", "environment: &e\n  A: b\n  <<: *e\n", "apko.yaml:3:7: environment: merge key (<<) merges a mapping into itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("apko.yaml", []byte(tt.doc))
			wantError(t, err, tt.err)
		})
	}
}

// depErr is apk/version's message for a constraint it rejects, so these
// tests check where it is reported, not its wording.
func depErr(s string) string {
	_, err := parsePackage(Str{Value: s}, "")
	if err == nil {
		return "<accepted>"
	}
	msg := err.Error()
	return msg[strings.Index(msg, ": ")+2:]
}

func TestValidateErrors(t *testing.T) {
	const repo = "contents:\n  repositories: [https://packages.wolfi.dev/os]\n  packages: [wolfi-base]\n"
	tests := []struct {
		name, doc, err string
	}{
		{"user without uid", "accounts:\n  users:\n    - username: app\n", `apko.yaml:3:7: accounts.users: user "app" has no uid`},
		{"user uid 0", "accounts:\n  users:\n    - username: root2\n      uid: 0\n",
			"apko.yaml:4:12: accounts.users: user \"root2\" has uid 0 (to run as root, use `run-as: 0`)"},
		{"user without name", "accounts:\n  users:\n    - uid: 5\n", "apko.yaml:3:7: accounts.users: user has no username"},
		{"group without name", "accounts:\n  groups:\n    - gid: 5\n", "apko.yaml:3:7: accounts.groups: group has no groupname"},
		{"run-as with two colons", "accounts:\n  run-as: a:b:c\n", `apko.yaml:2:11: accounts.run-as: invalid "a:b:c" (want user, uid, user:group or uid:gid)`},
		{"run-as empty group", "accounts:\n  run-as: 'app:'\n", `apko.yaml:2:11: accounts.run-as: invalid "app:" (want user, uid, user:group or uid:gid)`},
		{"run-as uid too big", "accounts:\n  run-as: 4294967296\n", `apko.yaml:2:11: accounts.run-as: id 4294967296 in "4294967296" is out of range`},
		// apko resolves run-as against the image's /etc/passwd, which
		// packages fill too, so an undeclared name is not an error.
		{"run-as a package user", "accounts:\n  run-as: nobody\n", ""},
		{"run-as uid:gid", "accounts:\n  run-as: 65532:65532\n", ""},
		{"path without type", "paths:\n  - path: /a\n", `apko.yaml:2:5: paths: "/a" has no type (known: directory, empty-file, hardlink, symlink, permissions)`},
		{"path without path", "paths:\n  - type: directory\n", "apko.yaml:2:5: paths: entry has no path"},
		{"symlink without source", "paths:\n  - path: /a\n    type: symlink\n", `apko.yaml:2:5: paths: symlink "/a" needs a source`},
		{"hardlink without source", "paths:\n  - type: hardlink\n    path: /b\n", `apko.yaml:2:5: paths: hardlink "/b" needs a source`},
		{"tag from a build repository", "contents:\n  repositories: [https://r]\n  build_repositories: ['@local /pkgs']\n  packages: [app@local]\n", ""},
		{"unknown package tag", "contents:\n  repositories: ['@local /pkgs', https://r]\n  packages:\n    - a@local\n    - b@edge>=1\n",
			`apko.yaml:5:7: package "b@edge>=1": no repository is tagged @edge (tag one: "@edge URL")`},
		{"budget without strategy", "layering:\n  budget: 4\n", "apko.yaml:2:3: layering: budget needs a strategy (known: origin)"},
		{"erofs with layering", "format: erofs\nlayering:\n  strategy: origin\n", "apko.yaml:1:9: format: erofs cannot be combined with layering"},
		// A config on a base image may only add packages (apko's rule).
		{"baseimage", repo + "  baseimage:\n    image: ./base\n    apkindex: ./idx\n" + "archs: [x86_64]\n", ""},
		{"baseimage with what apko lets through", repo + "  baseimage:\n    image: ./base\n    apkindex: ./idx\n" + "volumes: [/data]\nvcs-url: https://g/r@abc\nformat: tar\ncertificates:\n  providers: [x]\n", ""},
		{"baseimage without apkindex", repo + "  baseimage:\n    image: ./base\n",
			"apko.yaml:5:5: contents.baseimage: no apkindex (the directory holding <arch>/APKINDEX, the base's installed database)"},
		{"baseimage without image", repo + "  baseimage: {apkindex: ./idx}\n",
			"apko.yaml:4:14: contents.baseimage: no image (the path of the base's OCI layout directory in the build context)"},
		{"baseimage and entrypoint", repo + "  baseimage:\n    image: ./base\n    apkindex: ./idx\n" + "entrypoint:\n  command: /bin/sh\n", "apko.yaml:8:3: entrypoint: not allowed with contents.baseimage (a config on a base image may set only contents, archs and include; the rest comes from the base image, as in apko)"},
		{"baseimage and cmd", repo + "  baseimage:\n    image: ./base\n    apkindex: ./idx\n" + "cmd: -l\n", "apko.yaml:7:6: cmd: not allowed with contents.baseimage (a config on a base image may set only contents, archs and include; the rest comes from the base image, as in apko)"},
		{"baseimage and stop-signal", repo + "  baseimage:\n    image: ./base\n    apkindex: ./idx\n" + "stop-signal: SIGTERM\n", "apko.yaml:7:14: stop-signal: not allowed with contents.baseimage (a config on a base image may set only contents, archs and include; the rest comes from the base image, as in apko)"},
		{"baseimage and work-dir", repo + "  baseimage:\n    image: ./base\n    apkindex: ./idx\n" + "work-dir: /app\n", "apko.yaml:7:11: work-dir: not allowed with contents.baseimage (a config on a base image may set only contents, archs and include; the rest comes from the base image, as in apko)"},
		{"baseimage and run-as", repo + "  baseimage:\n    image: ./base\n    apkindex: ./idx\n" + "accounts:\n  run-as: nobody\n", "apko.yaml:8:3: accounts: not allowed with contents.baseimage (a config on a base image may set only contents, archs and include; the rest comes from the base image, as in apko)"},
		{"baseimage and environment", repo + "  baseimage:\n    image: ./base\n    apkindex: ./idx\n" + "environment:\n  A: b\n", "apko.yaml:8:3: environment: not allowed with contents.baseimage (a config on a base image may set only contents, archs and include; the rest comes from the base image, as in apko)"},
		{"baseimage and paths", repo + "  baseimage:\n    image: ./base\n    apkindex: ./idx\n" + "paths:\n  - path: /a\n    type: directory\n", "apko.yaml:8:5: paths: not allowed with contents.baseimage (a config on a base image may set only contents, archs and include; the rest comes from the base image, as in apko)"},
		{"baseimage and annotations", repo + "  baseimage:\n    image: ./base\n    apkindex: ./idx\n" + "annotations:\n  a: b\n", "apko.yaml:8:3: annotations: not allowed with contents.baseimage (a config on a base image may set only contents, archs and include; the rest comes from the base image, as in apko)"},
		{"baseimage and layering", repo + "  baseimage:\n    image: ./base\n    apkindex: ./idx\n" + "layering:\n  strategy: origin\n", "apko.yaml:8:3: layering: not allowed with contents.baseimage (a config on a base image may set only contents, archs and include; the rest comes from the base image, as in apko)"},
		{"baseimage and an empty accounts section", repo + "  baseimage:\n    image: ./base\n    apkindex: ./idx\n" + "accounts: {}\n", ""},
		{"cmd unterminated quote", "cmd: echo \"hi\n", `apko.yaml:1:6: cmd: "echo \"hi" cannot be split into arguments: EOF found when expecting closing quote`},
		{"certificate bad name", "certificates:\n  additional:\n    - name: ../evil\n      content: x\n",
			`apko.yaml:3:13: certificates.additional: invalid name "../evil" (letters, digits, '_', '-', '.'; not starting with '.')`},
		{"certificate hidden name", "certificates:\n  additional:\n    - name: .hidden\n      content: x\n",
			`apko.yaml:3:13: certificates.additional: invalid name ".hidden" (letters, digits, '_', '-', '.'; not starting with '.')`},
		{"certificate no name", "certificates:\n  additional:\n    - content: x\n", "apko.yaml:3:7: certificates.additional: entry has no name"},
		{"certificate no content", "certificates:\n  additional:\n    - name: a\n", `apko.yaml:3:7: certificates.additional "a": no content`},
		{"certificate not PEM", "certificates:\n  additional:\n    - name: a\n      content: hello\n",
			`apko.yaml:4:16: certificates.additional "a": no PEM certificate in content`},
		{"certificate is a key", "certificates:\n  additional:\n    - name: a\n      content: |\n        -----BEGIN PUBLIC KEY-----\n        AAAA\n        -----END PUBLIC KEY-----\n",
			`apko.yaml:4:16: certificates.additional "a": PEM block is "PUBLIC KEY", want CERTIFICATE`},
		{"runtime key duplicate", "contents:\n  runtime_keyring:\n    - {name: k.pub, content: \"-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\\n\"}\n    - {name: k.pub, content: \"-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\\n\"}\n",
			`apko.yaml:4:14: contents.runtime_keyring: "k.pub" is listed twice (first at apko.yaml:3:14)`},
		{"runtime key not PEM", "contents:\n  runtime_keyring:\n    - name: k.pub\n      content: not a key\n",
			`apko.yaml:4:16: contents.runtime_keyring "k.pub": content is not a PEM public key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("apko.yaml", []byte(tt.doc))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = c.Validate()
			if tt.err == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			wantError(t, err, tt.err)
		})
	}
}
