package install

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// lowerMap is a Lower from a table of physical paths.
type lowerMap map[string]LowerEntry

func (m lowerMap) Lookup(p string) (LowerEntry, bool) { e, ok := m[p]; return e, ok }

func TestInstallOverLowerLayers(t *testing.T) {
	// What current Wolfi's baselayout leaves below: /bin -> usr/bin, and
	// usr/sbin as a directory with its own mode.
	usrMerged := lowerMap{
		"bin":      {Symlink: "usr/bin"},
		"sbin":     {Symlink: "/usr/sbin"},
		"usr":      {Dir: true, Mode: 0o755},
		"usr/sbin": {Dir: true, Mode: 0o750, UID: 0, GID: 7},
		"var/run":  {Symlink: "../run"},
	}
	tests := []struct {
		name      string
		lower     Lower
		ents      []ent
		wantFiles map[string]string // physical path -> contents
		wantDirs  map[string]fs.FileMode
		absent    []string // paths that must not be in this layer
		dbPaths   []string // R: paths recorded, as the package names them
		wantErr   string
	}{
		{"directory entry over a lower symlink", usrMerged,
			[]ent{dir("bin"), file("bin/x", "x\n")},
			map[string]string{"usr/bin/x": "x\n"}, map[string]fs.FileMode{"usr/bin": 0o755, "usr": 0o755},
			[]string{"bin"}, []string{"bin/x"}, ""},
		{"no directory entry, absolute link, lower metadata kept", usrMerged,
			[]ent{file("sbin/daemon", "d\n")},
			map[string]string{"usr/sbin/daemon": "d\n"}, map[string]fs.FileMode{"usr/sbin": 0o750},
			[]string{"sbin"}, []string{"sbin/daemon"}, ""},
		{"a lower directory is made when an entry needs it", lowerMap{"etc": {Dir: true, Mode: 0o711}},
			[]ent{file("etc/app.conf", "c\n")},
			map[string]string{"etc/app.conf": "c\n"}, map[string]fs.FileMode{"etc": 0o711},
			nil, []string{"etc/app.conf"}, ""},
		{"the package's own directory under a lower one", usrMerged,
			[]ent{dir("usr/share"), file("usr/share/doc", "d\n")},
			map[string]string{"usr/share/doc": "d\n"}, map[string]fs.FileMode{"usr/share": 0o755},
			nil, []string{"usr/share/doc"}, ""},
		{"a lower link that climbs out is refused", lowerMap{"evil": {Symlink: "../../.."}},
			[]ent{dir("evil"), file("evil/x", "x")}, nil, nil, nil, nil, "leads above the root"},
		{"below a lower link resolved before, missing directories are made as under it", lowerMap{
			"opt": {Dir: true, Mode: 0o755}, "opt/current": {Symlink: "tool-1"}},
			[]ent{file("opt/current/a", "a\n"), file("opt/current/sub/b", "b\n")},
			map[string]string{"opt/tool-1/a": "a\n", "opt/tool-1/sub/b": "b\n"},
			map[string]fs.FileMode{"opt/tool-1": 0o755, "opt/tool-1/sub": 0o755},
			[]string{"opt/current"}, []string{"opt/current/a", "opt/current/sub/b"}, ""},
		{"without a lower layer the parent must exist", nil,
			[]ent{file("bin/x", "x")}, nil, nil, nil, nil, `"bin" does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t)
			in := newInstaller(t, sb.root, Options{Chown: ChownAlways, Lower: tt.lower})
			err := in.Install(pkgInfo("pkg"), tarOf(t, tt.ents...), Control{})
			sb.checkOutside(t)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for p, body := range tt.wantFiles {
				if got := readFile(t, sb.root, p); got != body {
					t.Errorf("%s = %q, want %q", p, got, body)
				}
			}
			for p, mode := range tt.wantDirs {
				fi := lstat(t, sb.root, p)
				if !fi.IsDir() || fi.Mode().Perm() != mode {
					t.Errorf("%s: %v, want a directory %v", p, fi.Mode(), mode)
				}
				if p == "usr/sbin" && fi.Sys().(*syscall.Stat_t).Gid != 7 {
					t.Errorf("usr/sbin gid %d, want the lower layer's 7", fi.Sys().(*syscall.Stat_t).Gid)
				}
			}
			for _, p := range tt.absent {
				if _, err := lstatErr(sb.root, p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s is in the layer, shadowing the one below", p)
				}
			}
			var got []string
			for _, f := range in.Files("pkg") {
				got = append(got, f.Path)
			}
			if !equalStrings(got, tt.dbPaths) {
				t.Errorf("database paths %q, want %q", got, tt.dbPaths)
			}
		})
	}
}

func lstatErr(root, rel string) (fs.FileInfo, error) {
	return os.Lstat(filepath.Join(root, rel))
}
