package lint

import (
	"errors"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/config/apko"
)

func TestCheck(t *testing.T) {
	const base = "contents:\n  repositories: [https://r.example/os]\n  keyring: [https://r.example/k.rsa.pub]\n"
	tests := []struct {
		name   string
		files  map[string]string // apko.yaml and what it includes
		want   []string
		errors bool
		locked bool
	}{
		{"clean", map[string]string{"apko.yaml": base + "  packages: [busybox=1.36.1-r0, 'hello~2.12', '!bad']\n"}, nil, false, false},
		{"locked: nothing is unpinned", map[string]string{"apko.yaml": base + "  packages: [busybox, hello>=2]\n"}, nil, false, true},
		{"unpinned and ranged packages", map[string]string{"apko.yaml": base + "  packages:\n    - busybox\n    - hello>=2\n    - tzdata=2024a-r0\n"}, []string{
			`apko.yaml:5:7: warning: UnpinnedPackage: package "busybox" has no version: pin it (busybox=VERSION, or busybox~VERSION to follow patch releases) or lock the config (kiln lock)`,
			`apko.yaml:6:7: warning: UnpinnedPackage: package "hello>=2" allows a range of versions: which one installs depends on the day of the build`,
		}, false, false},
		{"== pins: apko ignores them", map[string]string{"apko.yaml": base + "  packages: [busybox==1.36.1-r0]\n"}, []string{
			`apko.yaml:4:14: warning: DoubleEqualPin: package "busybox==1.36.1-r0": apko reads == as no version at all, apk and kiln as =: write busybox=1.36.1-r0`,
		}, false, false},
		{"plain HTTP key and repositories", map[string]string{"apko.yaml": "contents:\n  repositories:\n    - http://mirror.example/os\n    - '@local http://127.0.0.1:8080/os'\n  build_repositories: ['http://[::1]/x']\n  runtime_repositories: [http://cdn.example/os]\n  keyring:\n    - http://mirror.example/k.rsa.pub\n    - http://localhost/k.rsa.pub\n"}, []string{
			`apko.yaml:3:7: warning: PlainHTTPRepository: repositories entry http://mirror.example/os is served over plain HTTP: use https://`,
			`apko.yaml:6:26: warning: PlainHTTPRepository: runtime_repositories entry http://cdn.example/os is served over plain HTTP: use https://`,
			`apko.yaml:8:7: error: PlainHTTPKey: key http://mirror.example/k.rsa.pub is fetched over plain HTTP: use https://, or a key file in the build context`,
		}, true, false},
		{"deprecated include, findings in the included file", map[string]string{
			"apko.yaml": "include: base.yaml\ncontents:\n  packages: [hello=2.12-r0]\n",
			"base.yaml": base + "  packages: [busybox]\n",
		}, []string{
			`apko.yaml:1:10: warning: DeprecatedInclude: include: is deprecated in apko: merge base.yaml into this file`,
			`base.yaml:4:14: warning: UnpinnedPackage: package "busybox" has no version: pin it (busybox=VERSION, or busybox~VERSION to follow patch releases) or lock the config (kiln lock)`,
		}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := apko.Load("apko.yaml", func(name string) ([]byte, error) {
				if s, ok := tt.files[name]; ok {
					return []byte(s), nil
				}
				return nil, errors.New("no such file")
			})
			if err != nil {
				t.Fatal(err)
			}
			fs := Check(cfg, Options{Locked: tt.locked})
			var got []string
			for _, f := range fs {
				got = append(got, f.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("findings\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tt.want, "\n      "))
			}
			if HasErrors(fs) != tt.errors {
				t.Errorf("HasErrors = %v", HasErrors(fs))
			}
		})
	}
}
