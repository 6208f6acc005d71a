package melange

import (
	"fmt"
	"strings"
	"testing"
)

var (
	sha256hex = strings.Repeat("0a", 32)
	sha512hex = strings.Repeat("0b", 64)
	commit    = strings.Repeat("c", 40)
)

func TestFetch(t *testing.T) {
	tests := []struct {
		name, with string
		want       string
		err        string
	}{
		{name: "defaults", with: "uri: https://example.com/hello-${{package.version}}.tar.gz\nexpected-sha256: " + sha256hex,
			want: "https://example.com/hello-1.2.3.tar.gz sha256=" + sha256hex + " sha512= none=false extract=true strip=1 dir=. delete=false purl=hello@1.2.3 timeout=5 dns=20 retries=5 file=hello-1.2.3.tar.gz"},
		{name: "everything", with: "uri: https://example.com/x.zip\nexpected-sha512: " + sha512hex + "\nextract: 'false'\nstrip-components: 0\ndirectory: src\ndelete: true\n" +
			"purl-name: x\npurl-version: '9'\ntimeout: 60\ndns-timeout: 1\nretry-limit: 0\nreason: no git tags upstream",
			want: "https://example.com/x.zip sha256= sha512=" + sha512hex + " none=false extract=false strip=0 dir=src delete=true purl=x@9 timeout=60 dns=1 retries=0 file=x.zip"},
		{name: "opting out of checking", with: "uri: https://example.com/x\nexpected-none: 'yes'",
			want: "https://example.com/x sha256= sha512= none=true extract=true strip=1 dir=. delete=false purl=hello@1.2.3 timeout=5 dns=20 retries=5 file=x"},
		{name: "no digest", with: "uri: https://example.com/x",
			err: "melange.yaml:7:11: uses: fetch of https://example.com/x needs with.expected-sha256 or with.expected-sha512 (or expected-none to skip checking)"},
		{name: "no uri", with: "expected-sha256: " + sha256hex, err: `melange.yaml:7:11: uses: fetch needs input "uri" (with: uri: ...)`},
		{name: "short digest", with: "uri: x\nexpected-sha256: abc", err: `melange.yaml:11:24: with.expected-sha256: "abc" is not 64 lowercase hex digits`},
		{name: "uppercase digest", with: "uri: x\nexpected-sha256: " + strings.ToUpper(sha256hex),
			err: fmt.Sprintf(`melange.yaml:11:24: with.expected-sha256: %q is not 64 lowercase hex digits`, strings.ToUpper(sha256hex))},
		{name: "sha256 given as sha512", with: "uri: x\nexpected-sha512: " + sha256hex,
			err: fmt.Sprintf(`melange.yaml:11:24: with.expected-sha512: %q is not 128 lowercase hex digits`, sha256hex)},
		{name: "bad strip-components", with: "uri: x\nexpected-sha256: " + sha256hex + "\nstrip-components: one",
			err: `melange.yaml:12:25: with.strip-components: want a whole number of at least 0, got "one"`},
		{name: "unknown input", with: "uri: x\nexpected-sha256: " + sha256hex + "\nsha256: y",
			err: `melange.yaml:12:7: with: fetch has no input "sha256" (known: delete, directory, dns-timeout, expected-none, expected-sha256, expected-sha512, extract, purl-name, purl-version, reason, retry-limit, strip-components, timeout, uri)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := header + "pipeline:\n  - uses: fetch\n    working-directory: /src\n    with:\n" + indent(tt.with, "      ")
			p, err := compile(t, doc, Options{})
			if tt.err != "" {
				wantError(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f, ok := p.Pipeline[0].(*Fetch)
			if !ok || len(p.Pipeline) != 1 {
				t.Fatalf("pipeline %#v, want one Fetch", p.Pipeline)
			}
			got := fmt.Sprintf("%s sha256=%s sha512=%s none=%v extract=%v strip=%d dir=%s delete=%v purl=%s@%s timeout=%d dns=%d retries=%d file=%s",
				f.URI.Value, f.ExpectedSHA256.Value, f.ExpectedSHA512.Value, f.ExpectedNone, f.Extract, f.StripComponents, f.Directory, f.Delete,
				f.PurlName, f.PurlVersion, f.Timeout, f.DNSTimeout, f.RetryLimit, f.FileName())
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if f.Name != "fetch" || f.WorkDir != "/src" || f.Pos.String() != "melange.yaml:7:11" || f.URI.Pos.String() != "melange.yaml:10:12" {
				t.Errorf("step info %+v, uri at %s", f.StepInfo, f.URI.Pos)
			}
			if extra := values(p.Environment.ExtraPackages); fmt.Sprint(extra) != "[wget]" {
				t.Errorf("extra packages %q, want melange's wget", extra)
			}
		})
	}
}

func TestGitCheckout(t *testing.T) {
	tests := []struct {
		name, with string
		want       string
		err        string
	}{
		{name: "tag", with: "repository: https://github.com/example/hello\ntag: v${{package.version}}\nexpected-commit: " + commit,
			want: "https://github.com/example/hello dest=. branch= tag=v1.2.3 commit=" + commit + " tip=false depth=1 recurse=false shallow=false jobs=1 picks=[] sparse=[] retries=3/2/60"},
		{name: "older commit on a branch needs history", with: "repository: r\nbranch: main\nexpected-commit: " + commit,
			want: "r dest=. branch=main tag= commit=" + commit + " tip=false depth=-1 recurse=false shallow=false jobs=1 picks=[] sparse=[] retries=3/2/60"},
		{name: "branch tip", with: "repository: r\nbranch: release\nexpected-commit: " + commit + "\nexpected-commit-is-branch-tip: true",
			want: "r dest=. branch=release tag= commit=" + commit + " tip=true depth=1 recurse=false shallow=false jobs=1 picks=[] sparse=[] retries=3/2/60"},
		{name: "everything", with: "repository: r\ndestination: src\ndepth: 50\ntag: v1\nrecurse-submodules: true\nshallow-submodules: true\nsubmodule-jobs: 4\n" +
			"sparse-paths: |\n  cmd\n  pkg/lib\ncherry-picks: |\n  # applied in order\n  3.10/abc123: fix CVE-1\n\n  def456: backport # upstream PR 7\nmax-retries: 0\ninitial-backoff: 1\nmax-backoff: 5\ntype-hint: gitlab",
			want: "r dest=src branch= tag=v1 commit= tip=false depth=50 recurse=true shallow=true jobs=4 picks=[{3.10 abc123 fix CVE-1} { def456 backport}] sparse=[cmd pkg/lib] retries=0/1/5"},
		{name: "branch and tag", with: "repository: r\nbranch: main\ntag: v1", err: "melange.yaml:12:12: with.tag: branch (main) and tag (v1) are exclusive"},
		{name: "tip without branch", with: "repository: r\nexpected-commit: " + commit + "\nexpected-commit-is-branch-tip: true",
			err: "melange.yaml:7:11: with.expected-commit-is-branch-tip: needs with.branch"},
		{name: "bad flag", with: "repository: r\nrecurse-submodules: yes", err: `melange.yaml:11:27: with.recurse-submodules: want true or false, got "yes"`},
		{name: "bad depth", with: "repository: r\ndepth: 0", err: `melange.yaml:11:14: with.depth: "0" is not a clone depth (a positive number, -1 for the full history, or unset)`},
		{name: "short commit", with: "repository: r\nexpected-commit: abc123", err: `melange.yaml:11:24: with.expected-commit: "abc123" is not 40 lowercase hex digits`},
		{name: "cherry-pick without comment", with: "repository: r\ncherry-picks: |\n  abc123:\n", err: `melange.yaml:11:21: with.cherry-picks: line 1: "abc123:" has no comment saying why`},
		{name: "no repository", with: "tag: v1", err: `melange.yaml:7:11: uses: git-checkout needs input "repository" (with: repository: ...)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := header + "pipeline:\n  - uses: git-checkout\n    working-directory: /src\n    with:\n" + indent(tt.with, "      ")
			p, err := compile(t, doc, Options{})
			if tt.err != "" {
				wantError(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g, ok := p.Pipeline[0].(*GitCheckout)
			if !ok || len(p.Pipeline) != 1 {
				t.Fatalf("pipeline %#v, want one GitCheckout", p.Pipeline)
			}
			got := fmt.Sprintf("%s dest=%s branch=%s tag=%s commit=%s tip=%v depth=%d recurse=%v shallow=%v jobs=%d picks=%v sparse=%v retries=%d/%d/%d",
				g.Repository.Value, g.Destination, g.Branch.Value, g.Tag.Value, g.ExpectedCommit.Value, g.ExpectedCommitIsBranchTip, g.Depth,
				g.RecurseSubmodules, g.ShallowSubmodules, g.SubmoduleJobs, g.CherryPicks, g.SparsePaths, g.MaxRetries, g.InitialBackoff, g.MaxBackoff)
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if extra := values(p.Environment.ExtraPackages); fmt.Sprint(extra) != "[git]" {
				t.Errorf("extra packages %q, want melange's git", extra)
			}
		})
	}
}

func indent(s, by string) string {
	return by + strings.ReplaceAll(s, "\n", "\n"+by) + "\n"
}
