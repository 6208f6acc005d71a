package frontend

import (
	"context"

	"github.com/kiln-build/kiln/config/apko"
	"github.com/kiln-build/kiln/imagefs"
	kllb "github.com/kiln-build/kiln/llb"
)

// maxConfigBytes bounds included config files read from the context.
const maxConfigBytes = 4 << 20

// loadApko parses the entrypoint YAML, reading included files from the
// build context relative to it, and turns it into an imageRequest.
func (b *builder) loadApko(ctx context.Context, data []byte) (*imageRequest, error) {
	readFile := func(name string) ([]byte, error) {
		if name == b.file {
			return data, nil
		}
		p, err := contextPath(name)
		if err != nil {
			return nil, err
		}
		files, err := b.contextFiles(ctx, []string{p}, maxConfigBytes)
		if err != nil {
			return nil, err
		}
		return files[p], nil
	}
	cfg, err := apko.Load(b.file, readFile)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return requestFromApko(cfg)
}

// requestFromApko maps an apko config onto what kiln builds, with apko's
// meaning: `repositories` are used to resolve and are written to the
// image, `build_repositories` only resolve, `runtime_repositories` are
// only written.
func requestFromApko(cfg *apko.Config) (*imageRequest, error) {
	c := cfg.Contents
	if c.BaseImage != nil {
		return nil, c.BaseImage.Pos.Errorf("contents.baseimage: building on a base image is not supported by kiln yet")
	}
	if len(c.RuntimeKeyring) > 0 {
		return nil, c.Pos.Errorf("contents.runtime_keyring: not supported by kiln yet")
	}
	if cfg.Certificates != nil {
		return nil, cfg.Certificates.Pos.Errorf("certificates: not supported by kiln yet")
	}
	if cfg.Entrypoint.Type.Value != "" {
		return nil, cfg.Entrypoint.Type.Pos.Errorf("entrypoint.type %q: service bundles are not supported by kiln yet", cfg.Entrypoint.Type.Value)
	}
	if cfg.Format.Value != "" && cfg.Format.Value != "tar" {
		return nil, cfg.Format.Pos.Errorf("format %q: kiln builds tar layers only", cfg.Format.Value)
	}
	req := &imageRequest{File: cfg.File}
	for _, r := range c.Repositories {
		req.ResolveRepositories = append(req.ResolveRepositories, repoEntry(r))
		req.RuntimeRepositories = append(req.RuntimeRepositories, r.Value)
	}
	for _, r := range c.BuildRepositories {
		req.ResolveRepositories = append(req.ResolveRepositories, repoEntry(r))
	}
	for _, r := range c.RuntimeRepositories {
		req.RuntimeRepositories = append(req.RuntimeRepositories, r.Value)
	}
	for _, k := range c.Keyring {
		req.Keyring = append(req.Keyring, located{Value: k.Value, Pos: k.Pos.String()})
	}
	for _, p := range c.Packages {
		req.Packages = append(req.Packages, located{Value: p.Value, Pos: p.Pos.String()})
	}
	if len(req.Packages) == 0 {
		return nil, c.Pos.Errorf("contents.packages: nothing to install")
	}
	for _, a := range cfg.Archs {
		req.Archs = append(req.Archs, a.Name)
	}
	if l := cfg.Layering; l != nil {
		req.Layering = kllb.Layering{Strategy: l.Strategy.Value, Budget: l.Budget.Value}
		if req.Layering.Strategy == "" {
			req.Layering.Strategy = "origin"
		}
	}
	for _, u := range cfg.Accounts.Users {
		user := imagefs.User{Name: u.UserName.Value, Shell: u.Shell.Value, HomeDir: u.HomeDir.Value}
		if u.UID != nil {
			user.UID = u.UID.Value
		}
		if u.GID != nil {
			gid := u.GID.Value
			user.GID = &gid
		}
		req.Accounts.Users = append(req.Accounts.Users, user)
	}
	for _, g := range cfg.Accounts.Groups {
		grp := imagefs.Group{Name: g.GroupName.Value, GID: g.GID.Value}
		for _, m := range g.Members {
			grp.Members = append(grp.Members, m.Value)
		}
		req.Accounts.Groups = append(req.Accounts.Groups, grp)
	}
	req.RunAs = cfg.Accounts.RunAs.Value
	for _, p := range cfg.Paths {
		ip := imagefs.Path{Path: p.Path.Value, Type: p.Type.Value, Permissions: p.Permissions.Value,
			Source: p.Source.Value, Recursive: p.Recursive.Value}
		if p.UID != nil {
			uid := p.UID.Value
			ip.UID = &uid
		}
		if p.GID != nil {
			gid := p.GID.Value
			ip.GID = &gid
		}
		req.Paths = append(req.Paths, ip)
	}
	env := map[string]string{}
	for _, kv := range cfg.Environment {
		env[kv.Key.Value] = kv.Value.Value
	}
	ann := map[string]string{}
	for _, kv := range cfg.Annotations {
		ann[kv.Key.Value] = kv.Value.Value
	}
	var volumes []string
	for _, v := range cfg.Volumes {
		volumes = append(volumes, v.Value)
	}
	req.Image = kllb.ImageConfigInput{
		EntrypointCommand: cfg.Entrypoint.Command.Value,
		ShellFragment:     cfg.Entrypoint.ShellFragment.Value,
		Cmd:               cfg.Cmd.Value,
		WorkDir:           cfg.WorkDir.Value,
		StopSignal:        cfg.StopSignal.Value,
		Environment:       env,
		Volumes:           volumes,
		Annotations:       ann,
		VCSURL:            cfg.VCSURL.Value,
	}
	return req, nil
}

func repoEntry(r apko.Repository) located {
	line := r.URL
	if r.Tag != "" {
		line = "@" + r.Tag + " " + r.URL
	}
	return located{Value: line, Pos: r.Pos.String()}
}
