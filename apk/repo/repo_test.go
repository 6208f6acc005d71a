package repo

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-build/kiln/internal/testkit"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		in      string
		want    Repository
		wantErr string
	}{
		{"https://packages.wolfi.dev/os", Repository{Base: "https://packages.wolfi.dev/os"}, ""},
		{"https://packages.wolfi.dev/os/", Repository{Base: "https://packages.wolfi.dev/os"}, ""},
		{"@local /work/packages", Repository{Tag: "local", Base: "/work/packages"}, ""},
		{"./packages", Repository{Base: "./packages"}, ""},
		{"file:///srv/repo", Repository{Base: "file:///srv/repo"}, ""},
		{"@ x", Repository{}, "want"},
		{"@tag", Repository{}, "want"},
		{"a b", Repository{}, "want"},
		{"", Repository{}, "want"},
		{"ftp://x/y", Repository{}, "unsupported scheme"},
	}
	for _, tt := range tests {
		got, err := ParseLine(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.in) {
				t.Errorf("ParseLine(%q) err = %v, want %q quoting the input", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseLine(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if again, _ := ParseLine(got.String()); again != got {
			t.Errorf("String round trip of %q: %+v", tt.in, again)
		}
	}
}

func TestFetcherOpen(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("file body"), 0o644)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ok" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "http body")
	}))
	defer srv.Close()

	f := &Fetcher{}
	tests := []struct {
		loc, want, wantErr string
	}{
		{filepath.Join(dir, "f"), "file body", ""},
		{"file://" + filepath.Join(dir, "f"), "file body", ""},
		{srv.URL + "/ok", "http body", ""},
		{srv.URL + "/missing", "", "404"},
		{filepath.Join(dir, "missing"), "", "no such file"},
	}
	for _, tt := range tests {
		rc, err := f.Open(context.Background(), tt.loc)
		if testkit.ErrorCase(t, err, tt.wantErr) {
			continue
		}
		if err != nil {
			t.Fatalf("Open(%s): %v", tt.loc, err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != tt.want {
			t.Errorf("Open(%s) read %q", tt.loc, b)
		}
	}
}
