package plan

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/shlex"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Environment defaults apko sets when a config leaves them out.
var defaultEnv = map[string]string{
	"PATH":          "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin",
	"SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
}

// ImageConfigInput is the image-config part of an apko config, already
// validated, for one platform.
type ImageConfigInput struct {
	Platform          ocispecs.Platform
	Epoch             time.Time
	EntrypointCommand string // split like a shell would (apko uses shlex)
	ShellFragment     string // becomes /bin/sh -c FRAGMENT
	Cmd               string
	WorkDir           string
	User              string // run-as, already resolved to a uid when it names a configured user
	StopSignal        string
	Environment       map[string]string
	Volumes           []string
	Annotations       map[string]string
	VCSURL            string   // "url@revision" adds the OCI source/revision labels
	History           []string // one comment per layer, bottom first
}

// Labels returns the image labels, which apko also uses as manifest
// annotations: the config's annotations, the VCS source and revision, and
// the creation time.
func (in ImageConfigInput) Labels() map[string]string {
	labels := map[string]string{}
	for k, v := range in.Annotations {
		labels[k] = v
	}
	if url, rev, ok := strings.Cut(in.VCSURL, "@"); ok {
		labels["org.opencontainers.image.source"] = url
		labels["org.opencontainers.image.revision"] = rev
	}
	labels["org.opencontainers.image.created"] = in.Epoch.UTC().Format(time.RFC3339)
	return labels
}

// ImageConfig builds the OCI image config kiln returns for one platform.
func ImageConfig(in ImageConfigInput) (*dockerspec.DockerOCIImage, error) {
	created := in.Epoch.UTC()
	img := &dockerspec.DockerOCIImage{}
	img.Created = &created
	img.Author = "kiln"
	img.Platform = in.Platform
	img.OS = "linux"
	img.RootFS.Type = "layers"

	switch {
	case in.ShellFragment != "":
		img.Config.Entrypoint = []string{"/bin/sh", "-c", in.ShellFragment}
	case in.EntrypointCommand != "":
		args, err := shlex.Split(in.EntrypointCommand)
		if err != nil {
			return nil, fmt.Errorf("entrypoint command %q: %w", in.EntrypointCommand, err)
		}
		img.Config.Entrypoint = args
	}
	if in.Cmd != "" {
		args, err := shlex.Split(in.Cmd)
		if err != nil {
			return nil, fmt.Errorf("cmd %q: %w", in.Cmd, err)
		}
		img.Config.Cmd = args
	}
	img.Config.WorkingDir = in.WorkDir
	img.Config.User = in.User
	img.Config.StopSignal = in.StopSignal

	env := map[string]string{}
	for k, v := range defaultEnv {
		env[k] = v
	}
	for k, v := range in.Environment {
		env[k] = v
	}
	for k, v := range env {
		img.Config.Env = append(img.Config.Env, k+"="+v)
	}
	sort.Strings(img.Config.Env)

	if len(in.Volumes) > 0 {
		img.Config.Volumes = map[string]struct{}{}
		for _, v := range in.Volumes {
			img.Config.Volumes[v] = struct{}{}
		}
	}
	img.Config.Labels = in.Labels()

	// One history entry per layer, in place of the exporter's default
	// (which would name LLB ops), so `docker history` says what is where.
	for _, comment := range in.History {
		img.History = append(img.History, ocispecs.History{
			Created:   &created,
			CreatedBy: comment,
			Author:    "kiln",
			Comment:   "kiln",
		})
	}
	return img, nil
}
