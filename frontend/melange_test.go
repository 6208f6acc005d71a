package frontend

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// dirRef is a client.Reference reading a host directory, as BuildKit
// reads a solved context.
type dirRef struct{ root string }

func (r dirRef) ToState() (llb.State, error)    { return llb.State{}, errors.ErrUnsupported }
func (r dirRef) Evaluate(context.Context) error { return nil }

func (r dirRef) ReadFile(_ context.Context, req client.ReadRequest) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(r.root, req.Filename))
	if err != nil || req.Range == nil {
		return data, err
	}
	start := min(req.Range.Offset, len(data))
	return data[start:min(start+req.Range.Length, len(data))], nil
}

func (r dirRef) StatFile(_ context.Context, req client.StatRequest) (*fstypes.Stat, error) {
	fi, err := os.Lstat(filepath.Join(r.root, req.Path))
	if err != nil {
		return nil, err
	}
	return &fstypes.Stat{Path: fi.Name(), Mode: uint32(fi.Mode()), Size: fi.Size()}, nil
}

func (r dirRef) ReadDir(_ context.Context, req client.ReadDirRequest) ([]*fstypes.Stat, error) {
	entries, err := os.ReadDir(filepath.Join(r.root, req.Path))
	if err != nil {
		return nil, err
	}
	var out []*fstypes.Stat
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			return nil, err
		}
		out = append(out, &fstypes.Stat{Path: fi.Name(), Mode: uint32(fi.Mode()), Size: fi.Size()})
	}
	return out, nil
}

// TestRefFSWalk checks that the pipeline directory read from the build
// context lists its definitions (for "did you mean") and reads them.
func TestRefFSWalk(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"pipelines/local/build.yaml": "pipeline:\n  - runs: make\n",
		"pipelines/go/test.yaml":     "pipeline:\n  - runs: go test\n",
		"pipelines/README.md":        "not a definition\n",
		"other/outside.yaml":         "pipeline: []\n",
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := &refFS{ctx: context.Background(), ref: dirRef{root}, dir: "pipelines"}
	var walked []string
	err := fs.WalkDir(f, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			walked = append(walked, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"README.md", "go/test.yaml", "local/build.yaml"}; !slices.Equal(walked, want) {
		t.Errorf("walked %q, want %q", walked, want)
	}
	for _, tt := range []struct {
		name, want string
		err        error
	}{
		{"local/build.yaml", files["pipelines/local/build.yaml"], nil},
		{"local/nope.yaml", "", fs.ErrNotExist},
		{"../other/outside.yaml", "", fs.ErrInvalid},
	} {
		data, err := fs.ReadFile(f, tt.name)
		if string(data) != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ReadFile(%s) = %q, %v; want %q, %v", tt.name, data, err, tt.want, tt.err)
		}
	}
	if _, err := f.ReadDir("../other"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("ReadDir(../other) = %v, want %v", err, fs.ErrInvalid)
	}
}
