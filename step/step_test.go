package step

import (
	"reflect"
	"strings"
	"testing"
)

// TestArgsRoundTrip checks the contract itself: what the conversion writes
// with Args, the binary reads back with Parse as the same step.
func TestArgsRoundTrip(t *testing.T) {
	install := InstallAPK{Keyring: MountKeys, SourceDateEpoch: 1700000000, Lower: MountLower, Links: MountLinks,
		Layers: []InstallLayer{
			{Out: "/out/0", Meta: "/meta/0", Packages: []APKFile{{Path: "/pkgs/0.apk", Checksum: "Q1abc="}, {Path: "/pkgs/b=c:1.apk", Checksum: "Q1def="}}},
			{Out: "/out/1", Meta: "/meta/1", Packages: []APKFile{{Path: "/pkgs/2.apk", Checksum: "Q1ghi="}}},
		}}
	gotInstall, err := ParseInstallAPK(install.Args()[2:], nil)
	if err != nil || !reflect.DeepEqual(gotInstall, install) {
		t.Errorf("install-apk: %+v, %v; want %+v", gotInstall, err, install)
	}
	meta := ImageMeta{Spec: "/spec/spec.json", Keyring: MountKeys, Out: MountOut, SourceDateEpoch: 5,
		Layers: []string{MountLayers + "/0", MountLayers + "/1"},
		Metas:  []string{"/meta/0", "/meta/1"}}
	gotMeta, err := ParseImageMeta(meta.Args()[2:], nil)
	if err != nil || !reflect.DeepEqual(gotMeta, meta) {
		t.Errorf("image-meta: %+v, %v; want %+v", gotMeta, err, meta)
	}
	checked := ImageMeta{Spec: "/spec/spec.json", Keyring: MountKeys, Out: MountOut,
		Layers:  []string{MountLayers + "/0", MountLayers + "/1", MountLayers + "/2"},
		Metas:   []string{"/meta/0/0", "/meta/0/1", "/meta/1/0"},
		Batches: []InstallBatch{{Links: MountLayers + "/b0/" + OutLinks, Layers: 2}, {Links: MountLayers + "/b1/" + OutLinks, Layers: 1}}}
	gotChecked, err := ParseImageMeta(checked.Args()[2:], nil)
	if err != nil || !reflect.DeepEqual(gotChecked, checked) {
		t.Errorf("image-meta with batches: %+v, %v; want %+v", gotChecked, err, checked)
	}
	onBase := ImageMeta{Spec: "/spec/spec.json", Layers: []string{MountLayers + "/0"}, Keyring: MountKeys, Out: MountOut, Metas: []string{"/meta/0"},
		BaseDB: MountBase + "/APKINDEX", BaseDBSHA256: strings.Repeat("ab", 32)}
	gotOnBase, err := ParseImageMeta(onBase.Args()[2:], nil)
	if err != nil || !reflect.DeepEqual(gotOnBase, onBase) {
		t.Errorf("image-meta on a base: %+v, %v; want %+v", gotOnBase, err, onBase)
	}
	apply := ApplyLayer{Blob: MountBlob, MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: "sha256:" + strings.Repeat("1", 64),
		DiffID: "sha256:" + strings.Repeat("2", 64), Rootfs: MountRootfs}
	for _, a := range []ApplyLayer{apply, {Blob: apply.Blob, MediaType: apply.MediaType, Digest: apply.Digest, DiffID: apply.DiffID,
		Rootfs: apply.Rootfs, Links: MountLinks, Tree: MountTree}} {
		got, err := ParseApplyLayer(a.Args()[2:], nil)
		if err != nil || !reflect.DeepEqual(got, a) {
			t.Errorf("apply-layer: %+v, %v; want %+v", got, err, a)
		}
	}
	sbom := ImageSBOM{Spec: "/spec/sbom.json", Out: MountOut, Metas: []string{"/meta/0"}}
	gotSBOM, err := ParseImageSBOM(sbom.Args()[2:], nil)
	if err != nil || !reflect.DeepEqual(gotSBOM, sbom) {
		t.Errorf("image-sbom: %+v, %v; want %+v", gotSBOM, err, sbom)
	}
	both := InstallImage{Install: install, Meta: ImageMeta{Spec: "/spec/spec.json", Keyring: MountKeys, Out: MountImage,
		SourceDateEpoch: 1700000000, Layers: []string{"/out/0", "/out/1"}, Metas: []string{"/meta/0", "/meta/1"}}}
	if got := both.Args(); got[1] != CmdInstallImage {
		t.Errorf("install-image runs %q", got[1])
	}
	gotBoth, err := ParseInstallImage(both.Args()[2:], nil)
	if err != nil || !reflect.DeepEqual(gotBoth, both) {
		t.Errorf("install-image: %+v, %v; want %+v", gotBoth, err, both)
	}
	if _, err := ParseInstallImage(install.Args()[2:], nil); err == nil {
		t.Error("install-image without --then: no error")
	}
	for _, args := range [][]string{install.Args(), meta.Args(), sbom.Args(), apply.Args(), both.Args()} {
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
		{"install without layers", installParser, []string{"--keyring", "/k", "--links", "/l"}, "at least one --layer", true},
		{"install layer without packages", installParser, []string{"--keyring", "/k", "--links", "/l", "--layer", "/o", "/m"}, "at least one --apk", true},
		{"install package outside a layer", installParser, []string{"--keyring", "/k", "--links", "/l", "--apk", "Q1x:/p.apk"}, "before any --layer", true},
		{"install without checksum", installParser, []string{"--keyring", "/k", "--links", "/l", "--layer", "/o", "/m", "--apk", "/p/a.apk"}, "want CHECKSUM:FILE", true},
		{"install stray file", installParser, []string{"--keyring", "/k", "--links", "/l", "--layer", "/o", "/m", "--apk", "Q1x:/p.apk", "/p/b.apk"}, "unexpected argument", true},
		{"meta without out", func(a []string) error { _, err := ParseImageMeta(a, nil); return err }, []string{"--spec", "s", "--layer", "/layers/0"}, "need --spec", true},
		{"meta base database without its digest", func(a []string) error { _, err := ParseImageMeta(a, nil); return err },
			[]string{"--spec", "s", "--layer", "r", "--out", "o", "--base-db", "/base/APKINDEX"}, "go together", true},
		{"meta batch without its layer count", func(a []string) error { _, err := ParseImageMeta(a, nil); return err },
			[]string{"--spec", "s", "--layer", "r", "--out", "o", "--batch", "/batch/0"}, "want LAYERS:DIR", true},
		{"meta batches of more layers than given", func(a []string) error { _, err := ParseImageMeta(a, nil); return err },
			[]string{"--spec", "s", "--layer", "r", "--out", "o", "--batch", "2:/batch/0"}, "more than the 1 --layer", true},
		{"apply without diff_id", func(a []string) error { _, err := ParseApplyLayer(a, nil); return err },
			[]string{"--blob", "/blob", "--media-type", "m", "--digest", "d", "--rootfs", "/r"}, "need --blob", true},
		{"apply links without tree", func(a []string) error { _, err := ParseApplyLayer(a, nil); return err },
			[]string{"--blob", "/blob", "--media-type", "m", "--digest", "d", "--diff-id", "x", "--rootfs", "/r", "--links", "/l"}, "go together", true},
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
