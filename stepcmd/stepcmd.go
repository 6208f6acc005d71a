// Package stepcmd dispatches the commands kiln's build steps run (their
// contract is package step; their runners are imagefs and pkgsteps). Both
// binaries use it: kiln-step, the small one the steps run (it links
// nothing of BuildKit, so a step's process starts in a fraction of the
// frontend binary's time), and kiln, which lists them too.
package stepcmd

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/kiln-build/kiln/imagefs"
	"github.com/kiln-build/kiln/pkgsteps"
	"github.com/kiln-build/kiln/step"
)

// Command is one step command.
type Command struct {
	Name, Summary string
	Run           func(ctx context.Context, args []string, stderr io.Writer) error
}

// Commands are the step commands, by name.
var Commands = []Command{
	{step.CmdInstallAPK, "verify and extract .apk files into image layers", func(ctx context.Context, args []string, stderr io.Writer) error {
		s, err := step.ParseInstallAPK(args, stderr)
		if err != nil {
			return err
		}
		return imagefs.InstallAPK(s)
	}},
	{step.CmdImageMeta, "write an image's apk database and generated files", func(ctx context.Context, args []string, stderr io.Writer) error {
		s, err := step.ParseImageMeta(args, stderr)
		if err != nil {
			return err
		}
		return imagefs.ImageMeta(s)
	}},
	{step.CmdInstallImage, "install-apk, then image-meta over what it installed", func(ctx context.Context, args []string, stderr io.Writer) error {
		s, err := step.ParseInstallImage(args, stderr)
		if err != nil {
			return err
		}
		return imagefs.InstallImage(s)
	}},
	{step.CmdImageSBOM, "write an image's SPDX document", func(ctx context.Context, args []string, stderr io.Writer) error {
		s, err := step.ParseImageSBOM(args, stderr)
		if err != nil {
			return err
		}
		return imagefs.ImageSBOM(s)
	}},
	{step.CmdApplyLayer, "verify and apply a base image layer", func(ctx context.Context, args []string, stderr io.Writer) error {
		s, err := step.ParseApplyLayer(args, stderr)
		if err != nil {
			return err
		}
		return imagefs.ApplyLayer(s)
	}},
	{step.CmdMelangeKey, "report the public half of a melange build's signing key", func(ctx context.Context, args []string, stderr io.Writer) error {
		s, err := step.ParseMelangeKey(args)
		if err != nil {
			return err
		}
		return pkgsteps.Key(s)
	}},
	{step.CmdMelangePackage, "package a melange build's output directories, signed, with their index", func(ctx context.Context, args []string, stderr io.Writer) error {
		s, err := step.ParseMelangePackage(args)
		if err != nil {
			return err
		}
		return pkgsteps.Package(ctx, s)
	}},
	{step.CmdMelangeExtract, "check and unpack a fetched source into the workspace", func(ctx context.Context, args []string, stderr io.Writer) error {
		s, err := step.ParseMelangeExtract(args)
		if err != nil {
			return err
		}
		return pkgsteps.Extract(s)
	}},
}

// Run runs c with a step's arguments. When the step has a report output
// (step.WithReport) and fails, its message is left there for the
// frontend, which makes it the build's error.
func Run(ctx context.Context, c Command, args []string, stderr io.Writer) error {
	report, args := step.CutReport(args)
	err := c.Run(ctx, args, stderr)
	if werr := step.WriteReport(report, err); werr != nil {
		err = fmt.Errorf("%w (and its report could not be written: %v)", err, werr)
	}
	return err
}

// Lookup finds a step command by name.
func Lookup(name string) (Command, bool) {
	for _, c := range Commands {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

// IsUsage reports whether err is a mistake in a step's arguments (the
// conversion and the binary disagree: a kiln bug), for exit status 2.
func IsUsage(err error) bool {
	var ue step.UsageError
	return errors.As(err, &ue)
}
