package integration

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fault is how the repository server misbehaves for one file.
type fault string

const (
	faultNone        fault = ""
	fault500         fault = "500"          // Internal Server Error, every time
	fault503Once     fault = "503-once"     // Service Unavailable, then well
	faultTruncated   fault = "truncated"    // the real headers, half the body, then the connection closes
	faultShortLength fault = "short-length" // the real headers but Content-Length of half the file: a complete-looking half
	faultStall       fault = "stall"        // accepts the request and never answers
	faultReset       fault = "reset"        // the connection is reset before any answer
	faultHTML        fault = "html"         // 200 with an HTML error page (a proxy's, a captive portal's)
)

// faultServer serves a directory on a loopback port as a web server with
// ETags would (BuildKit revalidates with them), except for the files a
// test makes it misbehave on.
type faultServer struct {
	t    *testing.T
	dir  string
	ln   net.Listener
	srv  *http.Server
	stop chan struct{} // closed at cleanup: releases stalled requests

	mu        sync.Mutex
	faults    map[string]fault // by path suffix
	hits      map[string]int   // requests per path
	abandoned map[string]int   // stalled requests the client gave up, per path
}

func newFaultServer(t *testing.T, dir string) *faultServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &faultServer{t: t, dir: dir, ln: ln, stop: make(chan struct{}), faults: map[string]fault{}, hits: map[string]int{}, abandoned: map[string]int{}}
	s.srv = &http.Server{Handler: s}
	go s.srv.Serve(ln)
	t.Cleanup(func() {
		close(s.stop)
		s.srv.Close()
	})
	return s
}

// url is the server's address for a path under its directory.
func (s *faultServer) url(p string) string {
	return "http://" + s.ln.Addr().String() + "/" + strings.TrimPrefix(p, "/")
}

// set makes requests for paths ending in suffix misbehave (faultNone:
// behave again).
func (s *faultServer) set(suffix string, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == faultNone {
		delete(s.faults, suffix)
		return
	}
	s.faults[suffix] = f
}

// requests says how many requests paths ending in suffix got.
func (s *faultServer) requests(suffix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.hits {
		if strings.HasSuffix(p, suffix) {
			n += c
		}
	}
	return n
}

// abandonedRequests says how many stalled requests for paths ending in
// suffix the client closed.
func (s *faultServer) abandonedRequests(suffix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.abandoned {
		if strings.HasSuffix(p, suffix) {
			n += c
		}
	}
	return n
}

func (s *faultServer) faultFor(p string) fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits[p]++
	for suffix, f := range s.faults {
		if strings.HasSuffix(p, suffix) {
			if f == fault503Once {
				delete(s.faults, suffix)
				return fault503Once
			}
			return f
		}
	}
	return faultNone
}

func (s *faultServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := path.Clean(r.URL.Path)
	f := s.faultFor(p)
	switch f {
	case fault500:
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	case fault503Once:
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	case faultHTML:
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body><h1>Please log in to the network</h1></body></html>\n")
		return
	case faultStall:
		select {
		case <-s.stop:
		case <-r.Context().Done():
			s.mu.Lock()
			s.abandoned[p]++
			s.mu.Unlock()
		}
		return
	case faultReset:
		conn := s.hijack(w)
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // close sends RST
		}
		conn.Close()
		return
	}
	data, err := os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(p)))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(data)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	switch f {
	case faultTruncated, faultShortLength:
		conn := s.hijack(w)
		defer conn.Close()
		bw := bufio.NewWriter(conn)
		length := len(data)
		if f == faultShortLength {
			length = len(data) / 2
		}
		fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nETag: %s\r\nLast-Modified: %s\r\nConnection: close\r\n\r\n",
			length, etag, time.Unix(0, 0).UTC().Format(http.TimeFormat))
		if r.Method != http.MethodHead {
			bw.Write(data[:len(data)/2])
		}
		bw.Flush()
		return
	}
	w.Header().Set("ETag", etag)
	http.ServeContent(w, r, p, time.Unix(0, 0), strings.NewReader(string(data)))
}

func (s *faultServer) hijack(w http.ResponseWriter) net.Conn {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.t.Errorf("hijack: %v", err)
		return nil
	}
	return conn
}
