package plan

import (
	"context"
	"fmt"
	"slices"

	"github.com/kiln-build/kiln/apk/repo"
	"github.com/kiln-build/kiln/apk/version"
	"github.com/kiln-build/kiln/config/apko"
	"github.com/kiln-build/kiln/plan/lockfile"
	"github.com/kiln-build/kiln/step"
)

// Request is what building an image needs from an apko config, with apko's
// meaning and every value's position.
type Request struct {
	File   string
	Config *apko.Config
	// ConfigChecksum covers the bytes of the config and of what it
	// includes, as a lockfile records them (lockfile.ConfigChecksum).
	ConfigChecksum string

	// Repositories are searched for packages (repositories, then
	// build_repositories); RuntimeRepositories are what the image's
	// /etc/apk/repositories lists (repositories, then runtime_repositories).
	Repositories        []Repository
	RuntimeRepositories []string
	Keyring             []apko.Str
	Packages            []apko.Package
	Archs               []apko.Arch // empty: the builder's platform

	Layering Layering
	Accounts step.Accounts
	RunAs    string
	Paths    []step.Path
	Image    ImageConfigInput // platform, epoch and layers are filled per platform

	RuntimeKeys  []step.NamedFile
	Certificates *step.Certificates
	Services     []step.Service

	// Base is the image the packages go on top of (contents.baseimage);
	// nil for an image of packages only.
	Base *BaseImageRequest
}

// A service bundle: s6-svscan supervises one directory per service.
const (
	serviceBundle = "service-bundle"
	s6Package     = "s6"
	s6Entrypoint  = "/bin/s6-svscan /sv"
)

// Repository is a config's repository entry as a build reaches it.
type Repository struct {
	Entry apko.Repository
	Repo  repo.Repository
	// ContextDir is the repository's directory in the build context; ""
	// for a remote repository.
	ContextDir string
}

// Load parses file (data is its content), follows its includes through
// src (resolved against the build context root, as apko resolves them
// against its working directory), validates it and maps it to a Request.
func Load(ctx context.Context, file string, data []byte, src Source) (*Request, error) {
	// Includes are read with the same bound.
	if len(data) > MaxConfigBytes {
		return nil, fmt.Errorf("%s: %d bytes; kiln reads configs of up to %d bytes", file, len(data), MaxConfigBytes)
	}
	var read [][]byte // in reading order, for the checksum
	readFile := func(name string) ([]byte, error) {
		if name == file {
			read = append(read, data)
			return data, nil
		}
		p, err := ContextPath(name)
		if err != nil {
			return nil, err
		}
		files, err := src.ReadContext(ctx, []string{p}, MaxConfigBytes)
		if err != nil {
			return nil, err
		}
		read = append(read, files[p])
		return files[p], nil
	}
	cfg, err := apko.Load(file, readFile)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	req, err := FromApko(cfg)
	if err != nil {
		return nil, err
	}
	req.ConfigChecksum = lockfile.ConfigChecksum(read...)
	return req, nil
}

// FromApko maps a loaded, validated apko config onto what kiln builds:
// `repositories` are used to resolve and are written to the image,
// `build_repositories` only resolve, `runtime_repositories` are only
// written. What kiln cannot build is refused here, at its line, for the
// frontend and the host commands alike.
func FromApko(cfg *apko.Config) (*Request, error) {
	c := cfg.Contents
	if cfg.Format.Value != "" && cfg.Format.Value != "tar" {
		return nil, cfg.Format.Pos.Errorf("format %q: kiln builds tar layers only", cfg.Format.Value)
	}
	req := &Request{File: cfg.File, Config: cfg, Keyring: c.Keyring, Packages: c.Packages, Archs: cfg.Archs}
	if c.BaseImage != nil {
		var err error
		if req.Base, err = baseImageRequest(c.BaseImage); err != nil {
			return nil, err
		}
	}
	for _, r := range c.Repositories {
		rr, err := repository(r)
		if err != nil {
			return nil, err
		}
		req.Repositories = append(req.Repositories, rr)
		req.RuntimeRepositories = append(req.RuntimeRepositories, r.Value)
	}
	for _, r := range c.BuildRepositories {
		rr, err := repository(r)
		if err != nil {
			return nil, err
		}
		req.Repositories = append(req.Repositories, rr)
	}
	for _, r := range c.RuntimeRepositories {
		req.RuntimeRepositories = append(req.RuntimeRepositories, r.Value)
	}
	// apko needs a repository even with nothing to install from it.
	if len(req.Repositories) == 0 {
		return nil, c.Pos.Errorf("contents: no repositories to install packages from (add one to repositories or build_repositories)")
	}
	for _, k := range c.RuntimeKeyring {
		req.RuntimeKeys = append(req.RuntimeKeys, step.NamedFile{Name: k.Name.Value, Content: k.Content.Value})
	}
	if cc := cfg.Certificates; cc != nil {
		req.Certificates = &step.Certificates{}
		for _, a := range cc.Additional {
			req.Certificates.Additional = append(req.Certificates.Additional, step.NamedFile{Name: a.Name.Value, Content: a.Content.Value})
		}
		for _, p := range cc.Providers {
			req.Certificates.Providers = append(req.Certificates.Providers, p.Value)
		}
	}
	entrypoint := cfg.Entrypoint.Command.Value
	for _, kv := range cfg.Entrypoint.Services {
		req.Services = append(req.Services, step.Service{Name: kv.Key.Value, Command: kv.Value.Value})
	}
	if cfg.Entrypoint.Type.Value == serviceBundle {
		// As apko: s6 supervises the bundle's services and is its entrypoint.
		entrypoint = s6Entrypoint
		dep, err := version.ParseDependency(s6Package)
		if err != nil {
			return nil, err
		}
		req.Packages = append(slices.Clone(req.Packages), apko.Package{Value: s6Package, Pos: cfg.Entrypoint.Type.Pos, Dep: dep})
	}
	if l := cfg.Layering; l != nil {
		req.Layering = Layering{Strategy: l.Strategy.Value, Budget: l.Budget.Value}
		if req.Layering.Strategy == "" {
			req.Layering.Strategy = "origin"
		}
	}
	req.Accounts = accounts(cfg.Accounts)
	req.RunAs = cfg.Accounts.RunAs.Value
	for _, p := range cfg.Paths {
		ip := step.Path{Path: p.Path.Value, Type: p.Type.Value, Permissions: p.Permissions.Value,
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
	var volumes []string
	for _, v := range cfg.Volumes {
		volumes = append(volumes, v.Value)
	}
	req.Image = ImageConfigInput{
		EntrypointCommand: entrypoint,
		ShellFragment:     cfg.Entrypoint.ShellFragment.Value,
		Cmd:               cfg.Cmd.Value,
		WorkDir:           cfg.WorkDir.Value,
		StopSignal:        cfg.StopSignal.Value,
		Environment:       apko.Map(cfg.Environment),
		Volumes:           volumes,
		Annotations:       apko.Map(cfg.Annotations),
		VCSURL:            cfg.VCSURL.Value,
		User:              RunAsUID(cfg.Accounts.RunAs.Value, req.Accounts.Users),
	}
	return req, nil
}

// repository reads a repository entry the way apk reads a repositories
// line, and finds it in the build context when it is not remote.
func repository(e apko.Repository) (Repository, error) {
	line := e.URL
	if e.Tag != "" {
		line = "@" + e.Tag + " " + e.URL
	}
	r, err := repo.ParseLine(line)
	if err != nil {
		return Repository{}, e.Pos.Errorf("%v", err)
	}
	out := Repository{Entry: e, Repo: r}
	if !IsRemote(r.Base) {
		if out.ContextDir, err = ContextPath(r.Base); err != nil {
			return Repository{}, e.Pos.Errorf("repository: %v", err)
		}
	}
	return out, nil
}

func accounts(a apko.Accounts) step.Accounts {
	var out step.Accounts
	for _, u := range a.Users {
		user := step.User{Name: u.UserName.Value, Shell: u.Shell.Value, HomeDir: u.HomeDir.Value}
		if u.UID != nil {
			user.UID = u.UID.Value
		}
		if u.GID != nil {
			gid := u.GID.Value
			user.GID = &gid
		}
		out.Users = append(out.Users, user)
	}
	for _, g := range a.Groups {
		grp := step.Group{Name: g.GroupName.Value, GID: g.GID.Value}
		for _, m := range g.Members {
			grp.Members = append(grp.Members, m.Value)
		}
		out.Groups = append(out.Groups, grp)
	}
	return out
}

// RunAsUID resolves an apko run-as value the way apko does: a configured
// user name becomes its uid; anything else is kept as written.
func RunAsUID(runAs string, users []step.User) string {
	for _, u := range users {
		if u.Name == runAs {
			return fmt.Sprint(u.UID)
		}
	}
	return runAs
}
