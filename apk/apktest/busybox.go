package apktest

import (
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// HostBusybox is where Debian's busybox-static installs its static binary.
const HostBusybox = "/bin/busybox"

// BusyboxPackage makes a real shell package from a static busybox binary:
// bin/busybox plus etc/busybox-paths.d/busybox listing every applet path,
// which is what apko reads to create applet symlinks in place of the
// package's install trigger. listFrom is a busybox binary this host can
// run to list the applets (the same binary when it is native; pass "" to
// use binary itself).
func BusyboxPackage(binary, listFrom, version string) (Package, error) {
	data, err := os.ReadFile(binary)
	if err != nil {
		return Package{}, fmt.Errorf("busybox package: %w", err)
	}
	if listFrom == "" {
		listFrom = binary
	}
	out, err := exec.Command(listFrom, "--list-full").Output()
	if err != nil {
		return Package{}, fmt.Errorf("busybox package: %s --list-full: %w", listFrom, err)
	}
	var applets []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			applets = append(applets, "/"+strings.TrimPrefix(l, "/"))
		}
	}
	sort.Strings(applets)
	provides := []string{"cmd:busybox=" + version}
	for _, a := range applets {
		if a == "/bin/sh" {
			provides = append(provides, "/bin/sh", "cmd:sh="+version)
		}
	}
	return Package{
		Name: "busybox", Version: version, License: "GPL-2.0-only",
		Description: "Size optimized toolbox of many common UNIX utilities",
		Provides:    provides,
		Files: []File{
			{Path: "bin", Dir: true},
			{Path: "bin/busybox", Mode: 0o755, Data: data},
			{Path: "etc", Dir: true},
			{Path: "etc/busybox-paths.d", Dir: true},
			{Path: "etc/busybox-paths.d/busybox", Data: []byte(strings.Join(applets, "\n") + "\n")},
		},
	}, nil
}
