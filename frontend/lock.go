package frontend

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"

	"github.com/kiln-build/kiln/plan"
	"github.com/kiln-build/kiln/plan/lockfile"
)

// entrypointFiles are the files read with the config from its directory:
// the config, its .dockerignore (as dockerui reads them) and the lockfile
// apko writes next to it.
func entrypointFiles(bc *dockerui.Client) llb.LocalOption {
	name := bc.BuildOpts().Opts["filename"]
	if name == "" {
		name = dockerui.DefaultDockerfileName
	}
	return llb.FollowPaths([]string{name, name + ".dockerignore", lockfile.NameFor(name)})
}

// loadLock returns the lockfile the build follows: KILN_LOCKFILE's (a
// build-context path), else the one next to the config if there is one;
// nil for none (or KILN_LOCKFILE=none).
func (b *builder) loadLock(ctx context.Context, src *dockerui.Source) (*plan.Lock, error) {
	switch name := b.args.Lockfile; name {
	case "none":
		return nil, nil
	case "":
	default:
		p, err := plan.ContextPath(name)
		if err != nil {
			return nil, fmt.Errorf("KILN_LOCKFILE=%s: %w", name, err)
		}
		files, err := b.src.ReadContext(ctx, []string{p}, plan.MaxIndexBytes)
		if err != nil {
			return nil, fmt.Errorf("KILN_LOCKFILE=%s: %w", name, err)
		}
		return parseLock(name, files[p])
	}
	if src.SourceMap == nil || src.SourceMap.State == nil {
		return nil, nil
	}
	name := lockfile.NameFor(src.Filename)
	ref, err := solveState(ctx, b.c, b.bc.CacheImports, *src.SourceMap.State)
	if err != nil {
		return nil, err
	}
	dt, err := readAll(ctx, ref, name, plan.MaxIndexBytes)
	if err != nil {
		if strings.Contains(err.Error(), "no such file or directory") {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return parseLock(name, dt)
}

func parseLock(name string, dt []byte) (*plan.Lock, error) {
	l, err := lockfile.Parse(dt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &plan.Lock{Name: name, Lock: l}, nil
}
