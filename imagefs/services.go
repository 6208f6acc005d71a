package imagefs

import (
	"fmt"
	"path"
	"strings"
)

// supervisionDir is where apko's service bundles keep one directory per
// service for s6-svscan.
const supervisionDir = "sv"

// writeServices lays out the s6 supervision tree of a service bundle:
// sv/<name>/run executes the service's command with execline, as apko
// writes it; s6-svscan /sv (the image's entrypoint) runs them all.
func writeServices(l *layerFS, in Input) error {
	if len(in.Spec.Services) == 0 {
		return nil
	}
	if err := l.mkdir(supervisionDir, 0o777); err != nil {
		return err
	}
	for _, s := range in.Spec.Services {
		if s.Name == "" || strings.ContainsAny(s.Name, "/\x00") || s.Name == "." || s.Name == ".." {
			return fmt.Errorf("service %q: invalid name", s.Name)
		}
		dir := path.Join(supervisionDir, s.Name)
		if err := l.mkdir(dir, 0o777); err != nil {
			return err
		}
		if err := l.writeFile(path.Join(dir, "run"), []byte("#!/bin/execlineb\n"+s.Command+"\n"), 0o755, 0, 0); err != nil {
			return err
		}
	}
	return nil
}
