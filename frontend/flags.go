package frontend

import (
	"fmt"
	"maps"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/kiln-build/kiln/apk/arch"
	"github.com/kiln-build/kiln/plan"
)

// requestedPlatforms is what to build: --platform when given; else, as
// for a Dockerfile, the builder's own platform, when the config can build
// it. A config that lists several archs is built for all of them only
// when --platform asks, so `docker buildx build` (and --load) gives one
// image for the machine at hand, and buildx finds the platform it
// requested in the result. A config whose archs exclude the builder's
// platform builds its archs: that is all it can make.
func requestedPlatforms(req *plan.Request, requested []ocispecs.Platform, builder ocispecs.Platform) []ocispecs.Platform {
	if len(requested) > 0 || len(req.Archs) == 0 {
		return requested
	}
	a, err := arch.FromPlatform(builder.Architecture, builder.Variant)
	if err != nil {
		return nil
	}
	for _, ca := range req.Archs {
		if ca.Name == a {
			t, err := plan.TargetOf(a)
			if err != nil {
				return nil
			}
			return []ocispecs.Platform{t.Platform}
		}
	}
	return nil
}

// checkTarget refuses a --target that is not the config's one image:
// kiln has no stages, and building something else than asked would be
// worse than failing.
func checkTarget(target, file string) error {
	if target == "" || target == imageTarget {
		return nil
	}
	return fmt.Errorf("--target %s: %s has one target, %q (an apko config has no stages); drop --target or use --target %s", target, file, imageTarget, imageTarget)
}

// applyLabels adds --label's labels to an image config; they win over
// the config's annotations of the same name, as a Dockerfile's --label
// wins over its LABEL.
func applyLabels(img *dockerspec.DockerOCIImage, labels map[string]string) {
	if len(labels) == 0 {
		return
	}
	if img.Config.Labels == nil {
		img.Config.Labels = map[string]string{}
	}
	maps.Copy(img.Config.Labels, labels)
}
