package main

import (
	"context"
	"errors"
	"io"

	"github.com/kiln-build/kiln/imagefs"
	"github.com/kiln-build/kiln/pkgsteps"
	"github.com/kiln-build/kiln/step"
)

// The steps below run inside kiln's build steps, not on users' hosts: the
// conversion (package plan2llb) builds their arguments and mounts from
// package step, and they parse them back with the same definitions.

func runInstallAPK(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s, err := step.ParseInstallAPK(args, stderr)
	if err != nil {
		return stepUsage(err)
	}
	return imagefs.InstallAPK(s)
}

func runImageMeta(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s, err := step.ParseImageMeta(args, stderr)
	if err != nil {
		return stepUsage(err)
	}
	return imagefs.ImageMeta(s)
}

func runImageSBOM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s, err := step.ParseImageSBOM(args, stderr)
	if err != nil {
		return stepUsage(err)
	}
	return imagefs.ImageSBOM(s)
}

// stepUsage gives a step's argument errors the usage exit status.
func stepUsage(err error) error {
	var ue step.UsageError
	if errors.As(err, &ue) {
		return usageError{ue.Err}
	}
	return err
}

func runMelangeKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s, err := step.ParseMelangeKey(args)
	if err != nil {
		return stepUsage(err)
	}
	return pkgsteps.Key(s)
}

func runMelangePackage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s, err := step.ParseMelangePackage(args)
	if err != nil {
		return stepUsage(err)
	}
	return pkgsteps.Package(ctx, s)
}

func runMelangeExtract(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s, err := step.ParseMelangeExtract(args)
	if err != nil {
		return stepUsage(err)
	}
	return pkgsteps.Extract(s)
}

func runApplyLayer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s, err := step.ParseApplyLayer(args, stderr)
	if err != nil {
		return stepUsage(err)
	}
	return imagefs.ApplyLayer(s)
}
