package install

import (
	"fmt"
	"io"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/pkg"
)

// InstallAPK verifies and installs one .apk file: pkg.Open checks its
// signature and control checksum, and the data section is verified
// (file checksums, datahash) as it is extracted. It returns the package's
// record as installed.
func (in *Installer) InstallAPK(r io.Reader, opts pkg.ReadOptions) (*index.Package, error) {
	pr, err := pkg.Open(r, opts)
	if err != nil {
		return nil, fmt.Errorf("install %w", err)
	}
	defer pr.Close()
	if err := in.Install(pr.Info, pr, Control{Scripts: pr.Scripts, Triggers: pr.Triggers}); err != nil {
		return nil, err
	}
	p := in.byName[pr.Info.Name].rec.Package
	return &p, nil
}
