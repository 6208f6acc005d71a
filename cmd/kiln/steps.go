package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/kiln-build/kiln/imagefs"
	"github.com/kiln-build/kiln/step"
)

// The steps below run inside kiln's build steps, not on users' hosts: the
// conversion (package plan2llb) builds their arguments and mounts from
// package step, and they parse them back with the same definitions.

func runInstallAPK(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	report, args := step.CutReport(args)
	return reported(report, func() error {
		s, err := step.ParseInstallAPK(args, stderr)
		if err != nil {
			return err
		}
		return imagefs.InstallAPK(s)
	})
}

func runImageMeta(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	report, args := step.CutReport(args)
	return reported(report, func() error {
		s, err := step.ParseImageMeta(args, stderr)
		if err != nil {
			return err
		}
		return imagefs.ImageMeta(s)
	})
}

func runImageSBOM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	report, args := step.CutReport(args)
	return reported(report, func() error {
		s, err := step.ParseImageSBOM(args, stderr)
		if err != nil {
			return err
		}
		return imagefs.ImageSBOM(s)
	})
}

// reported runs a step and, when it fails, leaves its message in the
// report output for the frontend (step.MountReport; not for argument
// errors, which are kiln's bugs). A report that cannot be written is
// added to the error the step prints.
func reported(dir string, run func() error) error {
	err := run()
	if werr := step.WriteReport(dir, err); werr != nil {
		err = fmt.Errorf("%w (and its report could not be written: %v)", err, werr)
	}
	return stepUsage(err)
}

// runStepReport prints the report a failed step left in a directory: the
// frontend runs it over the failed step's report output.
func runStepReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		return usageError{errors.New("usage: kiln step-report DIR")}
	}
	msg, err := step.ReadReport(args[0])
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, msg)
	return err
}

// stepUsage gives a step's argument errors the usage exit status.
func stepUsage(err error) error {
	var ue step.UsageError
	if errors.As(err, &ue) {
		return usageError{ue.Err}
	}
	return err
}
