package plan

import (
	"fmt"
	"net/url"
	"path"
	"strings"
)

// IsRemote reports whether a repository or key lives on the network;
// anything else is a path in the build context.
func IsRemote(loc string) bool {
	return strings.HasPrefix(loc, "https://") || strings.HasPrefix(loc, "http://")
}

// ContextPath maps a local repository, key or include to its path in the
// build context. Absolute paths are taken relative to the context root:
// BuildKit can read nothing else of the client's disk, and the host
// commands read the same tree under their --context directory.
func ContextPath(loc string) (string, error) {
	if strings.HasPrefix(loc, "file://") {
		u, err := url.Parse(loc)
		if err != nil {
			return "", err
		}
		loc = u.Path
	}
	p := path.Clean("/" + loc)
	if p == "/" {
		return "", fmt.Errorf("%q is the whole build context, not a file or directory in it", loc)
	}
	return strings.TrimPrefix(p, "/"), nil
}
