package frontend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/grpcerrors"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/grpc/status"

	"github.com/kiln-build/kiln/config/yamlnode"
	"github.com/kiln-build/kiln/plan"
)

// yamlSources are the YAML files a build read, so that an error at a
// line of one of them reaches buildx as a BuildKit source error: buildx
// then prints that file's lines around the offending one, as it does for
// a Dockerfile instruction.
type yamlSources struct {
	main *llb.SourceMap // the config the build was given

	mu       sync.Mutex
	included map[string][]byte // by build-context path
}

func newYAMLSources(main *llb.SourceMap) *yamlSources {
	return &yamlSources{main: main, included: map[string][]byte{}}
}

// recordingSource is a plan.Source that keeps what it reads for the
// sources' table: plan.Load reads includes through it.
type recordingSource struct {
	plan.Source
	srcs *yamlSources
}

func (r recordingSource) ReadContext(ctx context.Context, paths []string, max int64) (map[string][]byte, error) {
	files, err := r.Source.ReadContext(ctx, paths, max)
	r.srcs.mu.Lock()
	defer r.srcs.mu.Unlock()
	for p, dt := range files {
		r.srcs.included[p] = dt
	}
	return files, err
}

// info returns the source info of a YAML file by the name a position
// gives it (the config's name, or an include as written), or nil.
func (s *yamlSources) info(file string) *pb.SourceInfo {
	if s == nil || s.main == nil {
		return nil
	}
	if file == s.main.Filename {
		return sourceInfo(s.main)
	}
	p, err := plan.ContextPath(file)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dt, ok := s.included[p]
	if !ok {
		return nil
	}
	return &pb.SourceInfo{Filename: file, Language: s.main.Language, Data: dt}
}

func sourceInfo(sm *llb.SourceMap) *pb.SourceInfo {
	si := &pb.SourceInfo{Filename: sm.Filename, Language: sm.Language, Data: sm.Data}
	if sm.Definition != nil {
		si.Definition = sm.Definition.ToPB()
	}
	return si
}

// lineRange is the range BuildKit shows for a position: from its column
// to the end of its line.
func lineRange(data []byte, pos yamlnode.Pos) *pb.Range {
	end := pos.Column
	if lines := bytes.Split(data, []byte("\n")); pos.Line <= len(lines) {
		end = len(strings.TrimRight(string(lines[pos.Line-1]), "\r"))
	}
	return &pb.Range{
		Start: &pb.Position{Line: int32(pos.Line), Character: int32(max(pos.Column-1, 0))},
		End:   &pb.Position{Line: int32(pos.Line), Character: int32(end)},
	}
}

// userError makes err what buildx shows the user: the message kiln wrote,
// with the YAML lines it is about when it names a position.
//
// An error with no position still names the config, with no lines: else
// BuildKit's dockerfile frontend, which started kiln for the "# syntax="
// line, would attach that line, as if it were at fault.
func (s *yamlSources) userError(err error) error {
	if err == nil || len(errdefs.Sources(err)) > 0 || s == nil || s.main == nil {
		return keepMessage(err)
	}
	src := &errdefs.Source{Info: sourceInfo(s.main)}
	var ye *yamlnode.Error
	if errors.As(err, &ye) && ye.Line > 0 {
		if info := s.info(ye.File); info != nil {
			src = &errdefs.Source{Info: info, Ranges: []*pb.Range{lineRange(info.Data, ye.Pos())}}
		}
	}
	return errdefs.WithSource(keepMessage(err), src)
}

// keepMessage keeps kiln's wording of err when it reaches BuildKit.
//
// An error that wraps a failed solve carries that solve's gRPC status;
// the gateway sends the status, and its message (say "failed to load
// cache key: invalid response status 404") would replace kiln's ("file:
// line:col: keyring: fetch URL: HTTP 404 Not Found"). The status's
// details (which step failed) are kept.
func keepMessage(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := grpcerrors.AsGRPCStatus(err); !ok {
		return err
	}
	return &messageError{err: err}
}

type messageError struct{ err error }

func (e *messageError) Error() string { return e.err.Error() }
func (e *messageError) Unwrap() error { return e.err }

func (e *messageError) GRPCStatus() *status.Status {
	st, ok := grpcerrors.AsGRPCStatus(e.err)
	if !ok || st == nil {
		return status.New(grpcerrors.Code(e.err), e.err.Error())
	}
	p := st.Proto()
	p.Message = e.err.Error()
	return status.FromProto(p)
}

// FetchError is a download that failed for good, as the user needs to
// see it: what was fetched and the HTTP status the server answered (or
// what went wrong), without BuildKit's cache-key wording. It does not wrap
// BuildKit's error, whose text BuildKit would print instead.
type FetchError struct {
	URL      string
	Status   int    // the HTTP status; 0 when no response came
	Msg      string // what went wrong when Status is 0
	Attempts int    // how many attempts were made, when more than one
}

var httpStatusRE = regexp.MustCompile(`invalid response status ([0-9]{3})`)

// newFetchError words err, BuildKit's failure to download url.
func newFetchError(url string, err error) *FetchError {
	fe := &FetchError{URL: url, Msg: fetchErrorText(err)}
	if m := httpStatusRE.FindStringSubmatch(fe.Msg); m != nil {
		fe.Status, _ = strconv.Atoi(m[1])
	}
	return fe
}

func (e *FetchError) Error() string {
	var msg string
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return fmt.Sprintf("fetch %s: HTTP %d %s (the server wants credentials: pass them with --secret id=%s, see kiln's README)",
			e.URL, e.Status, http.StatusText(e.Status), authSecretID(e.URL))
	case e.Status != 0:
		msg = fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	default:
		msg = e.Msg
	}
	if e.Attempts > 1 {
		msg += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return "fetch " + e.URL + ": " + msg
}

// packageFetchError words a failed image solve whose failing step is the
// download of a package: which package, from which repository entry (and
// its line), at which URL. Other errors are returned as they are.
func packageFetchError(err error, def *llb.Definition, p *plan.Platform) error {
	var fe *FetchError
	if errors.As(err, &fe) {
		return packageError(p, fe.URL, fe)
	}
	var ve *errdefs.VertexError
	if def == nil || !errors.As(err, &ve) {
		return err
	}
	for _, dt := range def.Def {
		if digest.FromBytes(dt).String() != ve.Digest {
			continue
		}
		var op pb.Op
		if op.UnmarshalVT(dt) == nil && op.GetSource() != nil {
			u, _, _ := strings.Cut(op.GetSource().Identifier, "#")
			return packageError(p, u, newFetchError(u, err))
		}
	}
	return err
}

// packageError puts err, about the download of url, at the repository
// entry of the package it is (err itself when no package is).
func packageError(p *plan.Platform, url string, err error) error {
	for _, pk := range p.Packages {
		if pk.URL(p.Arch) == url {
			return pk.Repository.Entry.Pos.Errorf("repository %s: package %s-%s (%s): %v",
				pk.Repository.Repo, pk.Name, pk.Version, p.Arch, err)
		}
	}
	return err
}
