package frontend

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// fetchPolicy bounds each download kiln asks BuildKit for (an index, a
// key, a package). BuildKit's HTTP source has no timeout of its own, so a
// server that accepts a connection and never answers would hold the build
// forever; and it does not retry, so one 503 from a busy mirror would fail
// it. A GET is idempotent, so kiln retries what may pass (5xx answers,
// resets, bodies cut short) with backoff, and gives up on the rest at once.
type fetchPolicy struct {
	// timeout is how long one attempt may take, plus size/minRate for a
	// file of known size.
	timeout  time.Duration
	minRate  int64 // bytes per second
	attempts int
	backoff  time.Duration // before the second attempt, doubling after
}

// Defaults: a small file gets two minutes per attempt, a large one more
// at 256 KiB/s; three attempts, one and two seconds apart.
const (
	defaultFetchTimeout = 2 * time.Minute
	fetchMinRate        = 256 << 10
	fetchAttempts       = 3
	fetchBackoff        = time.Second
)

func newFetchPolicy(timeout time.Duration) fetchPolicy {
	if timeout <= 0 {
		timeout = defaultFetchTimeout
	}
	return fetchPolicy{timeout: timeout, minRate: fetchMinRate, attempts: fetchAttempts, backoff: fetchBackoff}
}

// limit is how long one attempt at a file of size bytes (0: unknown) may
// take.
func (p fetchPolicy) limit(size uint64) time.Duration {
	return p.timeout + time.Duration(size/uint64(p.minRate))*time.Second
}

// do runs fetch (one attempt, bounded by the limit for size) until it
// succeeds, fails for good or has had every attempt. Its errors name url:
// the last attempt's error, or the limit that ran out.
//
// BuildKit remembers a failed source for the rest of the build, so asking
// again for the same download only repeats its error: fetch is given a
// fresh refetch token (plan2llb.HTTPSource) for every attempt after the
// first, and first for the first.
func (p fetchPolicy) do(ctx context.Context, url string, size uint64, first string, fetch func(ctx context.Context, refetch string) error) error {
	limit := p.limit(size)
	refetch := first
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			refetch = refetchToken()
		}
		actx, cancel := context.WithTimeout(ctx, limit)
		err := fetch(actx, refetch)
		timedOut := errors.Is(actx.Err(), context.DeadlineExceeded)
		cancel()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case timedOut:
			// A server that stalled once will likely stall again: a
			// retry would only double the wait.
			return &FetchError{URL: url, Msg: fmt.Sprintf("no complete answer within %s (build arg KILN_FETCH_TIMEOUT sets the time allowed)", limit)}
		}
		if fe := newFetchError(url, err); !transient(fe.Msg) || attempt == p.attempts {
			fe.Attempts = attempt
			return fe
		}
		select {
		case <-time.After(p.backoff << (attempt - 1)):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// fetchErrorText is what BuildKit said about a failed download, without
// the solver's wording around it.
func fetchErrorText(err error) string {
	msg := err.Error()
	for _, p := range []string{"failed to load cache key: ", "failed to compute cache key: "} {
		if i := strings.LastIndex(msg, p); i >= 0 {
			msg = msg[i+len(p):]
		}
	}
	// Go's client repeats the URL the error is already about.
	return requestPrefix.ReplaceAllString(msg, "")
}

var requestPrefix = regexp.MustCompile(`^(Get|Head) "[^"]*": `)

// transientFailure matches what a retry may cure: a server error (5xx) or
// a connection that broke. A 4xx answer, a refused connection or a bad
// URL will not change in a few seconds.
var transientFailure = regexp.MustCompile(`invalid response status 5\d\d|unexpected EOF|connection reset|broken pipe|server closed idle connection|TLS handshake timeout|i/o timeout|^EOF$`)

func transient(msg string) bool { return transientFailure.MatchString(msg) }

// looksLikeHTML spots an error page served with 200 OK in place of a
// file: none of the files kiln fetches (gzip, PEM) starts with '<'.
func looksLikeHTML(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n\ufeff")
	return len(b) > 0 && b[0] == '<'
}

// refetchToken names a fresh copy for BuildKit's cache (see
// plan2llb.HTTPSource).
func refetchToken() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
