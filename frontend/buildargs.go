package frontend

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// BuildArgs are the build arguments kiln reads. Any other KILN_* argument
// is an error, so a typo never silently builds something else.
//
//   - SOURCE_DATE_EPOCH: unix seconds for every mtime in every layer, the
//     image's `created`, and the SBOM's creation time. Default 0.
//   - KILN_LOCKFILE: a lockfile in the build context to follow, or none.
//
// BuildKit's own BUILDKIT_* arguments (BUILDKIT_SYNTAX,
// BUILDKIT_MULTI_PLATFORM, ...) are handled by BuildKit and dockerui.
type BuildArgs struct {
	SourceDateEpoch int64
	// Lockfile is KILN_LOCKFILE: a lockfile in the build context to
	// follow, or "none" to ignore the one next to the config.
	Lockfile string
}

// ArgDoc describes one build argument kiln reads, for --call outline.
type ArgDoc struct {
	Name, Default, Description string
}

// ArgDocs are the build arguments kiln reads.
var ArgDocs = []ArgDoc{
	{"SOURCE_DATE_EPOCH", "0", "seconds since 1970 for every file mtime, the image's created time and labels, and the SBOM's creation time"},
	{"KILN_LOCKFILE", "", "an apko lockfile in the build context to build from; default the one next to the config (apko.lock.json for apko.yaml) if there is one; none: resolve from the indexes"},
}

// knownKilnArgs lists the KILN_* build args kiln understands; unknown ones
// fail loudly.
var knownKilnArgs = map[string]bool{"KILN_LOCKFILE": true}

// ParseBuildArgs validates and reads kiln's build args.
func ParseBuildArgs(args map[string]string) (BuildArgs, error) {
	var out BuildArgs
	var unknown []string
	for k := range args {
		if strings.HasPrefix(k, "KILN_") && !knownKilnArgs[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return out, fmt.Errorf("unknown build arg %s: kiln reads SOURCE_DATE_EPOCH and KILN_LOCKFILE", strings.Join(unknown, ", "))
	}
	if v, ok := args["SOURCE_DATE_EPOCH"]; ok && v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return out, fmt.Errorf("build arg SOURCE_DATE_EPOCH=%q: want a non-negative number of seconds", v)
		}
		out.SourceDateEpoch = n
	}
	out.Lockfile = args["KILN_LOCKFILE"]
	return out, nil
}

// Epoch is SourceDateEpoch as a time.
func (b BuildArgs) Epoch() time.Time { return time.Unix(b.SourceDateEpoch, 0).UTC() }
