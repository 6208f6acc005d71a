package plan

import (
	"context"
	"path"
	"slices"
)

// contextIndex is the build-context path of the repository's index for
// arch; the repository must be in the build context.
func (r Repository) contextIndex(arch string) string {
	return path.Join(r.ContextDir, arch, "APKINDEX.tar.gz")
}

// contextFilesOf are the keys and indexes a request reads from the build
// context: planning reads them ahead, together.
func contextFilesOf(req *Request, archs []string) []string {
	var paths []string
	for _, e := range req.Keyring {
		if IsRemote(e.Value) {
			continue
		}
		if p, err := ContextPath(e.Value); err == nil {
			paths = append(paths, p)
		}
	}
	for _, r := range req.Repositories {
		if r.ContextDir == "" {
			continue
		}
		for _, a := range archs {
			paths = append(paths, r.contextIndex(a))
		}
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}

// contextFiles are build-context files read ahead of the reads that need
// them. Through BuildKit every read of the context is a transfer from the
// client, a round trip or more (more still to a remote builder); keys and
// indexes sit side by side and are wanted one after the other, so one
// read serves both.
type contextFiles map[string][]byte

// readAhead reads paths from the build context in one read. It returns
// nil when that read fails: the reads that need the files then make their
// own, whose errors name the config entry a missing file is for.
func readAhead(ctx context.Context, src Source, paths []string) contextFiles {
	if len(paths) < 2 {
		return nil
	}
	files, err := src.ReadContext(ctx, paths, MaxIndexBytes)
	if err != nil {
		return nil
	}
	return files
}

// read returns paths as src.ReadContext(ctx, paths, max) would, from the
// files read ahead when it holds them all, each within max; otherwise
// through src.
func (pre contextFiles) read(ctx context.Context, src Source, paths []string, max int64) (map[string][]byte, error) {
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		dt, ok := pre[p]
		if !ok || int64(len(dt)) > max {
			return src.ReadContext(ctx, paths, max)
		}
		out[p] = dt
	}
	return out, nil
}
