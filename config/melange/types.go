package melange

import (
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kiln-build/kiln/config/apko"
	"github.com/kiln-build/kiln/config/yamlnode"
)

// Pos is where a value was written (file, line, column).
type Pos = yamlnode.Pos

// Str is a string value as written, with its position. Pos is zero when
// the field was absent. Values may hold ${{...}} references; this package
// keeps them as written (see plan/melange for substitution).
type Str = yamlnode.Scalar

// KV is one entry of a string mapping, in document order.
type KV = yamlnode.KV

// Bool is a boolean value with its position.
type Bool struct {
	Value bool
	Pos   Pos
}

// Int is an integer value with its position.
type Int struct {
	Value int64
	Pos   Pos
}

// Duration is a Go duration ("90m", "2h") as written, parsed.
type Duration struct {
	Str
	Value time.Duration
}

// Config is a melange build configuration (melange.yaml).
type Config struct {
	File         string
	Package      Package
	Environment  *Environment // nil when absent
	Capabilities Capabilities
	Pipeline     []Step
	Subpackages  []Subpackage
	Data         []Data
	Vars         []KV
	// VarTransforms derive new vars from other values, in order.
	VarTransforms []VarTransform
	// Options are named patches a build can enable, in document order.
	Options []BuildOption
	Test    *Test
	// Update is melange's auto-update metadata, for bots: no build reads
	// it.
	Update Update
}

// Update is what kiln keeps of the `update` section: where it is, and
// the fields melange deprecates (for lint).
type Update struct {
	Pos Pos
	// GitHubTagFilter is update.github.tag-filter, which melange
	// deprecates for tag-filter-prefix.
	GitHubTagFilter Str
}

// Package is the `package` section.
type Package struct {
	Pos                Pos
	Name               Str
	Version            Str // as written: 3.10 stays "3.10"
	Epoch              Int
	Description        Str
	Annotations        []KV
	URL                Str
	Commit             Str
	TargetArchitecture []Str
	Copyright          []Copyright
	Dependencies       Dependencies
	Options            PackageOptions
	Scriptlets         Scriptlets
	Checks             Checks
	CPE                CPE
	SetCap             []SetCap
	Timeout            Duration // zero when absent
	Resources          *Resources
	TestResources      *Resources
}

// Copyright is a `copyright` entry.
type Copyright struct {
	Pos               Pos
	Paths             []Str
	Attestation       Str
	License           Str
	LicensePath       Str
	DetectionOverride Str
}

// Dependencies is a `dependencies` section.
type Dependencies struct {
	Pos      Pos
	Runtime  []Str
	Provides []Str
	Replaces []Str
	// The priorities are integers in melange, but they are often written
	// as ${{...}} references, so they stay strings until planned.
	ProviderPriority Str
	ReplacesPriority Str
}

// PackageOptions is an `options` section of a package or subpackage.
type PackageOptions struct {
	Pos                  Pos
	NoProvides           Bool
	NoDepends            Bool
	NoCommands           Bool
	NoVersionedShlibDeps Bool
}

// Scriptlets are the scripts apk runs on install, upgrade and removal.
type Scriptlets struct {
	Pos           Pos
	Trigger       Trigger
	PreInstall    Str
	PostInstall   Str
	PreDeinstall  Str
	PostDeinstall Str
	PreUpgrade    Str
	PostUpgrade   Str
}

// Trigger is an apk trigger: a script run when files under Paths change.
type Trigger struct {
	Pos    Pos
	Script Str
	Paths  []Str
}

// Checks configures melange's package linters.
type Checks struct {
	Pos      Pos
	Disabled []Str
}

// CPE holds the fields of a package's CPE name.
type CPE struct {
	Pos       Pos
	Part      Str
	Vendor    Str
	Product   Str
	Edition   Str
	Language  Str
	SWEdition Str
	TargetSW  Str
	TargetHW  Str
	Other     Str
}

// SetCap is a `setcap` entry: file capabilities set after the build.
type SetCap struct {
	Pos    Pos
	Path   Str
	Add    []KV // capability list ("cap_net_raw,cap_net_admin") -> flags ("+ep")
	Reason Str
}

// Resources are what a build or test asks of its runner.
type Resources struct {
	Pos      Pos
	CPU      Str
	CPUModel Str
	Memory   Str
	Disk     Str
}

// Capabilities are Linux capabilities added to or dropped from the build
// container.
type Capabilities struct {
	Pos  Pos
	Add  []Str
	Drop []Str
}

// Environment is an apko image configuration embedded in melange.yaml
// (`environment`, `test.environment`). It is checked when parsed, but its
// values can name ${{...}} variables that only a plan knows, so Resolve
// decodes it again with them substituted.
type Environment struct {
	Pos  Pos
	dec  *yamlnode.Decoder
	node *yaml.Node
	path string
}

// Resolve decodes the environment with apko's parser, passing every
// string value through expand first (nil keeps values as written).
func (e *Environment) Resolve(expand func(s Str, path string) (Str, error)) (*apko.Config, error) {
	return apko.ParseNode(e.dec, e.node, apko.NodeOptions{Path: e.path, Expand: expand})
}

// Step is one `pipeline` entry: a shell script (runs), a reusable
// pipeline (uses), nested steps (pipeline), or a mix melange allows.
type Step struct {
	Pos  Pos
	If   Str
	Name Str
	// Uses names a pipeline file (`go/build` is go/build.yaml in a
	// pipeline directory); With are its inputs, in document order.
	Uses Str
	With []KV
	Runs Str
	// Pipeline holds nested steps. They inherit the working directory and
	// environment of this step.
	Pipeline []Step
	// Inputs are only meaningful in pipeline files, but melange accepts
	// them on any step.
	Inputs      []Input
	Needs       Needs
	Label       Str
	Assertions  *Assertions
	WorkDir     Str
	Environment []KV
	// Description documents a pipeline file or a step in one; melange.yaml
	// steps have none.
	Description Str
}

// Input is a declared input of a pipeline.
type Input struct {
	Pos         Pos
	Name        Str
	Description Str
	Default     Str
	Required    Bool
}

// Needs lists packages a pipeline needs in the build environment.
type Needs struct {
	Pos      Pos
	Packages []Str
}

// Assertions check how a step's nested steps ran.
type Assertions struct {
	Pos Pos
	// RequiredSteps is how many nested steps must run (their `if` true).
	RequiredSteps Int
}

// Subpackage is a `subpackages` entry.
type Subpackage struct {
	Pos Pos
	If  Str
	// Range names a `data` entry: the subpackage is repeated for each of
	// its items, with ${{range.key}} and ${{range.value}} set.
	Range        Str
	Name         Str
	Pipeline     []Step
	Dependencies Dependencies
	Options      PackageOptions
	Scriptlets   Scriptlets
	Description  Str
	Annotations  []KV
	URL          Str
	Commit       Str
	Checks       Checks
	Test         *Test
	SetCap       []SetCap
}

// Data is a named set of items for subpackage `range`.
type Data struct {
	Pos   Pos
	Name  Str
	Items []KV
}

// VarTransform sets vars.<To> to From with every match of the regular
// expression Match replaced by Replace (Go regexp syntax, $1 expansions).
type VarTransform struct {
	Pos     Pos
	From    Str
	Match   Str
	Replace Str
	To      Str
}

// BuildOption is an `options` entry: a named patch to vars and build
// environment packages that a build may enable.
type BuildOption struct {
	Pos    Pos
	Name   Str
	Vars   []KV
	Add    []Str // environment.contents.packages.add
	Remove []Str // environment.contents.packages.remove
}

// Test is a `test` section.
type Test struct {
	Pos         Pos
	Environment *Environment // nil when absent
	Pipeline    []Step
}
