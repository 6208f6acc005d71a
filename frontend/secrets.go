package frontend

import (
	"net/url"
	"sort"

	"github.com/moby/buildkit/frontend/subrequests/outline"

	"github.com/kiln-build/kiln/plan"
)

// authHeaderPrefix names the secret BuildKit's HTTP source sends as the
// Authorization header of every request to a host (source/http: the
// secret HTTP_AUTH_HEADER_<hostname>, when the client has one). kiln
// fetches every key, index and package as an LLB HTTP source, so
// `--secret id=HTTP_AUTH_HEADER_<host>` authenticates them all: the value
// never enters the LLB, a cache key, a layer, the provenance or the log.
const authHeaderPrefix = "HTTP_AUTH_HEADER_"

// authSecretID is the secret that authenticates requests for rawURL.
func authSecretID(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return authHeaderPrefix + "<host>"
	}
	return authHeaderPrefix + u.Hostname()
}

// authSecrets lists, for --call outline, the secrets that would
// authenticate the config's remote keys and repositories: optional, one
// per host.
func authSecrets(req *plan.Request) []outline.Secret {
	seen := map[string]bool{}
	add := func(loc string) {
		if plan.IsRemote(loc) {
			seen[authSecretID(loc)] = true
		}
	}
	for _, r := range req.Repositories {
		add(r.Repo.Base)
	}
	for _, k := range req.Keyring {
		add(k.Value)
	}
	var out []outline.Secret
	for id := range seen {
		out = append(out, outline.Secret{Name: id})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
