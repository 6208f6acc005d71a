// Package step is the contract between kiln's LLB conversion and the
// commands kiln's own binary runs inside build steps: each command's
// arguments (built by the conversion with Args, read back by the binary
// with the matching Parse), the mount points the conversion gives it, and
// the layout of the records one step leaves for the next. It imports
// nothing but the standard library, so both sides, and their tests, agree
// on one definition.
package step

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// ToolBinary is the step binary in kiln's own image, which every step runs
// from: kiln-step, which links nothing of BuildKit and so starts in a
// fraction of the frontend binary's time (cmd/kiln-step).
const ToolBinary = "/bin/kiln-step"

// Mount points inside kiln's steps.
const (
	MountOut    = "/out"    // the step's output (a layer, a document)
	MountMeta   = "/meta"   // the install steps' outputs as the SBOM step reads their records (I/records/N/)
	MountKeys   = "/keys"   // the trusted public keys, one file each
	MountPkgs   = "/pkgs"   // the .apk files, one per package
	MountLower  = "/lower"  // the links record of the install batches below
	MountLinks  = "/links"  // a base image's links record for the first install batch
	MountRootfs = "/rootfs" // a base image's layers below the one being applied
	MountLayers = "/layers" // what the metadata step reads: an install batch's output each (bN/), a base's tree (N/)
	MountSpec   = "/spec"   // the JSON spec the frontend planned
	MountBlob   = "/blob"   // a base image's layer blob, read-only
	MountBase   = "/base"   // a base image's installed database, read-only
	MountTree   = "/tree"   // the base image's directory symlinks, as a tree
	MountImage  = "/image"  // install-image's second output: the metadata layer
)

// An install step has one output, MountOut: each layer in a directory
// named after what it installs (plan2llb), and beside them these, which
// no layer copies. Each output is a snapshot BuildKit prepares and
// commits, so records and links are not outputs of their own.
const (
	OutRecords = "records" // the layers' records, layer N's in N/
	OutLinks   = "links"   // the batch's links record, for the batches above
)

// Files inside MountSpec.
const (
	ImageSpecFile = "spec.json" // ImageSpec, for image-meta
	SBOMSpecFile  = "sbom.json" // sbom.Input, for image-sbom
)

// Layout of one layer's record (directory OutRecords/N of its install
// step's output): an installed database fragment where
// install.LoadDatabase looks for one, plus these.
const (
	// APKDigestsFile lists "name sha256" per installed .apk, for the SBOM.
	APKDigestsFile = "apk-sha256"
	// EmbeddedSBOMDir holds <package>/<file> for the SPDX documents each
	// package ships, copied out only when they are that package's bytes.
	EmbeddedSBOMDir = "sbom"
	// OSReleaseFile lists, as JSON, the os-release files the layer's
	// packages installed (sbom.OSFile, in install order), so the SBOM can
	// name the image's distribution without reading the image.
	OSReleaseFile = "os-release.json"
)

// SBOMFile is the document image-sbom writes into its output.
const SBOMFile = "sbom.spdx.json"

// Command names, as the binary's subcommands.
const (
	CmdInstallAPK = "install-apk"
	CmdImageMeta  = "image-meta"
	// CmdInstallImage is install-apk then image-meta in one process, for
	// an image whose packages install in one batch (plan.Batches).
	CmdInstallImage = "install-image"
	CmdImageSBOM    = "image-sbom"
	CmdApplyLayer   = "apply-layer"
)

// UsageError marks arguments a step cannot run with: the conversion and
// the binary disagree, which is a kiln bug rather than a user's mistake.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

func usagef(format string, args ...any) error { return UsageError{fmt.Errorf(format, args...)} }

// APKFile is one package an install step installs: the .apk's path in the
// step and the control-section checksum (Q1...) the signed index gives it.
// The file is named <name>-<version>.apk as the index lists the package,
// and the step checks the package is that one.
type APKFile struct {
	Path     string
	Checksum string
}

// InstallAPK installs a batch of consecutive image layers in one step
// (one container for several layers: starting containers is what costs):
// for each layer it verifies and extracts its packages into the layer's
// Out and leaves the layer's record in its Meta. Paths resolve through the
// symlinks of every layer below, as apk's single tree would: those of the
// batch's own lower layers, and those of earlier batches, which the
// previous batch handed on in its links record (Lower). The step writes
// the record for the next batch in Links.
type InstallAPK struct {
	Keyring         string
	SourceDateEpoch int64
	Lower           string // the previous batch's Links; "" for the first batch
	Links           string
	Layers          []InstallLayer // bottom first
}

// InstallLayer is one layer of an install batch. Out is an output mount
// or a directory the step makes in one (the conversion names each layer's
// directory after what it installs: see plan2llb).
type InstallLayer struct {
	Out, Meta string
	Packages  []APKFile // install order
}

// LinksFile is the links record in an install step's Links: JSON of
// []Link, sorted by path.
const LinksFile = "links.json"

// LookupsFile, next to LinksFile in a step that had a Lower, lists (JSON,
// sorted) every path the step looked up in Lower's links record because
// none of its own layers had it: the only way the batches below reach
// into this one's files, so what image-meta's check compares (Batches).
const LookupsFile = "lookups.json"

// Link is a symlink some layer holds that later layers' paths may go
// through: everything but links known to lead to regular files (a
// library's soname link changes with every version and would make every
// later batch re-run for nothing).
type Link struct {
	Path   string `json:"path"` // physical, relative to the image root
	Target string `json:"target"`
}

// Args is the command line the conversion runs.
func (s InstallAPK) Args() []string {
	args := []string{ToolBinary, CmdInstallAPK, "--keyring", s.Keyring,
		"--source-date-epoch", strconv.FormatInt(s.SourceDateEpoch, 10), "--links", s.Links}
	if s.Lower != "" {
		args = append(args, "--lower", s.Lower)
	}
	for _, l := range s.Layers {
		args = append(args, "--layer", l.Out, l.Meta)
		for _, p := range l.Packages {
			args = append(args, "--apk", p.Checksum+":"+p.Path)
		}
	}
	return args
}

// ParseInstallAPK reads the arguments after the command name: flags, then
// for each layer `--layer OUT META` followed by its `--apk CHECKSUM:FILE`s
// (checksums have no ':', paths may).
func ParseInstallAPK(args []string, stderr io.Writer) (InstallAPK, error) {
	var s InstallAPK
	need := func(i, n int) error {
		if i+n >= len(args) {
			return usagef("%s needs %d argument(s)", args[i], n)
		}
		return nil
	}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "--keyring", "--links", "--lower", "--source-date-epoch", "--apk":
			if err := need(i, 1); err != nil {
				return s, err
			}
			v := args[i+1]
			i++
			switch a {
			case "--keyring":
				s.Keyring = v
			case "--links":
				s.Links = v
			case "--lower":
				s.Lower = v
			case "--source-date-epoch":
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return s, usagef("--source-date-epoch %q: %v", v, err)
				}
				s.SourceDateEpoch = n
			case "--apk":
				sum, file, ok := strings.Cut(v, ":")
				if !ok || sum == "" || file == "" {
					return s, usagef("--apk %q: want CHECKSUM:FILE", v)
				}
				if len(s.Layers) == 0 {
					return s, usagef("--apk %q before any --layer", v)
				}
				l := &s.Layers[len(s.Layers)-1]
				l.Packages = append(l.Packages, APKFile{Path: file, Checksum: sum})
			}
		case "--layer":
			if err := need(i, 2); err != nil {
				return s, err
			}
			s.Layers = append(s.Layers, InstallLayer{Out: args[i+1], Meta: args[i+2]})
			i += 2
		case "-h", "--help":
			if stderr != nil {
				fmt.Fprintln(stderr, "usage: kiln install-apk --keyring DIR --links DIR [--lower DIR] [--source-date-epoch N] (--layer OUT META (--apk CHECKSUM:FILE)...)...")
			}
			return s, flag.ErrHelp
		default:
			return s, usagef("unexpected argument %q", a)
		}
	}
	if s.Keyring == "" || s.Links == "" || len(s.Layers) == 0 {
		return s, usagef("need --keyring, --links and at least one --layer")
	}
	for _, l := range s.Layers {
		if l.Out == "" || l.Meta == "" || len(l.Packages) == 0 {
			return s, usagef("layer %s %s: need an output, a record and at least one --apk", l.Out, l.Meta)
		}
	}
	return s, nil
}

// InstallImage installs one batch (Install) and then writes the image's
// metadata layer (Meta) from what it installed: the steps of an image
// whose packages all install in one batch, run in one container, since a
// container costs more than installing a small image. Meta's Layers and
// Metas name Install's layers and records.
type InstallImage struct {
	Install InstallAPK
	Meta    ImageMeta
}

// thenFlag separates install-image's install arguments from its metadata
// ones (neither uses it).
const thenFlag = "--then"

// Args is the command line the conversion runs: install-apk's arguments,
// then image-meta's.
func (s InstallImage) Args() []string {
	args := append(s.Install.Args(), thenFlag)
	args[1] = CmdInstallImage
	return append(args, s.Meta.Args()[2:]...)
}

// ParseInstallImage reads the arguments after the command name.
func ParseInstallImage(args []string, stderr io.Writer) (InstallImage, error) {
	i := slices.Index(args, thenFlag)
	if i < 0 {
		if slices.Contains(args, "-h") || slices.Contains(args, "--help") {
			if stderr != nil {
				fmt.Fprintln(stderr, "usage: kiln install-image INSTALL-APK-ARGUMENTS --then IMAGE-META-ARGUMENTS")
			}
			return InstallImage{}, flag.ErrHelp
		}
		return InstallImage{}, usagef("need %s between the install and the metadata arguments", thenFlag)
	}
	install, err := ParseInstallAPK(args[:i], stderr)
	if err != nil {
		return InstallImage{}, err
	}
	meta, err := ParseImageMeta(args[i+1:], stderr)
	if err != nil {
		return InstallImage{}, err
	}
	return InstallImage{Install: install, Meta: meta}, nil
}

// ImageMeta merges the install records of every layer (Metas, in layer
// order), checks them against each other, and writes the image's
// generated files into Out, reading the package layers, each a directory
// of its own (Layers, bottom first), as the image will stack them.
//
// On a base image, BaseDB is the base's installed database (whose bytes
// must have the SHA-256 BaseDBSHA256, as planning read them): its records
// come first in the image's database.
//
// Batches, when set, says the install batches ran side by side: the
// first through the links below it, every other through the first's
// links record only. The step then checks that each batch looked up no
// path whose answer the batches between would have changed, had they run
// one after another. On a "differs" verdict it writes DiffersFile into
// Out instead of the metadata layer, since the frontend builds the image
// again with chained batches; otherwise Out is the metadata layer alone.
// The verdict is not an output of its own: each output is a snapshot
// BuildKit prepares and commits, and the step took 0.02-0.06 s longer
// with that second one (the large bench image's bump, medians of 4-10
// interleaved builds, three times).
type ImageMeta struct {
	Spec, Keyring, Out   string
	SourceDateEpoch      int64
	Layers, Metas        []string
	BaseDB, BaseDBSHA256 string
	Batches              []InstallBatch // bottom first; their layers are the top ones of Layers
}

// InstallBatch is one install step as image-meta's check sees it: its
// links record (LinksFile, LookupsFile) and how many layers it installed.
type InstallBatch struct {
	Links  string
	Layers int
}

// DiffersFile is where image-meta's output holds a "differs" verdict
// (JSON of Verdict), and only that: no generated file of an image is
// named so, and a metadata layer never holds it.
const DiffersFile = ".kiln-install-batches-differ.json"

// Verdict says whether batches installed side by side made the layers
// they would have made one after another. Differs names the first path
// that tells them apart, empty when none does.
type Verdict struct {
	Differs string `json:"differs,omitempty"`
}

// Args is the command line the conversion runs.
func (s ImageMeta) Args() []string {
	args := []string{ToolBinary, CmdImageMeta, "--spec", s.Spec,
		"--keyring", s.Keyring, "--out", s.Out, "--source-date-epoch", strconv.FormatInt(s.SourceDateEpoch, 10)}
	if s.BaseDB != "" {
		args = append(args, "--base-db", s.BaseDB, "--base-db-sha256", s.BaseDBSHA256)
	}
	for _, l := range s.Layers {
		args = append(args, "--layer", l)
	}
	for _, m := range s.Metas {
		args = append(args, "--meta", m)
	}
	for _, b := range s.Batches {
		args = append(args, "--batch", strconv.Itoa(b.Layers)+":"+b.Links)
	}
	return args
}

// ParseImageMeta reads the arguments after the command name.
func ParseImageMeta(args []string, stderr io.Writer) (ImageMeta, error) {
	var s ImageMeta
	fs := newFlags(CmdImageMeta, stderr)
	fs.StringVar(&s.Spec, "spec", "", "JSON image spec from the frontend")
	fs.StringVar(&s.Keyring, "keyring", "", "directory of the image's apk keys")
	fs.StringVar(&s.Out, "out", "", "directory to write the metadata layer into")
	fs.Int64Var(&s.SourceDateEpoch, "source-date-epoch", 0, "mtime of every written entry")
	fs.Var((*stringList)(&s.Layers), "layer", "a layer below the metadata layer (read-only), bottom first (repeatable)")
	fs.Var((*stringList)(&s.Metas), "meta", "a layer's install record directory, in layer order (repeatable)")
	fs.StringVar(&s.BaseDB, "base-db", "", "the base image's installed database, if any")
	fs.StringVar(&s.BaseDBSHA256, "base-db-sha256", "", "the SHA-256 (hex) the base's database must have")
	var batches stringList
	fs.Var(&batches, "batch", "LAYERS:DIR of an install batch run side by side with the others, bottom first (repeatable); checked, and a verdict that they differ written into --out")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	total := 0
	for _, b := range batches {
		n, dir, ok := strings.Cut(b, ":")
		layers, err := strconv.Atoi(n)
		if !ok || err != nil || layers < 1 || dir == "" {
			return s, usagef("--batch %q: want LAYERS:DIR", b)
		}
		s.Batches = append(s.Batches, InstallBatch{Links: dir, Layers: layers})
		total += layers
	}
	if total > len(s.Layers) {
		return s, usagef("the batches hold %d layers, more than the %d --layer", total, len(s.Layers))
	}
	// No --layer or --meta: an image of no packages (apko builds those too).
	if s.Spec == "" || s.Out == "" || fs.NArg() > 0 {
		return s, usagef("need --spec and --out, and no other arguments")
	}
	if (s.BaseDB == "") != (s.BaseDBSHA256 == "") {
		return s, usagef("--base-db and --base-db-sha256 go together")
	}
	return s, nil
}

// ApplyLayer applies one layer of a base image onto Rootfs, the layers
// below it mounted read-write: the blob at Blob is checked against
// Digest, decompressed as MediaType says, its tar checked against DiffID,
// and its entries applied, whiteouts included. BuildKit's diff of the
// mount is then that layer.
//
// The top layer's step also records the base's directory symlinks (every
// symlink but those known to lead to a regular file), so the steps above
// write through them rather than hide them: Links gets the links record
// for the first install step (LinksFile) and Tree gets the links and their
// parent directories (with the base's owners and modes) for the metadata
// step's view.
type ApplyLayer struct {
	Blob, MediaType, Digest, DiffID, Rootfs string
	Links, Tree                             string // both or neither
}

// Args is the command line the conversion runs.
func (s ApplyLayer) Args() []string {
	args := []string{ToolBinary, CmdApplyLayer, "--blob", s.Blob, "--media-type", s.MediaType,
		"--digest", s.Digest, "--diff-id", s.DiffID, "--rootfs", s.Rootfs}
	if s.Links != "" {
		args = append(args, "--links", s.Links, "--tree", s.Tree)
	}
	return args
}

// ParseApplyLayer reads the arguments after the command name.
func ParseApplyLayer(args []string, stderr io.Writer) (ApplyLayer, error) {
	var s ApplyLayer
	fs := newFlags(CmdApplyLayer, stderr)
	fs.StringVar(&s.Blob, "blob", "", "the layer blob")
	fs.StringVar(&s.MediaType, "media-type", "", "the layer's media type")
	fs.StringVar(&s.Digest, "digest", "", "the blob's digest (sha256:...)")
	fs.StringVar(&s.DiffID, "diff-id", "", "the uncompressed tar's digest (sha256:...)")
	fs.StringVar(&s.Rootfs, "rootfs", "", "the layers below, read-write")
	fs.StringVar(&s.Links, "links", "", "directory to write the base's links record into")
	fs.StringVar(&s.Tree, "tree", "", "directory to write the base's directory symlinks into")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if s.Blob == "" || s.MediaType == "" || s.Digest == "" || s.DiffID == "" || s.Rootfs == "" || fs.NArg() > 0 {
		return s, usagef("need --blob, --media-type, --digest, --diff-id and --rootfs, and no other arguments")
	}
	if (s.Links == "") != (s.Tree == "") {
		return s, usagef("--links and --tree go together")
	}
	return s, nil
}

// ImageSBOM writes one platform's SPDX document (SBOMFile in Out) from the
// planned spec and the install records.
type ImageSBOM struct {
	Spec, Out string
	Metas     []string
}

// Args is the command line the conversion runs.
func (s ImageSBOM) Args() []string {
	args := []string{ToolBinary, CmdImageSBOM, "--spec", s.Spec, "--out", s.Out}
	for _, m := range s.Metas {
		args = append(args, "--meta", m)
	}
	return args
}

// ParseImageSBOM reads the arguments after the command name.
func ParseImageSBOM(args []string, stderr io.Writer) (ImageSBOM, error) {
	var s ImageSBOM
	fs := newFlags(CmdImageSBOM, stderr)
	fs.StringVar(&s.Spec, "spec", "", "JSON SBOM input from the frontend")
	fs.StringVar(&s.Out, "out", "", "directory to write "+SBOMFile+" into")
	fs.Var((*stringList)(&s.Metas), "meta", "a layer's install record directory (repeatable)")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if s.Spec == "" || s.Out == "" || fs.NArg() > 0 {
		return s, usagef("need --spec and --out, and no other arguments")
	}
	return s, nil
}

func newFlags(cmd string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kiln "+cmd, flag.ContinueOnError)
	if stderr == nil {
		stderr = io.Discard
	}
	fs.SetOutput(stderr)
	return fs
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
