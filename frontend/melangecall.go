package frontend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/pb"

	"github.com/kiln-build/kiln/apk/arch"
	"github.com/kiln-build/kiln/config/kind"
	melangecfg "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/plan"
	kilnlint "github.com/kiln-build/kiln/plan/lint"
	"github.com/kiln-build/kiln/plan/melange"
	"github.com/kiln-build/kiln/step"
)

// melangeSubrequest answers --call outline, targets and check for a
// melange.yaml without building anything: the config is parsed and
// compiled (reading the pipeline directory from the context), never
// solved. ok is false for a build.
func (b *builder) melangeSubrequest(ctx context.Context, src *dockerui.Source, srcs *yamlSources) (*client.Result, bool, error) {
	parse := func() (*melangecfg.Config, error) { return melangecfg.Parse(src.Filename, src.Data) }
	return b.bc.HandleSubrequest(ctx, dockerui.RequestHandler{
		Outline: func(ctx context.Context) (*outline.Outline, error) {
			cfg, err := parse()
			if err != nil {
				return nil, err
			}
			ts, err := b.melangeTargets(ctx, cfg)
			if err != nil {
				return nil, err
			}
			o := &outline.Outline{Name: ts[0].name, Description: ts[0].describe(b) +
				"; signed with the secret " + step.SecretID + " (--secret id=" + step.SecretID + ",src=KEY) when given, else with a key made for the build; " +
				"either way its public half is written as " + step.PublicKeyName}
			for _, a := range argDocsFor(kind.Melange) {
				o.Args = append(o.Args, outline.Arg{Name: a.Name, Value: a.Default, Description: a.Description})
			}
			o.Secrets = []outline.Secret{{Name: step.SecretID}}
			return o, nil
		},
		ListTargets: func(ctx context.Context) (*targets.List, error) {
			cfg, err := parse()
			if err != nil {
				return nil, err
			}
			ts, err := b.melangeTargets(ctx, cfg)
			if err != nil {
				return nil, err
			}
			out := &targets.List{Sources: [][]byte{src.Data}}
			for i, t := range ts {
				tg := targets.Target{Name: t.name, Default: i == 0, Description: t.describe(b), Platform: t.platforms()}
				if t.pos.File == src.Filename {
					tg.Location = &pb.Location{Ranges: []*pb.Range{lineRange(src.Data, t.pos)}}
				}
				out.Targets = append(out.Targets, tg)
			}
			return out, nil
		},
		Lint: func(ctx context.Context) (*lint.LintResults, error) {
			results := &lint.LintResults{}
			results.AddSource(src.SourceMap)
			findings, err := b.checkMelange(ctx, parse)
			if err != nil {
				results.Error = &lint.BuildError{Message: err.Error()}
				if pos, ok := errorPos(err); ok {
					if loc := srcs.location(results, pos); loc != nil {
						results.Error.Location = pb.Location{SourceIndex: loc.SourceIndex, Ranges: loc.Ranges}
					}
				}
			}
			addFindings(results, srcs, findings)
			return results, nil
		},
	})
}

// checkMelange lints the config as kiln lint does, for the archs of
// --platform (else x86_64 and aarch64) with the build's pipeline
// directory and build args.
func (b *builder) checkMelange(ctx context.Context, parse func() (*melangecfg.Config, error)) ([]kilnlint.Finding, error) {
	cfg, err := parse()
	if err != nil {
		return nil, err
	}
	dirs, err := b.pipelineDirs(ctx)
	if err != nil {
		return nil, err
	}
	archs, err := b.requestedArchs()
	if err != nil {
		return nil, err
	}
	return kilnlint.CheckMelange(cfg, kilnlint.MelangeOptions{Archs: archs, PipelineDirs: dirs,
		BuildOptions: b.args.BuildOptions, Network: b.args.Network})
}

// addFindings puts lint findings into results: warnings with their
// lines, and the error-level ones as the check's error (the first, the
// others named in it), so they fail the call as a config error does. An
// error already there (the config does not compile) comes first.
func addFindings(results *lint.LintResults, srcs *yamlSources, findings []kilnlint.Finding) {
	var errs []kilnlint.Finding
	for _, f := range findings {
		if f.Rule.Level == kilnlint.Error {
			errs = append(errs, f)
			continue
		}
		w := lint.Warning{RuleName: f.Rule.Name, Description: f.Rule.Description, Detail: f.Message,
			Location: srcs.location(results, f.Pos)}
		if w.Location == nil {
			w.Location = &pb.Location{SourceIndex: -1}
		}
		results.Warnings = append(results.Warnings, w)
	}
	if len(errs) == 0 || results.Error != nil {
		return
	}
	f := errs[0]
	msg := fmt.Sprintf("%s: %s: %s", f.Pos, f.Rule.Name, f.Message)
	if len(errs) > 1 {
		var more []string
		for _, e := range errs[1:] {
			more = append(more, e.Pos.String()+" "+e.Rule.Name)
		}
		msg += fmt.Sprintf(" (%d more errors: %s)", len(more), strings.Join(more, ", "))
	}
	results.Error = &lint.BuildError{Message: msg}
	if loc := srcs.location(results, f.Pos); loc != nil {
		results.Error.Location = pb.Location{SourceIndex: loc.SourceIndex, Ranges: loc.Ranges}
	}
}

// melangeTarget is one package a melange config builds: the main
// package first, then each subpackage (ranges expanded), with the archs
// it is made for.
type melangeTarget struct {
	name    string
	version string // the main package's
	pos     melangecfg.Pos
	of      string   // the main package, for a subpackage
	archs   []string // apk names
	only    bool     // the config restricts the archs (target-architecture, or an if: on a subpackage)
}

// melangeTargets compiles the config for the archs a build could ask for
// (--platform's; else those package.target-architecture names; else
// the builder's and x86_64 and aarch64) and lists its packages, each
// with the archs it is built for.
func (b *builder) melangeTargets(ctx context.Context, cfg *melangecfg.Config) ([]melangeTarget, error) {
	dirs, err := b.pipelineDirs(ctx)
	if err != nil {
		return nil, err
	}
	candidates, err := b.requestedArchs()
	if err != nil {
		return nil, err
	}
	restricted := false
	if ta := cfg.Package.TargetArchitecture; len(candidates) == 0 && len(ta) > 0 && !(len(ta) == 1 && ta[0].Value == "all") {
		restricted = true
		for _, a := range ta {
			if _, err := plan.TargetOf(a.Value); err == nil {
				candidates = append(candidates, a.Value)
			}
		}
	}
	if len(candidates) == 0 {
		bp := b.builderPlatform()
		if a, err := arch.FromPlatform(bp.Architecture, bp.Variant); err == nil {
			candidates = append(candidates, a)
		}
		for _, a := range kilnlint.DefaultArchs {
			if !slices.Contains(candidates, a) {
				candidates = append(candidates, a)
			}
		}
	}
	var out []melangeTarget
	index := map[string]int{}
	for _, a := range candidates {
		mp, err := melange.Compile(cfg, melange.Options{Arch: a, PipelineDirs: dirs, BuildOptions: b.args.BuildOptions, NativeSources: true})
		if errors.Is(err, melange.ErrArchNotTargeted) {
			continue
		}
		if err != nil {
			return nil, err
		}
		add := func(name string, pos melangecfg.Pos, of string) {
			i, ok := index[name]
			if !ok {
				i = len(out)
				index[name] = i
				out = append(out, melangeTarget{name: name, version: mp.Package.FullVersion, pos: pos, of: of, only: restricted})
			}
			out[i].archs = append(out[i].archs, mp.Arch)
		}
		add(mp.Package.Name.Value, mp.Package.Name.Pos, "")
		for _, sp := range mp.Subpackages {
			add(sp.Name.Value, sp.Name.Pos, mp.Package.Name.Value)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: package.target-architecture leaves out every architecture asked for (%s)", cfg.File, strings.Join(candidates, ", "))
	}
	for i := range out[1:] {
		if len(out[i+1].archs) < len(out[0].archs) {
			out[i+1].only = true
		}
	}
	return out, nil
}

func (t melangeTarget) platforms() string {
	var ps []string
	for _, a := range t.archs {
		if tg, err := plan.TargetOf(a); err == nil {
			ps = append(ps, platforms.Format(tg.Platform))
		}
	}
	return strings.Join(ps, ",")
}

// describe says what a target is, for outline and targets.
func (t melangeTarget) describe(b *builder) string {
	var archs []string
	for _, a := range t.archs {
		if tg, err := plan.TargetOf(a); err == nil {
			archs = append(archs, fmt.Sprintf("%s (%s)", a, platforms.Format(tg.Platform)))
		}
	}
	for_ := "for " + strings.Join(archs, ", ")
	if t.only {
		for_ += " only"
	} else if len(b.bc.TargetPlatforms) == 0 {
		for_ = "for any architecture --platform names (" + strings.Join(archs, ", ") + ", ...); without --platform, " + platforms.Format(b.builderPlatform())
	}
	if t.of != "" {
		return "the subpackage " + t.name + " of " + t.of + " (built with it), " + for_
	}
	return "the package " + t.name + "-" + t.version + " and its subpackages, as a signed repository (<arch>/APKINDEX.tar.gz), " + for_
}
