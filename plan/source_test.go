package plan

import (
	"context"
	"errors"
	"testing"
)

// cachingSource serves a damaged copy from its cache until asked to
// refetch, as BuildKit does with a half file sent under the real ETag.
type cachingSource struct {
	Source
	cached, fresh []byte
	refetches     int
}

func (s *cachingSource) Fetch(ctx context.Context, url, name string, max int64) ([]byte, error) {
	return s.cached, nil
}

func (s *cachingSource) Refetch(ctx context.Context, url, name string, max int64) ([]byte, error) {
	s.refetches++
	return s.fresh, nil
}

// plainSource caches nothing, so it has no Refetch.
type plainSource struct {
	Source
	cached []byte
}

func (s *plainSource) Fetch(ctx context.Context, url, name string, max int64) ([]byte, error) {
	return s.cached, nil
}

func TestFetchVerifiedRefetchesOnce(t *testing.T) {
	verify := func(b []byte) error {
		if string(b) != "good" {
			return errors.New("does not verify")
		}
		return nil
	}
	tests := []struct {
		name          string
		src           Source
		wantErr       bool
		wantRefetches int
	}{
		{"good copy cached", &cachingSource{cached: []byte("good")}, false, 0},
		{"damaged copy cached, fresh one good", &cachingSource{cached: []byte("half"), fresh: []byte("good")}, false, 1},
		{"damaged both times", &cachingSource{cached: []byte("half"), fresh: []byte("bad")}, true, 1},
		{"a source without a cache fetches once", &plainSource{cached: []byte("half")}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fetchVerified(t.Context(), tt.src, "http://x/y", "y", 10, verify)
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error %v", err, tt.wantErr)
			}
			var n int
			if s, ok := tt.src.(*cachingSource); ok {
				n = s.refetches
			}
			if n != tt.wantRefetches {
				t.Errorf("%d refetches, want %d", n, tt.wantRefetches)
			}
		})
	}
}
