package melange

import (
	"fmt"

	"github.com/kiln-build/kiln/apk/arch"
)

// archInfo is what melange derives from the target architecture.
type archInfo struct {
	apk    string // build.arch: x86_64, aarch64, armv7, ...
	goarch string // build.goarch: apko's OCI-style name (amd64, arm64, arm/v7)
	gnu    string // GNU triplet stem, the libc flavour appended
	gnuEnd string // what follows the flavour ("eabihf" on 32-bit arm)
	rust   string // Rust triplet stem
}

// archs holds melange's triplets (apko's ToTriplet and ToRustTriplet);
// an architecture without an entry gets "<arch>-unknown-linux-".
var archs = map[string]archInfo{
	"x86":     {gnu: "i486-pc-linux-", rust: "i686-unknown-linux-"},
	"x86_64":  {gnu: "x86_64-pc-linux-", rust: "x86_64-unknown-linux-"},
	"aarch64": {gnu: "aarch64-unknown-linux-", rust: "aarch64-unknown-linux-"},
	"armhf":   {gnu: "arm-unknown-linux-", gnuEnd: "eabihf", rust: "armv6-unknown-linux-"},
	"armv7":   {gnu: "armv7l-unknown-linux-", gnuEnd: "eabihf", rust: "armv7-unknown-linux-"},
	"ppc64le": {gnu: "powerpc64le-unknown-linux-", rust: "powerpc64le-unknown-linux-"},
	"s390x":   {gnu: "s390x-ibm-linux-", rust: "s390x-unknown-linux-"},
}

// lookupArch accepts an apk architecture or an OCI name (amd64, arm/v7).
func lookupArch(name string) (archInfo, error) {
	apk, err := arch.Normalize(name)
	if err != nil {
		return archInfo{}, err
	}
	p, err := arch.ToPlatform(apk)
	if err != nil {
		return archInfo{}, err
	}
	a, ok := archs[apk]
	if !ok {
		// apko spells these with their OCI names (riscv64, loong64).
		a = archInfo{gnu: p.Architecture + "-unknown-linux-", rust: p.Architecture + "-unknown-linux-"}
	}
	a.apk = apk
	a.goarch = p.Architecture
	if p.Variant != "" {
		a.goarch += "/" + p.Variant
	}
	return a, nil
}

// triplet is the GNU triplet for a libc flavour ("gnu" or "musl").
func (a archInfo) triplet(libc string) string { return a.gnu + libc + a.gnuEnd }

// rustTriplet is the Rust target triplet for a libc flavour.
func (a archInfo) rustTriplet(libc string) string { return a.rust + libc + a.gnuEnd }

func checkLibc(libc string) error {
	if libc != "gnu" && libc != "musl" {
		return fmt.Errorf("unknown libc %q (known: gnu, musl)", libc)
	}
	return nil
}
