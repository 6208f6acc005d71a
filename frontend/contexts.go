package frontend

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
)

// namedContexts serves context paths from --build-context: a local
// repository, key or include whose path starts with NAME/ (or is NAME) is
// read from the build context named NAME when the build was given one,
// and from the main context otherwise, the way a Dockerfile's
// `COPY --from=NAME` takes a named context over a stage of that name.
// The YAML stays a plain relative path that apko reads from its working
// directory.
type namedContexts struct {
	bc *dockerui.Client

	mu    sync.Mutex
	given map[string]*dockerui.NamedContext // name → context; nil when not given
}

func newNamedContexts(bc *dockerui.Client) *namedContexts {
	return &namedContexts{bc: bc, given: map[string]*dockerui.NamedContext{}}
}

// split returns the named context that holds a context path and the path
// inside it; name is "" for the main context.
func (n *namedContexts) split(p string) (name, rest string) {
	first, rest, _ := strings.Cut(p, "/")
	if n.lookup(first) == nil {
		return "", p
	}
	if rest == "" {
		rest = "."
	}
	return first, rest
}

func (n *namedContexts) lookup(name string) *dockerui.NamedContext {
	n.mu.Lock()
	defer n.mu.Unlock()
	nc, ok := n.given[name]
	if !ok {
		// Names BuildKit cannot take (not a valid reference) name no
		// context.
		nc, _ = n.bc.NamedContext(name, dockerui.ContextOpt{})
		n.given[name] = nc
	}
	return nc
}

// contextStates returns, for the context paths given, the state of each
// context that holds some of them (local ones narrowed to those paths;
// "" is the main context), and a function saying where a path is.
func (n *namedContexts) contextStates(ctx context.Context, paths []string) (map[string]llb.State, func(string) (llb.State, string), error) {
	byName := map[string][]string{}
	for _, p := range paths {
		name, rest := n.split(p)
		byName[name] = append(byName[name], rest)
	}
	// Sorted, the same paths always make the same transfer, whichever
	// order they came in: BuildKit makes a transfer asked twice in a build
	// once.
	for _, rests := range byName {
		slices.Sort(rests)
	}
	states := map[string]llb.State{}
	for name, rests := range byName {
		if name == "" {
			st, err := n.bc.MainContext(ctx, llb.FollowPaths(rests))
			if err != nil {
				return nil, nil, err
			}
			states[name] = *st
			continue
		}
		nc, err := n.bc.NamedContext(name, dockerui.ContextOpt{
			AsyncLocalOpts: func() []llb.LocalOption { return []llb.LocalOption{llb.FollowPaths(rests)} },
		})
		if err != nil {
			return nil, nil, fmt.Errorf("--build-context %s: %w", name, err)
		}
		st, _, err := nc.Load(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("--build-context %s: %w", name, err)
		}
		states[name] = *st
	}
	where := func(p string) (llb.State, string) {
		name, rest := n.split(p)
		return states[name], rest
	}
	return states, where, nil
}
