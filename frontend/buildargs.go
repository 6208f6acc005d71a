package frontend

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kiln-build/kiln/config/kind"
)

// BuildArgs are the build arguments kiln reads (ArgDocs lists them). Any
// other KILN_* argument is an error, so a typo never silently builds
// something else.
//
// BuildKit's own BUILDKIT_* arguments (BUILDKIT_SYNTAX,
// BUILDKIT_MULTI_PLATFORM, ...) are handled by BuildKit and dockerui.
type BuildArgs struct {
	SourceDateEpoch int64
	// Lockfile is KILN_LOCKFILE: a lockfile in the build context to
	// follow, or "none" to ignore the one next to the config.
	Lockfile string

	// melange builds
	Network           bool     // pipeline steps get BuildKit's sandbox network
	RepositoryAppend  []string // melange's --repository-append
	KeyringAppend     []string // melange's --keyring-append
	PipelineDir       string   // melange's --pipeline-dir, in the build context
	BuildOptions      []string // melange's --build-option
	Namespace         string   // melange's --namespace
	pipelineDirWasSet bool

	FetchTimeout time.Duration // KILN_FETCH_TIMEOUT; 0: the default
}

// ArgDoc describes one build argument kiln reads, for errors and --call
// outline.
type ArgDoc struct {
	Name, Default, Description string
	For                        kind.Kind // the kind of build that reads it; kind.Unknown: both
}

// argDocsFor lists the build arguments a build of one kind reads.
func argDocsFor(k kind.Kind) []ArgDoc {
	var out []ArgDoc
	for _, a := range ArgDocs {
		if a.For == kind.Unknown || a.For == k {
			out = append(out, a)
		}
	}
	return out
}

// ArgDocs are the build arguments kiln reads.
var ArgDocs = []ArgDoc{
	{"SOURCE_DATE_EPOCH", "0", "seconds since 1970 for every file mtime, the image's created time and labels, and the SBOM's creation time", kind.Apko},
	{"SOURCE_DATE_EPOCH", "0", "seconds since 1970 for every file mtime in the packages, their build date and their SBOMs' creation time", kind.Melange},
	{"KILN_LOCKFILE", "", "an apko lockfile in the build context to build from; default the one next to the config (apko.lock.json for apko.yaml) if there is one; none: resolve from the indexes", kind.Apko},
	{"KILN_FETCH_TIMEOUT", "2m", "how long one attempt at a download (an index, a key, a package) may take, as a duration (90s, 10m), plus a second per 256 KiB of a package; failures a retry may cure are tried 3 times", kind.Unknown},
	{"KILN_NETWORK", "0", "1 runs pipeline steps on BuildKit's sandbox network (fetch and git-checkout are verified sources either way)", kind.Melange},
	{"KILN_REPOSITORY_APPEND", "", "repositories added to the build environment, comma-separated (melange's --repository-append)", kind.Melange},
	{"KILN_KEYRING_APPEND", "", "keys added to the build environment's keyring, comma-separated (melange's --keyring-append)", kind.Melange},
	{"KILN_PIPELINE_DIR", "./pipelines when present", "directory of pipeline definitions in the build context (melange's --pipeline-dir)", kind.Melange},
	{"KILN_BUILD_OPTIONS", "", "build options to enable, comma-separated (melange's --build-option)", kind.Melange},
	{"KILN_NAMESPACE", "", "the packages' namespace (melange's --namespace): maintainer and purl namespace", kind.Melange},
}

// ParseBuildArgs validates and reads kiln's build args.
func ParseBuildArgs(args map[string]string) (BuildArgs, error) {
	var out BuildArgs
	known := map[string]bool{}
	var names []string
	for _, a := range ArgDocs {
		if !known[a.Name] {
			names = append(names, a.Name)
		}
		known[a.Name] = true
	}
	var unknown []string
	for k := range args {
		if strings.HasPrefix(k, "KILN_") && !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return out, fmt.Errorf("unknown build arg %s: kiln reads %s", strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	if v, ok := args["SOURCE_DATE_EPOCH"]; ok && v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return out, fmt.Errorf("build arg SOURCE_DATE_EPOCH=%q: want a non-negative number of seconds", v)
		}
		out.SourceDateEpoch = n
	}
	out.Lockfile = args["KILN_LOCKFILE"]
	switch v := args["KILN_NETWORK"]; v {
	case "", "0", "false", "none":
	case "1", "true", "sandbox":
		out.Network = true
	default:
		return out, fmt.Errorf("build arg KILN_NETWORK=%q: want 1 (sandbox network for pipeline steps) or 0", v)
	}
	out.RepositoryAppend = list(args["KILN_REPOSITORY_APPEND"])
	out.KeyringAppend = list(args["KILN_KEYRING_APPEND"])
	out.BuildOptions = list(args["KILN_BUILD_OPTIONS"])
	out.PipelineDir, out.pipelineDirWasSet = args["KILN_PIPELINE_DIR"]
	out.Namespace = args["KILN_NAMESPACE"]
	if v, ok := args["KILN_FETCH_TIMEOUT"]; ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return out, fmt.Errorf("build arg KILN_FETCH_TIMEOUT=%q: want a positive duration such as 90s or 10m", v)
		}
		out.FetchTimeout = d
	}
	return out, nil
}

// list splits a comma- or space-separated build arg.
func list(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })
}

// Epoch is SourceDateEpoch as a time.
func (b BuildArgs) Epoch() time.Time { return time.Unix(b.SourceDateEpoch, 0).UTC() }
