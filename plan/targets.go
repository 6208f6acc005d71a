package plan

import (
	"fmt"
	"strings"

	"github.com/containerd/platforms"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/apk/arch"
)

// Target is one platform a build makes an image for.
type Target struct {
	Arch     string // apk architecture
	Platform ocispecs.Platform
}

// Targets picks what to build: the requested platforms (--platform) when
// given, each of which must be among the config's archs if it lists any;
// else the config's archs; else the builder's own platform.
func Targets(req *Request, requested []ocispecs.Platform, builder ocispecs.Platform) ([]Target, error) {
	var out []Target
	if len(requested) > 0 {
		allowed := map[string]bool{}
		var names []string
		for _, a := range req.Archs {
			allowed[a.Name] = true
			names = append(names, a.Name)
		}
		for _, p := range requested {
			a, err := arch.FromPlatform(p.Architecture, p.Variant)
			if err != nil {
				return nil, fmt.Errorf("--platform %s: %w", platforms.Format(p), err)
			}
			if len(req.Archs) > 0 && !allowed[a] {
				return nil, fmt.Errorf("--platform %s: %s builds only for archs [%s]", platforms.Format(p), req.File, strings.Join(names, " "))
			}
			out = append(out, Target{Arch: a, Platform: p})
		}
		return out, nil
	}
	var archs []string
	for _, a := range req.Archs {
		archs = append(archs, a.Name)
	}
	if len(archs) == 0 {
		a, err := arch.FromPlatform(builder.Architecture, builder.Variant)
		if err != nil {
			return nil, err
		}
		archs = []string{a}
	}
	for _, a := range archs {
		t, err := TargetOf(a)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// TargetOf is the target for an apk architecture.
func TargetOf(apkArch string) (Target, error) {
	p, err := arch.ToPlatform(apkArch)
	if err != nil {
		return Target{}, err
	}
	return Target{Arch: apkArch, Platform: ocispecs.Platform{OS: "linux", Architecture: p.Architecture, Variant: p.Variant}}, nil
}
