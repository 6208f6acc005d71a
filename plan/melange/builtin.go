package melange

import (
	"strconv"
	"strings"

	config "github.com/kiln-build/kiln/config/melange"
)

// A builtin is a pipeline kiln turns into a typed step instead of
// expanding a definition into shell: fetching and checking out sources
// become sources the converter verifies itself. The inputs, defaults and
// needs are melange's fetch.yaml and git-checkout.yaml.
type builtin struct {
	needs  string
	inputs []config.Input
	make   func(in inputs, info StepInfo) (Step, error)
}

var builtins = map[string]builtin{
	"fetch": {
		needs: "wget",
		inputs: inputDefs(
			"uri", "!",
			"expected-sha256", "",
			"expected-sha512", "",
			"expected-none", "",
			"strip-components", "1",
			"directory", ".",
			"extract", "true",
			"delete", "false",
			"purl-name", "${{package.name}}",
			"purl-version", "${{package.version}}",
			"timeout", "5",
			"dns-timeout", "20",
			"retry-limit", "5",
			"reason", "",
		),
		make: makeFetch,
	},
	"git-checkout": {
		needs: "git",
		inputs: inputDefs(
			"repository", "!",
			"destination", ".",
			"depth", "unset",
			"branch", "",
			"tag", "",
			"expected-commit", "",
			"expected-commit-is-branch-tip", "false",
			"recurse-submodules", "false",
			"shallow-submodules", "false",
			"submodule-jobs", "1",
			"cherry-picks", "",
			"type-hint", "",
			"sparse-paths", "",
			"max-retries", "3",
			"initial-backoff", "2",
			"max-backoff", "60",
			"reason", "",
		),
		make: makeGitCheckout,
	},
}

// inputDefs reads name, default pairs; a default of "!" marks a
// required input.
func inputDefs(pairs ...string) []config.Input {
	var out []config.Input
	for i := 0; i+1 < len(pairs); i += 2 {
		in := config.Input{Name: Str{Value: pairs[i]}}
		if pairs[i+1] == "!" {
			in.Required.Value = true
		} else {
			in.Default.Value = pairs[i+1]
		}
		out = append(out, in)
	}
	return out
}

func builtinNames() []string {
	out := make([]string, 0, len(builtins))
	for n := range builtins {
		out = append(out, n)
	}
	return out
}

func makeFetch(in inputs, info StepInfo) (Step, error) {
	f := &Fetch{StepInfo: info}
	var err error
	get := func(name string) string {
		if err != nil {
			return ""
		}
		var s Str
		s, err = in.get(name)
		return s.Value
	}
	f.URI, err = in.get("uri")
	if err != nil {
		return nil, err
	}
	if f.URI.Value == "" {
		return nil, f.URI.Pos.Errorf("with.uri: empty")
	}
	if f.ExpectedSHA256, err = in.get("expected-sha256"); err != nil {
		return nil, err
	}
	if f.ExpectedSHA512, err = in.get("expected-sha512"); err != nil {
		return nil, err
	}
	f.ExpectedNone = get("expected-none") != ""
	f.Directory = get("directory")
	f.Extract = get("extract") == "true"
	f.Delete = get("delete") == "true"
	f.PurlName = get("purl-name")
	f.PurlVersion = get("purl-version")
	f.Reason = get("reason")
	if err != nil {
		return nil, err
	}
	for _, n := range []struct {
		name string
		dst  *int
	}{{"strip-components", &f.StripComponents}, {"timeout", &f.Timeout}, {"dns-timeout", &f.DNSTimeout}, {"retry-limit", &f.RetryLimit}} {
		if *n.dst, err = in.count(n.name, 0); err != nil {
			return nil, err
		}
	}
	if f.ExpectedSHA256.Value == "" && f.ExpectedSHA512.Value == "" && !f.ExpectedNone {
		return nil, info.Pos.Errorf("uses: fetch of %s needs with.expected-sha256 or with.expected-sha512 (or expected-none to skip checking)", f.URI.Value)
	}
	return f, nil
}

func makeGitCheckout(in inputs, info StepInfo) (Step, error) {
	g := &GitCheckout{StepInfo: info}
	var err error
	str := func(name string) Str {
		if err != nil {
			return Str{}
		}
		var s Str
		s, err = in.get(name)
		return s
	}
	g.Repository = str("repository")
	g.Destination = str("destination").Value
	g.Branch = str("branch")
	g.Tag = str("tag")
	g.ExpectedCommit = str("expected-commit")
	g.TypeHint = str("type-hint").Value
	g.Reason = str("reason").Value
	g.SparsePaths = strings.Fields(str("sparse-paths").Value)
	cherry := str("cherry-picks")
	depth := str("depth")
	if err != nil {
		return nil, err
	}
	if g.Repository.Value == "" {
		return nil, g.Repository.Pos.Errorf("with.repository: empty")
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"expected-commit-is-branch-tip", &g.ExpectedCommitIsBranchTip}, {"recurse-submodules", &g.RecurseSubmodules}, {"shallow-submodules", &g.ShallowSubmodules}} {
		if *b.dst, err = in.flag(b.name); err != nil {
			return nil, err
		}
	}
	for _, n := range []struct {
		name string
		min  int
		dst  *int
	}{{"submodule-jobs", 1, &g.SubmoduleJobs}, {"max-retries", 0, &g.MaxRetries}, {"initial-backoff", 0, &g.InitialBackoff}, {"max-backoff", 0, &g.MaxBackoff}} {
		if *n.dst, err = in.count(n.name, n.min); err != nil {
			return nil, err
		}
	}
	if g.Branch.Value != "" && g.Tag.Value != "" {
		return nil, g.Tag.Pos.Errorf("with.tag: branch (%s) and tag (%s) are exclusive", g.Branch.Value, g.Tag.Value)
	}
	if g.ExpectedCommitIsBranchTip {
		switch {
		case g.Tag.Value != "":
			return nil, g.Tag.Pos.Errorf("with.expected-commit-is-branch-tip: only valid with branch, not tag")
		case g.Branch.Value == "":
			return nil, info.Pos.Errorf("with.expected-commit-is-branch-tip: needs with.branch")
		case g.ExpectedCommit.Value == "":
			return nil, info.Pos.Errorf("with.expected-commit-is-branch-tip: needs with.expected-commit")
		}
	}
	switch depth.Value {
	case "unset":
		// A commit older than the branch tip needs the branch's history.
		g.Depth = 1
		if g.Branch.Value != "" && g.ExpectedCommit.Value != "" && !g.ExpectedCommitIsBranchTip {
			g.Depth = -1
		}
	default:
		d, perr := strconv.Atoi(depth.Value)
		if perr != nil || d == 0 || d < -1 {
			return nil, depth.Pos.Errorf("with.depth: %q is not a clone depth (a positive number, -1 for the full history, or unset)", depth.Value)
		}
		g.Depth = d
	}
	if g.CherryPicks, err = cherryPicks(cherry); err != nil {
		return nil, err
	}
	return g, nil
}

// cherryPicks reads cherry-picks lines: "[branch/]commit: comment", with
// anything after # ignored and blank lines skipped.
func cherryPicks(s Str) ([]CherryPick, error) {
	var out []CherryPick
	for i, line := range strings.Split(s.Value, "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		ref, comment, ok := strings.Cut(line, ":")
		if !ok {
			return nil, s.Pos.Errorf("with.cherry-picks: line %d: want \"[branch/]commit: comment\", got %q", i+1, line)
		}
		comment = strings.Join(strings.Fields(comment), " ")
		if comment == "" {
			return nil, s.Pos.Errorf("with.cherry-picks: line %d: %q has no comment saying why", i+1, line)
		}
		ref = strings.TrimSpace(ref)
		cp := CherryPick{Commit: ref, Comment: comment}
		if k := strings.LastIndexByte(ref, '/'); k >= 0 {
			cp.Branch, cp.Commit = ref[:k], ref[k+1:]
		}
		if cp.Commit == "" {
			return nil, s.Pos.Errorf("with.cherry-picks: line %d: no commit in %q", i+1, line)
		}
		out = append(out, cp)
	}
	return out, nil
}
