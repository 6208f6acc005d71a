// Package arch maps between apk architecture names (x86_64, aarch64, ...)
// and OCI platforms (linux/amd64, linux/arm64, ...).
package arch

import (
	"fmt"
	"runtime"
	"sort"
)

// Platform is an OCI platform without the OS, which is always linux here.
type Platform struct {
	Architecture string
	Variant      string
}

func (p Platform) String() string {
	if p.Variant != "" {
		return "linux/" + p.Architecture + "/" + p.Variant
	}
	return "linux/" + p.Architecture
}

var toPlatform = map[string]Platform{
	"x86_64":      {"amd64", ""},
	"x86":         {"386", ""},
	"aarch64":     {"arm64", ""},
	"armv7":       {"arm", "v7"},
	"armhf":       {"arm", "v6"},
	"ppc64le":     {"ppc64le", ""},
	"s390x":       {"s390x", ""},
	"riscv64":     {"riscv64", ""},
	"loongarch64": {"loong64", ""},
}

// ToPlatform returns the OCI platform of an apk architecture.
func ToPlatform(apkArch string) (Platform, error) {
	p, ok := toPlatform[apkArch]
	if !ok {
		return Platform{}, fmt.Errorf("unknown apk architecture %q (known: %v)", apkArch, Known())
	}
	return p, nil
}

// FromPlatform returns the apk architecture of an OCI architecture and
// variant. An empty arm variant means v7, as containerd normalises it.
func FromPlatform(architecture, variant string) (string, error) {
	if architecture == "arm64" && (variant == "v8" || variant == "") {
		return "aarch64", nil
	}
	if architecture == "arm" && variant == "" {
		variant = "v7"
	}
	for a, p := range toPlatform {
		if p.Architecture == architecture && p.Variant == variant {
			return a, nil
		}
	}
	if variant != "" {
		return "", fmt.Errorf("no apk architecture for platform linux/%s/%s", architecture, variant)
	}
	return "", fmt.Errorf("no apk architecture for platform linux/%s", architecture)
}

// Normalize accepts an apk architecture or an OCI architecture name
// ("amd64", "arm64", "arm/v7") as apko configs do, and returns the apk name.
func Normalize(name string) (string, error) {
	if _, ok := toPlatform[name]; ok {
		return name, nil
	}
	archName, variant := name, ""
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			archName, variant = name[:i], name[i+1:]
			break
		}
	}
	a, err := FromPlatform(archName, variant)
	if err != nil {
		return "", fmt.Errorf("unknown architecture %q (known: %v)", name, Known())
	}
	return a, nil
}

// Host is the apk architecture kiln runs on.
func Host() string {
	a, err := FromPlatform(runtime.GOARCH, "")
	if err != nil {
		return runtime.GOARCH
	}
	return a
}

// Known lists apk architectures, sorted.
func Known() []string {
	out := make([]string, 0, len(toPlatform))
	for a := range toPlatform {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}
