package lint

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	config "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/pipelines"
	"github.com/kiln-build/kiln/plan/melange"
)

// The melange rules.
var (
	UnverifiedSource = Rule{"UnverifiedSource", Warning,
		"A fetch with expected-none, or a git-checkout without expected-commit, builds whatever the server hands out that day: nothing checks it."}
	NeedsNetwork = Rule{"NeedsNetwork", Warning,
		"A step that downloads fails in kiln's sandbox, whose steps have no network unless the build passes --build-arg KILN_NETWORK=1."}
	DeprecatedField = Rule{"DeprecatedField", Warning,
		"melange deprecates the field or pipeline input and will remove it."}
	UnknownPipeline = Rule{"UnknownPipeline", Error,
		"uses: names no built-in pipeline and nothing in the pipeline directory."}
)

// DefaultArchs are the architectures a melange configuration is checked
// for when MelangeOptions names none: the two kiln's stack builds.
var DefaultArchs = []string{"x86_64", "aarch64"}

// MelangeOptions say what a melange configuration is checked against.
type MelangeOptions struct {
	// Archs are compiled for (apk names); DefaultArchs when empty. An
	// arch package.target-architecture leaves out is skipped.
	Archs []string
	// PipelineDirs are where uses: looks, the user's directory first,
	// then the built-ins (pipelines.Dir()), as for a build.
	PipelineDirs []melange.PipelineDir
	// BuildOptions are the options a build enables (KILN_BUILD_OPTIONS).
	BuildOptions []string
	// Network: the build gives steps the network (KILN_NETWORK=1), so
	// no step is reported for needing it.
	Network bool
}

// CheckMelange lints a melange configuration: it compiles it for every
// arch as a build does and reports sources nothing verifies, steps that
// need the network, deprecated fields and inputs, unknown pipelines (all
// of them, where each is written) and what the apko rules say about the
// build and test environments. Findings from pipeline files are reported
// at the uses: in the configuration that leads to them, naming the place
// in the file. The error is a configuration that does not compile for
// one of the archs, at its line.
func CheckMelange(c *config.Config, opts MelangeOptions) ([]Finding, error) {
	var l list
	archs := opts.Archs
	if len(archs) == 0 {
		archs = DefaultArchs
	}
	if ta := c.Package.TargetArchitecture; len(ta) == 1 && ta[0].Value == "all" {
		l.add(DeprecatedField, ta[0].Pos, "package.target-architecture: [all] is deprecated in melange: leave the field out to build for every architecture")
	}
	if tf := c.Update.GitHubTagFilter; tf.Pos.IsValid() {
		l.add(DeprecatedField, tf.Pos, "update.github.tag-filter is deprecated in melange: write tag-filter-prefix (or tag-filter-contains)")
	}
	for _, s := range configSteps(c) {
		l.deprecatedInputs(s, opts.PipelineDirs)
		if !opts.Network {
			l.builtinNetwork(s, opts.PipelineDirs)
		}
	}
	for _, a := range archs {
		p, err := melange.Compile(c, melange.Options{Arch: a, PipelineDirs: opts.PipelineDirs, BuildOptions: opts.BuildOptions,
			NativeSources: true, UnknownPipeline: l.unknownPipeline})
		if errors.Is(err, melange.ErrArchNotTargeted) {
			continue
		}
		if err != nil {
			return l.sorted(), err
		}
		l.plan(p, opts)
	}
	return l.sorted(), nil
}

// outermost is where a finding about a step is reported: the uses: in
// the configuration that led to it, naming the place in the pipeline file
// in extra; the step itself when the configuration writes it.
func outermost(pos melange.Pos, via []melange.Pos) (melange.Pos, string) {
	if len(via) == 0 {
		return pos, ""
	}
	return via[0], fmt.Sprintf(" (at %s, through this uses:)", pos)
}

func (l *list) unknownPipeline(u melange.UnknownPipeline) {
	pos, extra := outermost(u.Uses.Pos, u.Via)
	msg := fmt.Sprintf("uses: %s names no built-in pipeline and no file %s.yaml in the pipeline directory%s", u.Uses.Value, u.Uses.Value, extra)
	if u.Suggestion != "" {
		msg += fmt.Sprintf("; did you mean %q?", u.Suggestion)
	}
	l.add(UnknownPipeline, pos, "%s", msg)
}

// plan checks one architecture's plan.
func (l *list) plan(p *melange.Plan, opts MelangeOptions) {
	var steps []melange.Step
	steps = append(steps, p.Pipeline...)
	envs := []melange.Environment{p.Environment}
	if p.Test != nil {
		steps = append(steps, p.Test.Pipeline...)
		envs = append(envs, p.Test.Environment)
	}
	for _, sp := range p.Subpackages {
		steps = append(steps, sp.Pipeline...)
		if sp.Test != nil {
			steps = append(steps, sp.Test.Pipeline...)
			envs = append(envs, sp.Test.Environment)
		}
	}
	for _, e := range envs {
		if e.Config != nil {
			// melange has no lockfile: pinning is the only way.
			l.contents(e.Config.Contents, false, "")
		}
	}
	for _, s := range steps {
		info := s.Info()
		pos, extra := outermost(info.Pos, info.Via)
		switch s := s.(type) {
		case *melange.Fetch:
			if s.ExpectedNone {
				l.add(UnverifiedSource, pos, "fetch of %s checks no digest (expected-none)%s: give expected-sha256 or expected-sha512", s.URI.Value, extra)
			}
		case *melange.GitCheckout:
			if s.ExpectedCommit.Value == "" {
				at := "its default branch"
				switch {
				case s.Tag.Value != "":
					at = "tag " + s.Tag.Value
				case s.Branch.Value != "":
					at = "branch " + s.Branch.Value
				}
				l.add(UnverifiedSource, pos, "git-checkout of %s at %s pins no commit%s: give expected-commit (tags and branches move)", s.Repository.Value, at, extra)
			}
		case *melange.Run:
			if opts.Network || builtinStep(info) {
				continue
			}
			if line, cmd := downloads(s.Script); cmd != "" {
				where := fmt.Sprintf("line %d of the script", line)
				if extra != "" {
					where = fmt.Sprintf("line %d of the script at %s, through this uses:", line, info.Pos)
				}
				l.add(NeedsNetwork, pos, "%q (%s) needs the network: give the steps the network with --build-arg KILN_NETWORK=1, "+
					"or fetch sources with uses: fetch or git-checkout, which kiln verifies", cmd, where)
			}
		}
	}
}

// builtinStep reports whether a step comes from one of kiln's built-in
// pipelines: their scripts hold branches for every input (go get runs
// only when deps is set), so they are judged by their inputs instead
// (builtinNetwork).
func builtinStep(info *melange.StepInfo) bool {
	return strings.HasPrefix(info.Pos.File, pipelines.DirName+"/")
}

// downloaders are commands that reach the network, each with what
// makes it work offline (nil: nothing does).
var downloaders = []struct {
	re      *regexp.Regexp
	offline *regexp.Regexp
}{
	// A step's own loopback works without the network: tests talk to the
	// server they started.
	{regexp.MustCompile(`\b(curl|wget)\s+\S`), regexp.MustCompile(`\s--?(version|help|V)\b|file://|(^|[\s/@])(localhost|127\.\d+\.\d+\.\d+|\[::1\]|0\.0\.0\.0)([:/\s]|$)`)},
	{regexp.MustCompile(`\bgit\s+(clone|fetch|pull|ls-remote|submodule\s+update)\b`), nil},
	{regexp.MustCompile(`\bgo\s+(get|mod\s+download|mod\s+tidy)\b|\bgo\s+install\s+\S+@\S`), regexp.MustCompile(`GOFLAGS=\S*-mod=vendor|GOPROXY=off`)},
	{regexp.MustCompile(`\b(pip3?|python3?(\.\d+)?\s+-m\s+pip)\s+(install|download)\b`), regexp.MustCompile(`--no-index|--find-links|\s-f\s`)},
	{regexp.MustCompile(`\b(npm|pnpm|yarn)\s+(install|ci|i|add)\b`), regexp.MustCompile(`--offline`)},
	{regexp.MustCompile(`\buv\s+(sync|pip\s+install)\b`), regexp.MustCompile(`--offline`)},
	{regexp.MustCompile(`\bcargo\s+(fetch|install)\b`), regexp.MustCompile(`--offline|--frozen|--path\b`)},
	{regexp.MustCompile(`\b(gem|bundle)\s+install\b`), regexp.MustCompile(`--local\b`)},
	{regexp.MustCompile(`\bapk\s+add\b`), regexp.MustCompile(`--no-network`)},
}

// commandStart says a match starts a command: at the start of the line
// or after a separator or keyword, and variable assignments, so "echo
// curl x" or a path like /usr/bin/curl-config is not one.
var commandStart = regexp.MustCompile(`(^|[;&|(` + "`" + `]|\$\(|\b(then|do|else|exec|time|sudo|env))\s*(\w+=\S*\s+)*$`)

// heredoc finds the start of a here-document and its end word.
// (<<< is a here-string, and 1<<2 a shift, not one.)
var heredoc = regexp.MustCompile(`(?:^|[^<])<<-?\s*['"]?([A-Za-z_]\w*)['"]?`)

// downloads finds the first command of a script that reaches the
// network: its line (from 1) and text, or "" for none. Comments and
// here-documents (text a command reads, or writes to a file) are
// skipped.
func downloads(script string) (int, string) {
	var until []string // end words of the here-documents being read
	for i, line := range strings.Split(script, "\n") {
		if len(until) > 0 {
			if strings.TrimSpace(line) == until[0] {
				until = until[1:]
			}
			continue
		}
		code := line
		if j := strings.Index(code, "#"); j >= 0 && (j == 0 || code[j-1] == ' ' || code[j-1] == '\t') {
			code = code[:j]
		}
		for _, m := range heredoc.FindAllStringSubmatch(code, -1) {
			until = append(until, m[1])
		}
		for _, d := range downloaders {
			for _, m := range d.re.FindAllStringIndex(code, -1) {
				if !commandStart.MatchString(code[:m[0]]) {
					continue
				}
				if d.offline != nil && d.offline.MatchString(code) {
					continue
				}
				cmd := strings.TrimSpace(code[m[0]:])
				if len(cmd) > 60 {
					cmd = cmd[:57] + "..."
				}
				return i + 1, cmd
			}
		}
	}
	return 0, ""
}

// networkInputs say when a built-in pipeline downloads: always (nil), or
// when one of the inputs is set (not empty, not false).
var networkInputs = map[string][]string{
	"go/install":  nil,
	"go/bump":     nil,
	"npm/install": nil,
	"go/build":    {"deps", "tidy"},
}

// builtinNetwork reports a uses: of a built-in pipeline that downloads
// with the inputs given.
func (l *list) builtinNetwork(s config.Step, dirs []melange.PipelineDir) {
	inputs, known := networkInputs[s.Uses.Value]
	if !known || definitionDir(s.Uses.Value, dirs) != pipelines.DirName {
		return
	}
	if inputs == nil {
		l.add(NeedsNetwork, s.Uses.Pos, "uses: %s downloads what it builds: give the steps the network with --build-arg KILN_NETWORK=1", s.Uses.Value)
		return
	}
	for _, kv := range s.With {
		v := strings.TrimSpace(kv.Value.Value)
		for _, in := range inputs {
			if kv.Key.Value == in && v != "" && v != "false" {
				l.add(NeedsNetwork, kv.Key.Pos, "uses: %s with %s downloads modules: give the steps the network with --build-arg KILN_NETWORK=1", s.Uses.Value, in)
			}
		}
	}
}

// deprecatedInputs reports with: entries whose definition documents the
// input as deprecated.
func (l *list) deprecatedInputs(s config.Step, dirs []melange.PipelineDir) {
	if len(s.With) == 0 {
		return
	}
	pf := definition(s.Uses.Value, dirs)
	if pf == nil {
		return
	}
	for _, kv := range s.With {
		for _, in := range pf.Inputs {
			if in.Name.Value == kv.Key.Value && strings.Contains(strings.ToLower(in.Description.Value), "deprecated") {
				l.add(DeprecatedField, kv.Key.Pos, "with: %s: input %s is deprecated: %s", s.Uses.Value, kv.Key.Value, strings.Join(strings.Fields(in.Description.Value), " "))
			}
		}
	}
}

// definitionDir names the directory uses: finds its definition in, or "".
func definitionDir(uses string, dirs []melange.PipelineDir) string {
	for _, d := range dirs {
		if d.FS == nil {
			continue
		}
		if _, err := fs.Stat(d.FS, uses+".yaml"); err == nil {
			return d.Name
		}
	}
	return ""
}

// definition is the pipeline file uses: names, or nil when there is none
// or it does not parse (the compile reports that).
func definition(uses string, dirs []melange.PipelineDir) *config.PipelineFile {
	if uses == "" || config.CheckUses(config.Str{Value: uses}) != nil {
		return nil
	}
	for _, d := range dirs {
		if d.FS == nil {
			continue
		}
		data, err := fs.ReadFile(d.FS, uses+".yaml")
		if err != nil {
			continue
		}
		pf, err := config.ParsePipeline(d.Name+"/"+uses+".yaml", data)
		if err != nil {
			return nil
		}
		return pf
	}
	return nil
}

// configSteps are every step the configuration writes, nested ones
// included, each once.
func configSteps(c *config.Config) []config.Step {
	var out []config.Step
	seen := map[*config.Step]bool{}
	var walk func([]config.Step)
	walk = func(steps []config.Step) {
		for i := range steps {
			if seen[&steps[i]] {
				continue
			}
			seen[&steps[i]] = true
			out = append(out, steps[i])
			walk(steps[i].Pipeline)
		}
	}
	walk(c.Pipeline)
	if c.Test != nil {
		walk(c.Test.Pipeline)
	}
	for _, sp := range c.Subpackages {
		walk(sp.Pipeline)
		if sp.Test != nil {
			walk(sp.Test.Pipeline)
		}
	}
	return out
}
