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
//   - KILN_FETCH_TIMEOUT: how long one attempt at a download (an index, a
//     key, a package) may take, as a Go duration ("90s", "10m"), plus a
//     second per 256 KiB of a package's size. Default 2m.
//
// BuildKit's own BUILDKIT_* arguments (BUILDKIT_SYNTAX,
// BUILDKIT_MULTI_PLATFORM, ...) are handled by BuildKit and dockerui.
type BuildArgs struct {
	SourceDateEpoch int64
	FetchTimeout    time.Duration // 0: the default
}

// knownKilnArgs lists the KILN_* build args kiln understands (none yet:
// the list exists so that unknown ones fail loudly).
var knownKilnArgs = map[string]bool{"KILN_FETCH_TIMEOUT": true}

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
		return out, fmt.Errorf("unknown build arg %s: kiln reads only SOURCE_DATE_EPOCH and KILN_FETCH_TIMEOUT", strings.Join(unknown, ", "))
	}
	if v, ok := args["SOURCE_DATE_EPOCH"]; ok && v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return out, fmt.Errorf("build arg SOURCE_DATE_EPOCH=%q: want a non-negative number of seconds", v)
		}
		out.SourceDateEpoch = n
	}
	if v, ok := args["KILN_FETCH_TIMEOUT"]; ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return out, fmt.Errorf("build arg KILN_FETCH_TIMEOUT=%q: want a positive duration such as 90s or 10m", v)
		}
		out.FetchTimeout = d
	}
	return out, nil
}

// Epoch is SourceDateEpoch as a time.
func (b BuildArgs) Epoch() time.Time { return time.Unix(b.SourceDateEpoch, 0).UTC() }
