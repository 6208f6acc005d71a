package melange

import (
	"strings"
	"time"

	"github.com/kiln-build/kiln/config/apko"
	config "github.com/kiln-build/kiln/config/melange"
	"github.com/kiln-build/kiln/config/yamlnode"
)

// Pos is where a value was written (file, line, column).
type Pos = yamlnode.Pos

// Str is a substituted string with the position of the text it came from.
type Str = yamlnode.Scalar

// KV is a substituted mapping entry.
type KV = yamlnode.KV

// Paths inside the build environment, as melange lays them out.
const (
	// WorkDir is the workspace: the build context is there and steps run
	// there unless they say otherwise (${{package.srcdir}}).
	WorkDir = "/home/build"
	// OutDir holds one directory per package (${{targets.outdir}}).
	OutDir = "/home/build/melange-out"
	// DefaultPath is the PATH every step starts with.
	DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin"
)

// Plan is a melange build for one architecture, every ${{...}} reference
// substituted and every `uses:` expanded: what `melange compile` makes of
// a configuration, in types the converter can use.
type Plan struct {
	Arch        string // apk architecture: x86_64, aarch64, ...
	Package     Package
	Environment Environment
	// Pipeline builds the main package, into ${{targets.destdir}}.
	Pipeline []Step
	// Subpackages run after the main pipeline, in order. Those whose `if:`
	// is false are left out.
	Subpackages []Subpackage
	Test        *Test // nil when the configuration has none
}

// Package is the main package's metadata.
type Package struct {
	Pos         Pos
	Name        Str
	Version     Str
	Epoch       uint64
	FullVersion string // version-r<epoch>
	Description Str
	URL         Str
	Commit      Str // package.commit, or Options.Commit when not written
	Annotations []KV
	// Copyright entries, their licence, paths and license-path substituted.
	Copyright          []config.Copyright
	Dependencies       Dependencies
	Options            config.PackageOptions
	Scriptlets         config.Scriptlets
	ChecksDisabled     []Str
	CPE                config.CPE
	SetCap             []config.SetCap
	Timeout            time.Duration // zero: none
	Resources          *config.Resources
	TestResources      *config.Resources
	TargetArchitecture []Str
}

// License is the package's licence expression: the copyright licences
// joined with AND, as melange writes it (before it turns non-SPDX names
// into LicenseRef- identifiers).
func (p Package) License() string {
	var ls []string
	for _, c := range p.Copyright {
		ls = append(ls, c.License.Value)
	}
	return strings.Join(ls, " AND ")
}

// Dependencies of a package, substituted.
type Dependencies struct {
	Runtime  []Str
	Provides []Str
	Replaces []Str
	// The priorities are set when Str.Value is not empty.
	ProviderPriority Priority
	ReplacesPriority Priority
}

// Priority is a provider or replaces priority.
type Priority struct {
	Str
	Value int
}

// Subpackage is one package the build splits off, after `range:`
// expansion.
type Subpackage struct {
	Pos            Pos
	Name           Str
	Description    Str
	URL            Str
	Commit         Str
	Annotations    []KV
	Dependencies   Dependencies
	Options        config.PackageOptions
	Scriptlets     config.Scriptlets
	ChecksDisabled []Str
	SetCap         []config.SetCap
	// Pipeline fills ${{targets.subpkgdir}}, usually by moving files out
	// of the main package's directory.
	Pipeline []Step
	Test     *Test
	// Range is the data item this subpackage was made for, or nil.
	Range *RangeItem
}

// RangeItem is the data entry and item a ranged subpackage came from.
type RangeItem struct {
	Data  string
	Key   string
	Value string
}

// Environment is the image a pipeline runs in.
type Environment struct {
	// Config is the apko configuration, substituted, with what melange
	// adds: the build user and group (uid and gid 1000) and, for the
	// build, its default environment variables (HOME, GOPATH, ...).
	Config *apko.Config
	// ExtraPackages are the packages the used pipelines need (and, for a
	// test, the package under test), deduplicated and sorted, leaving out
	// entries Config already lists as written.
	ExtraPackages []Str
}

// Test is a test pipeline and the environment it runs in.
type Test struct {
	Pos         Pos
	Environment Environment
	Pipeline    []Step
}

// Step is one action of a pipeline: a *Run, a *Fetch or a *GitCheckout.
// Nested steps are flattened into the order melange runs them; each
// carries the working directory and environment it inherited.
type Step interface {
	Info() *StepInfo
}

// StepInfo is what every step has.
type StepInfo struct {
	// Name is for progress output: the step's name:, else its uses:, else
	// the nearest enclosing step's.
	Name  string
	Label string
	// Pos is the YAML that produced the action: the runs: value, or the
	// uses: value of a fetch or git-checkout.
	Pos Pos
	// Via are the uses: values that led to a step written in a pipeline
	// file, outermost first; empty for steps written in melange.yaml.
	Via []Pos
	// WorkDir is absolute; melange creates it if needed before a step.
	WorkDir string
	// Env are the variables the step sets, over the environment's: PATH
	// (DefaultPath unless set) and every enclosing step's environment:,
	// sorted by name.
	Env []EnvVar
}

// Info returns s.
func (s *StepInfo) Info() *StepInfo { return s }

// Where names a step for messages: its position and, for a step from a
// pipeline file, the uses: that brought it in.
func (s *StepInfo) Where() string {
	w := s.Pos.String()
	for i := len(s.Via) - 1; i >= 0; i-- {
		w += " via " + s.Via[i].String()
	}
	return w
}

// EnvVar is one environment variable of a step.
type EnvVar struct {
	Name  string
	Value string
	Pos   Pos // zero for PATH's default
}

// Run runs a shell script with /bin/sh in WorkDir.
type Run struct {
	StepInfo
	Script string
}

// Command is the command melange runs for the step: /bin/sh -c with the
// script between lines that stop at the first failure (pipes included),
// create and enter WorkDir, and exit 0 when the script ends.
func (r *Run) Command() []string {
	wd := shellQuote(r.WorkDir)
	return []string{"/bin/sh", "-c", "set -eo pipefail\n[ -d " + wd + " ] || mkdir -p " + wd + "\ncd " + wd + "\n" + r.Script + "\nexit 0"}
}

// shellQuote quotes s as one shell word.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Fetch downloads a file, checks its digest and (by default) unpacks it:
// `uses: fetch`. The file is saved in WorkDir under FileName().
type Fetch struct {
	StepInfo
	URI Str
	// The expected digests, lowercase hex; at least one is set unless
	// ExpectedNone says the configuration opted out of checking.
	ExpectedSHA256 Str
	ExpectedSHA512 Str
	ExpectedNone   bool
	// Extract unpacks the file with tar into Directory (relative to
	// WorkDir unless absolute), stripping StripComponents leading path
	// elements, as `tar -x --no-same-owner` does.
	Extract         bool
	StripComponents int
	Directory       string
	// Delete removes the downloaded file after unpacking.
	Delete bool
	// PurlName and PurlVersion name the source in the SBOM.
	PurlName    string
	PurlVersion string
	// Timeout and DNSTimeout are seconds; RetryLimit counts attempts.
	Timeout    int
	DNSTimeout int
	RetryLimit int
	Reason     string
}

// FileName is the name the download is saved as: the last element of
// the URI, as melange's `basename` gives it.
func (f *Fetch) FileName() string {
	u := strings.TrimRight(f.URI.Value, "/")
	if i := strings.LastIndexByte(u, '/'); i >= 0 {
		u = u[i+1:]
	}
	return u
}

// GitCheckout clones a repository into Destination: `uses: git-checkout`.
type GitCheckout struct {
	StepInfo
	Repository Str
	// Destination is relative to WorkDir unless absolute.
	Destination string
	// Branch and Tag are exclusive; neither means the default branch.
	Branch Str
	Tag    Str
	// ExpectedCommit is the commit (40 hex digits) the checkout must be,
	// or, for a tag, may also be the annotated tag object. Empty: none.
	ExpectedCommit Str
	// ExpectedCommitIsBranchTip requires ExpectedCommit to be the branch
	// tip itself, not an older commit on it.
	ExpectedCommitIsBranchTip bool
	// Depth is the clone depth; -1 is the full history. melange clones
	// the full history when checking out an older commit of a branch.
	Depth             int
	RecurseSubmodules bool
	ShallowSubmodules bool
	SubmoduleJobs     int
	// CherryPicks are applied in order after the checkout.
	CherryPicks []CherryPick
	// SparsePaths, when set, limit the checkout to these directories.
	SparsePaths    []string
	TypeHint       string
	MaxRetries     int
	InitialBackoff int // seconds
	MaxBackoff     int // seconds
	Reason         string
}

// CherryPick is one cherry-picks line: [branch/]commit: comment.
type CherryPick struct {
	Branch  string // fetched from origin first when set
	Commit  string
	Comment string
}
