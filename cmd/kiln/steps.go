package main

import (
	"context"
	"io"

	"github.com/kiln-build/kiln/stepcmd"
)

// The build steps' commands (package stepcmd) are kiln's too, listed so
// they are discoverable; the steps themselves run the small kiln-step.
func init() {
	for _, c := range stepcmd.Commands {
		c := c
		commands[c.Name] = command{"(build step) " + c.Summary, func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			err := stepcmd.Run(ctx, c, args, stderr)
			if stepcmd.IsUsage(err) {
				return usageError{err}
			}
			return err
		}}
	}
}
