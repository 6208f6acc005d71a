package frontend

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFetchPolicy(t *testing.T) {
	p := fetchPolicy{timeout: 50 * time.Millisecond, minRate: 1 << 20, attempts: 3, backoff: time.Millisecond}
	const url = "http://127.0.0.1:1/x/APKINDEX.tar.gz"
	tests := []struct {
		name     string
		errs     []string // what each attempt fails with; "" succeeds, "stall" waits for the deadline
		wantErr  string
		attempts int
	}{
		{"first attempt", []string{""}, "", 1},
		{"503 then well", []string{"failed to load cache key: invalid response status 503", ""}, "", 2},
		{"reset then cut short then well", []string{`Get "x": read: connection reset by peer`, "unexpected EOF", ""}, "", 3},
		{"reset every time", []string{`Get "` + url + `": read: connection reset by peer`, "read: connection reset by peer", `Get "` + url + `": read: connection reset by peer`},
			"fetch " + url + ": read: connection reset by peer (after 3 attempts)", 3},
		{"500 every time", []string{"invalid response status 500", "invalid response status 500", "invalid response status 500"},
			"fetch " + url + ": HTTP 500 Internal Server Error (after 3 attempts)", 3},
		{"404 at once", []string{"failed to load cache key: invalid response status 404"}, "fetch " + url + ": HTTP 404 Not Found", 1},
		{"stall", []string{"stall"}, "fetch " + url + ": no complete answer within 50ms", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			seen := map[string]bool{}
			err := p.do(t.Context(), url, 0, "", func(ctx context.Context, refetch string) error {
				if seen[refetch] || n == 0 && refetch != "" {
					t.Errorf("attempt %d asks for download %q again", n+1, refetch)
				}
				seen[refetch] = true
				e := tt.errs[n]
				n++
				switch e {
				case "":
					return nil
				case "stall":
					<-ctx.Done()
					return ctx.Err()
				}
				return errors.New(e)
			})
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if n != tt.attempts {
				t.Errorf("%d attempts, want %d", n, tt.attempts)
			}
		})
	}
}

// A large file gets time in proportion to its size.
func TestFetchPolicyLimit(t *testing.T) {
	p := newFetchPolicy(0)
	if got := p.limit(0); got != defaultFetchTimeout {
		t.Errorf("limit(0) = %s", got)
	}
	if got, want := p.limit(512<<20), defaultFetchTimeout+2048*time.Second; got != want {
		t.Errorf("limit(512 MiB) = %s, want %s", got, want)
	}
}

func TestLooksLikeHTML(t *testing.T) {
	for in, want := range map[string]bool{
		"<html><body>login</body></html>": true,
		"\n  <!DOCTYPE html>":             true,
		"\x1f\x8b\x08\x00":                false,
		"-----BEGIN PUBLIC KEY-----":      false,
		"":                                false,
	} {
		if got := looksLikeHTML([]byte(in)); got != want {
			t.Errorf("looksLikeHTML(%q) = %v", in, got)
		}
	}
}
