package step

import (
	"reflect"
	"strings"
	"testing"
)

// TestArgsRoundTrip checks the contract itself: what the conversion writes
// with Args, the binary reads back with Parse as the same step.
func TestArgsRoundTrip(t *testing.T) {
	install := InstallAPK{Out: MountOut, Meta: MountMeta, Keyring: MountKeys, SourceDateEpoch: 1700000000,
		Packages: []APKFile{{Path: "/pkgs/0/a-1.0-r0.apk", Checksum: "Q1abc="}, {Path: "/pkgs/1/b=c-2-r0.apk", Checksum: "Q1def="}}}
	gotInstall, err := ParseInstallAPK(install.Args()[2:], nil)
	if err != nil || !reflect.DeepEqual(gotInstall, install) {
		t.Errorf("install-apk: %+v, %v; want %+v", gotInstall, err, install)
	}
	meta := ImageMeta{Spec: "/spec/spec.json", Rootfs: MountRootfs, Keyring: MountKeys, Out: MountOut, SourceDateEpoch: 5,
		Metas: []string{"/meta/0", "/meta/1"}}
	gotMeta, err := ParseImageMeta(meta.Args()[2:], nil)
	if err != nil || !reflect.DeepEqual(gotMeta, meta) {
		t.Errorf("image-meta: %+v, %v; want %+v", gotMeta, err, meta)
	}
	sbom := ImageSBOM{Spec: "/spec/sbom.json", Out: MountOut, Metas: []string{"/meta/0"}}
	gotSBOM, err := ParseImageSBOM(sbom.Args()[2:], nil)
	if err != nil || !reflect.DeepEqual(gotSBOM, sbom) {
		t.Errorf("image-sbom: %+v, %v; want %+v", gotSBOM, err, sbom)
	}
	for _, args := range [][]string{install.Args(), meta.Args(), sbom.Args()} {
		if args[0] != ToolBinary {
			t.Errorf("%v does not run %s", args, ToolBinary)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name  string
		parse func([]string) error
		args  []string
		want  string
		usage bool
	}{
		{"install without packages", installParser, []string{"--out", "/o", "--meta", "/m", "--keyring", "/k"}, "at least one .apk", true},
		{"install without checksum", installParser, []string{"--out", "/o", "--meta", "/m", "--keyring", "/k", "/p/a.apk"}, "no --expect checksum", false},
		{"install bad expect", installParser, []string{"--out", "/o", "--meta", "/m", "--keyring", "/k", "--expect", "nochecksum", "/p/a.apk"}, "want CHECKSUM:FILE", true},
		{"meta without rootfs", func(a []string) error { _, err := ParseImageMeta(a, nil); return err }, []string{"--spec", "s", "--out", "o"}, "need --spec", true},
		{"sbom stray argument", func(a []string) error { _, err := ParseImageSBOM(a, nil); return err }, []string{"--spec", "s", "--out", "o", "--meta", "m", "extra"}, "no other arguments", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse(tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if _, isUsage := err.(UsageError); isUsage != tt.usage {
				t.Errorf("usage error = %v, want %v", isUsage, tt.usage)
			}
		})
	}
}

func installParser(a []string) error { _, err := ParseInstallAPK(a, nil); return err }
