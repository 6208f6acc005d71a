package lockfile

import (
	"strings"
	"testing"
)

// TestMarshal checks the bytes of a lock: apko's field names and order,
// two-space indentation, empty lists as [], a final newline.
func TestMarshal(t *testing.T) {
	l := &Lock{Version: Version, Config: &Config{Name: "apko.yaml", Checksum: ConfigChecksum([]byte("a: 1\n"))},
		Contents: Contents{
			Keyring:             []Key{{Name: "r.example/k.rsa.pub", URL: "https://r.example/k.rsa.pub", Content: "PEM\n"}},
			BuildRepositories:   []Repository{},
			RuntimeRepositories: []Repository{},
			Repositories:        []Repository{{Name: "r.example/os/x86_64", URL: "https://r.example/os/x86_64/APKINDEX.tar.gz", Architecture: "x86_64"}},
			Packages: []Package{{Name: "hello", URL: "https://r.example/os/x86_64/hello-1-r0.apk", Version: "1-r0", Architecture: "x86_64",
				Control: RangeChecksum{NewRange(0, 100), "sha1-x"}, Data: RangeChecksum{NewRange(100, 50), "sha256-y"}, Checksum: "Q1x"}},
		}}
	got, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": "v1",
  "config": {
    "name": "apko.yaml",
    "checksum": "sha256-` + strings.TrimPrefix(ConfigChecksum([]byte("a: 1\n")), "sha256-") + `"
  },
  "contents": {
    "keyring": [
      {
        "name": "r.example/k.rsa.pub",
        "url": "https://r.example/k.rsa.pub",
        "content": "PEM\n"
      }
    ],
    "build_repositories": [],
    "runtime_repositories": [],
    "repositories": [
      {
        "name": "r.example/os/x86_64",
        "url": "https://r.example/os/x86_64/APKINDEX.tar.gz",
        "architecture": "x86_64"
      }
    ],
    "packages": [
      {
        "name": "hello",
        "url": "https://r.example/os/x86_64/hello-1-r0.apk",
        "version": "1-r0",
        "architecture": "x86_64",
        "signature": {
          "range": "",
          "checksum": ""
        },
        "control": {
          "range": "bytes=0-99",
          "checksum": "sha1-x"
        },
        "data": {
          "range": "bytes=100-149",
          "checksum": "sha256-y"
        },
        "checksum": "Q1x"
      }
    ]
  }
}
`
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	back, err := Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if off, size, err := back.Contents.Packages[0].Data.Bounds(); err != nil || off != 100 || size != 50 {
		t.Errorf("data bounds %d %d %v", off, size, err)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tt := range []struct{ data, want string }{
		{`{"version": "v2", "contents": {}}`, `lockfile version "v2"`},
		{`{"version": "v1", "contents": {"packages": [{"name": "a", "version": "1", "architecture": "x86_64", "url": "u", "checksum": "sha1-x"}]}}`, "not an apk Q1 checksum"},
		{`{"version": "v1", "contents": {"packages": [{"name": "a", "architecture": "x86_64", "url": "u", "checksum": "Q1x"}]}}`, "lacks a name, version"},
		{`[]`, "not an apko lockfile"},
	} {
		if _, err := Parse([]byte(tt.data)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.data, err, tt.want)
		}
	}
}

func TestNamesAndArchs(t *testing.T) {
	for in, want := range map[string]string{"apko.yaml": "apko.lock.json", "images/app.yml": "images/app.lock.json", "dir.d/noext": "dir.d/noext.lock.json"} {
		if got := NameFor(in); got != want {
			t.Errorf("NameFor(%q) = %q, want %q", in, got, want)
		}
	}
	l := &Lock{Contents: Contents{Packages: []Package{
		{Name: "a", Architecture: "x86_64", URL: "r/x86_64/a.apk"},
		{Name: "n", Architecture: "noarch", URL: "r/aarch64/n.apk"},
		{Name: "b", Architecture: "aarch64", URL: "r/aarch64/b.apk"},
	}}}
	var got []string
	for _, p := range l.PackagesFor("aarch64") {
		got = append(got, p.Name)
	}
	if strings.Join(got, " ") != "n b" {
		t.Errorf("aarch64 packages %v", got)
	}
}
