package apko

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kiln-build/kiln/apk/arch"
	"github.com/kiln-build/kiln/apk/version"
	"github.com/kiln-build/kiln/config/yamlnode"
)

// Parse reads one apko configuration. It does not follow `include` (see
// Load) and does not run the whole-config checks (see Validate); every
// single value is checked here.
func Parse(file string, data []byte) (*Config, error) {
	root, err := yamlnode.Parse(file, data)
	if err != nil {
		return nil, err
	}
	p := &parser{d: yamlnode.NewDecoder(file)}
	c := &Config{File: file}
	if err := p.config(root, "", c); err != nil {
		return nil, err
	}
	return c, nil
}

// NodeOptions says how ParseNode reads a configuration embedded in
// another file.
type NodeOptions struct {
	// Path names the node in messages ("environment" makes errors read
	// "environment.contents.packages[0]: ...").
	Path string
	// Expand, when set, rewrites every string value (list items and
	// mapping values included, mapping keys not) before it is checked, so
	// a host format with its own templating (melange's ${{...}}) checks
	// the text that will be used. Its errors are returned as they are.
	Expand func(s Str, path string) (Str, error)
}

// ParseNode reads an apko configuration that is one value of a larger
// YAML document (melange's `environment`), already parsed, with d naming
// its file. Like Parse it neither follows `include` nor runs Validate.
// Config.File is d.File.
func ParseNode(d *yamlnode.Decoder, n *yaml.Node, opts NodeOptions) (*Config, error) {
	p := &parser{d: d, expand: opts.Expand}
	c := &Config{File: d.File}
	if err := p.config(n, opts.Path, c); err != nil {
		return nil, err
	}
	return c, nil
}

type parser struct {
	d      *yamlnode.Decoder
	expand func(s Str, path string) (Str, error)
}

// string decodes one string and applies the expansion hook.
func (p *parser) string(n *yaml.Node, path string) (Str, error) {
	s, err := p.d.String(n, path)
	if err != nil || p.expand == nil {
		return s, err
	}
	return p.expand(s, path)
}

// stringList decodes a list of strings and expands each item.
func (p *parser) stringList(n *yaml.Node, path string) ([]Str, error) {
	l, err := p.d.StringList(n, path)
	if err != nil || p.expand == nil {
		return l, err
	}
	for i := range l {
		if l[i], err = p.expand(l[i], yamlnode.Index(path, i)); err != nil {
			return nil, err
		}
	}
	return l, nil
}

type field = yamlnode.Field

func (p *parser) pos(n *yaml.Node) Pos { return p.d.Pos(yamlnode.Resolve(n)) }

func (p *parser) config(n *yaml.Node, path string, c *Config) error {
	return p.d.Mapping(n, path, yamlnode.Fields{
		"contents":     func(n *yaml.Node, path string) error { return p.contents(n, path, &c.Contents) },
		"entrypoint":   func(n *yaml.Node, path string) error { return p.entrypoint(n, path, &c.Entrypoint) },
		"cmd":          p.str(&c.Cmd, nil),
		"stop-signal":  p.str(&c.StopSignal, checkSignal),
		"work-dir":     p.str(&c.WorkDir, nil),
		"accounts":     func(n *yaml.Node, path string) error { return p.accounts(n, path, &c.Accounts) },
		"archs":        func(n *yaml.Node, path string) error { return p.archs(n, path, &c.Archs) },
		"environment":  p.kvs(&c.Environment, checkEnvKey),
		"paths":        func(n *yaml.Node, path string) error { return p.paths(n, path, &c.Paths) },
		"vcs-url":      p.str(&c.VCSURL, nil),
		"annotations":  p.kvs(&c.Annotations, checkNonEmptyKey),
		"include":      p.str(&c.Include, nil),
		"volumes":      p.strs(&c.Volumes, checkNonEmpty),
		"layering":     func(n *yaml.Node, path string) error { return p.layering(n, path, &c.Layering) },
		"format":       p.str(&c.Format, checkFormat),
		"certificates": func(n *yaml.Node, path string) error { return p.certificates(n, path, &c.Certificates) },
	})
}

// check validates one decoded string; path names it in the message.
type check func(s Str, path string) error

func (p *parser) str(dst *Str, ok check) field {
	return func(n *yaml.Node, path string) error {
		s, err := p.string(n, path)
		if err != nil {
			return err
		}
		if ok != nil {
			if err := ok(s, path); err != nil {
				return err
			}
		}
		*dst = s
		return nil
	}
}

func (p *parser) strs(dst *[]Str, ok check) field {
	return func(n *yaml.Node, path string) error {
		l, err := p.stringList(n, path)
		if err != nil {
			return err
		}
		if ok != nil {
			for i, s := range l {
				if err := ok(s, yamlnode.Index(path, i)); err != nil {
					return err
				}
			}
		}
		*dst = l
		return nil
	}
}

func (p *parser) kvs(dst *[]KV, keyOK check) field {
	return func(n *yaml.Node, path string) error {
		m, err := p.d.StringMap(n, path)
		if err != nil {
			return err
		}
		for i, kv := range m {
			if err := keyOK(kv.Key, path); err != nil {
				return err
			}
			if p.expand != nil {
				if m[i].Value, err = p.expand(kv.Value, yamlnode.Join(path, kv.Key.Value)); err != nil {
					return err
				}
			}
		}
		*dst = m
		return nil
	}
}

func (p *parser) uint32(dst **Uint32) field {
	return func(n *yaml.Node, path string) error {
		v, err := p.d.Uint32(n, path)
		if err != nil {
			return err
		}
		*dst = &Uint32{Value: v, Pos: p.pos(n)}
		return nil
	}
}

func (p *parser) contents(n *yaml.Node, path string, c *Contents) error {
	c.Pos = p.pos(n)
	repos := func(dst *[]Repository) field {
		return func(n *yaml.Node, path string) error {
			l, err := p.stringList(n, path)
			if err != nil {
				return err
			}
			for i, s := range l {
				r, err := parseRepository(s, yamlnode.Index(path, i))
				if err != nil {
					return err
				}
				*dst = append(*dst, r)
			}
			return nil
		}
	}
	return p.d.Mapping(n, path, yamlnode.Fields{
		"repositories":         repos(&c.Repositories),
		"build_repositories":   repos(&c.BuildRepositories),
		"runtime_repositories": repos(&c.RuntimeRepositories),
		"keyring":              p.strs(&c.Keyring, checkNonEmpty),
		"runtime_keyring": func(n *yaml.Node, path string) error {
			return p.d.Each(n, path, func(n *yaml.Node, path string) error {
				e, err := p.namedPEM(n, path)
				c.RuntimeKeyring = append(c.RuntimeKeyring, e)
				return err
			})
		},
		"packages": func(n *yaml.Node, path string) error {
			l, err := p.stringList(n, path)
			if err != nil {
				return err
			}
			for i, s := range l {
				pkg, err := parsePackage(s, yamlnode.Index(path, i))
				if err != nil {
					return err
				}
				c.Packages = append(c.Packages, pkg)
			}
			return nil
		},
		"baseimage": func(n *yaml.Node, path string) error {
			b := &BaseImage{Pos: p.pos(n)}
			c.BaseImage = b
			return p.d.Mapping(n, path, yamlnode.Fields{
				"image":    p.str(&b.Image, nil),
				"apkindex": p.str(&b.APKIndex, nil),
			})
		},
	})
}

func (p *parser) namedPEM(n *yaml.Node, path string) (NamedPEM, error) {
	e := NamedPEM{Pos: p.pos(n)}
	err := p.d.Mapping(n, path, yamlnode.Fields{
		"name":    p.str(&e.Name, nil),
		"content": p.str(&e.Content, nil),
	})
	return e, err
}

func (p *parser) entrypoint(n *yaml.Node, path string, e *Entrypoint) error {
	e.Pos = p.pos(n)
	return p.d.Mapping(n, path, yamlnode.Fields{
		"type":           p.str(&e.Type, checkEntrypointType),
		"command":        p.str(&e.Command, nil),
		"shell-fragment": p.str(&e.ShellFragment, nil),
		"services":       p.kvs(&e.Services, checkNonEmptyKey),
	})
}

func (p *parser) accounts(n *yaml.Node, path string, a *Accounts) error {
	a.Pos = p.pos(n)
	return p.d.Mapping(n, path, yamlnode.Fields{
		"run-as": p.str(&a.RunAs, nil),
		"users": func(n *yaml.Node, path string) error {
			return p.d.Each(n, path, func(n *yaml.Node, path string) error {
				u := User{Pos: p.pos(n)}
				err := p.d.Mapping(n, path, yamlnode.Fields{
					"username": p.str(&u.UserName, checkAccountName),
					"uid":      p.uint32(&u.UID),
					"gid":      p.uint32(&u.GID),
					"shell":    p.str(&u.Shell, checkPasswdField),
					"homedir":  p.str(&u.HomeDir, checkPasswdField),
				})
				a.Users = append(a.Users, u)
				return err
			})
		},
		"groups": func(n *yaml.Node, path string) error {
			return p.d.Each(n, path, func(n *yaml.Node, path string) error {
				g := Group{Pos: p.pos(n)}
				var gid *Uint32
				err := p.d.Mapping(n, path, yamlnode.Fields{
					"groupname": p.str(&g.GroupName, checkAccountName),
					"gid":       p.uint32(&gid),
					"members": p.strs(&g.Members, func(s Str, path string) error {
						if err := checkNonEmpty(s, path); err != nil {
							return err
						}
						return checkAccountName(s, path)
					}),
				})
				if gid != nil {
					g.GID = *gid
				}
				a.Groups = append(a.Groups, g)
				return err
			})
		},
	})
}

func (p *parser) archs(n *yaml.Node, path string, dst *[]Arch) error {
	l, err := p.stringList(n, path)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, s := range l {
		a, err := parseArch(s, yamlnode.Index(path, i))
		if err != nil {
			return err
		}
		// apko builds what it is given; a repeated arch is one platform.
		if seen[a.Name] {
			continue
		}
		seen[a.Name] = true
		*dst = append(*dst, a)
	}
	return nil
}

func (p *parser) paths(n *yaml.Node, path string, dst *[]PathMutation) error {
	return p.d.Each(n, path, func(n *yaml.Node, path string) error {
		m := PathMutation{Pos: p.pos(n)}
		err := p.d.Mapping(n, path, yamlnode.Fields{
			"path": p.str(&m.Path, nil),
			"type": p.str(&m.Type, checkPathType),
			"uid":  p.uint32(&m.UID),
			"gid":  p.uint32(&m.GID),
			"permissions": func(n *yaml.Node, path string) error {
				v, err := p.d.FileMode(n, path)
				m.Permissions = Uint32{Value: v, Pos: p.pos(n)}
				return err
			},
			"source": p.str(&m.Source, nil),
			"recursive": func(n *yaml.Node, path string) error {
				v, err := p.d.Bool(n, path)
				m.Recursive = Bool{Value: v, Pos: p.pos(n)}
				return err
			},
		})
		*dst = append(*dst, m)
		return err
	})
}

func (p *parser) layering(n *yaml.Node, path string, dst **Layering) error {
	l := &Layering{Pos: p.pos(n)}
	*dst = l
	return p.d.Mapping(n, path, yamlnode.Fields{
		"strategy": p.str(&l.Strategy, checkStrategy),
		"budget": func(n *yaml.Node, path string) error {
			v, err := p.d.Int(n, path)
			if err != nil {
				return err
			}
			if v < 1 || v > 1<<20 {
				return p.pos(n).Errorf("%s: budget %s must be at least 1 (and at most 1048576)", path, yamlnode.Resolve(n).Value)
			}
			l.Budget = Int{Value: int(v), Pos: p.pos(n)}
			return nil
		},
	})
}

func (p *parser) certificates(n *yaml.Node, path string, dst **Certificates) error {
	c := &Certificates{Pos: p.pos(n)}
	*dst = c
	return p.d.Mapping(n, path, yamlnode.Fields{
		"additional": func(n *yaml.Node, path string) error {
			return p.d.Each(n, path, func(n *yaml.Node, path string) error {
				e, err := p.namedPEM(n, path)
				c.Additional = append(c.Additional, e)
				return err
			})
		},
		"providers": p.strs(&c.Providers, checkNonEmpty),
	})
}

// parseRepository reads "URL" or "@tag URL".
func parseRepository(s Str, path string) (Repository, error) {
	r := Repository{Value: s.Value, Pos: s.Pos}
	f := strings.Fields(s.Value)
	switch {
	case len(f) == 1 && !strings.HasPrefix(f[0], "@"):
		r.URL = f[0]
	case len(f) == 2 && strings.HasPrefix(f[0], "@") && len(f[0]) > 1:
		r.Tag, r.URL = f[0][1:], f[1]
	case len(f) == 0:
		return r, s.Pos.Errorf("%s: empty repository", path)
	default:
		return r, s.Pos.Errorf("%s: invalid repository %q (want \"URL\" or \"@tag URL\")", path, s.Value)
	}
	r.URL = strings.TrimRight(r.URL, "/")
	if r.URL == "" {
		return r, s.Pos.Errorf("%s: invalid repository %q (no URL)", path, s.Value)
	}
	return r, nil
}

func parsePackage(s Str, path string) (Package, error) {
	if strings.TrimSpace(s.Value) == "" {
		return Package{}, s.Pos.Errorf("%s: empty package", path)
	}
	dep, err := version.ParseDependency(s.Value)
	if err != nil {
		return Package{}, s.Pos.Errorf("%s: %v", path, err)
	}
	return Package{Value: s.Value, Pos: s.Pos, Dep: dep}, nil
}

func parseArch(s Str, path string) (Arch, error) {
	switch s.Value {
	case "all", "host":
		return Arch{}, s.Pos.Errorf("%s: %q is only a command-line value in apko; list architectures here (known: %s)",
			path, s.Value, strings.Join(arch.Known(), ", "))
	}
	name, err := arch.Normalize(s.Value)
	if err != nil {
		return Arch{}, s.Pos.Errorf("%s: unknown architecture %q (known: %s; OCI names like amd64, arm64, arm/v7 also work)",
			path, s.Value, strings.Join(arch.Known(), ", "))
	}
	return Arch{Name: name, Value: s.Value, Pos: s.Pos}, nil
}

func checkNonEmpty(s Str, path string) error {
	if strings.TrimSpace(s.Value) == "" {
		return s.Pos.Errorf("%s: empty value", path)
	}
	return nil
}

func checkNonEmptyKey(k Str, path string) error {
	if k.Value == "" {
		return k.Pos.Errorf("%s: empty key", path)
	}
	return nil
}

func checkEnvKey(k Str, path string) error {
	if k.Value == "" || strings.ContainsAny(k.Value, "=\x00") {
		return k.Pos.Errorf("%s: invalid environment variable name %q", path, k.Value)
	}
	return nil
}

func checkSignal(s Str, path string) error {
	if s.Value != "" && !validSignal(s.Value) {
		return s.Pos.Errorf("%s: unknown signal %q (want a name like SIGTERM or TERM, or a number 1-64)", path, s.Value)
	}
	return nil
}

func checkFormat(s Str, path string) error {
	switch s.Value {
	case "", "tar", "erofs":
		return nil
	}
	return s.Pos.Errorf("%s: unknown layer format %q (known: tar, erofs)", path, s.Value)
}

func checkEntrypointType(s Str, path string) error {
	switch s.Value {
	case "", "service-bundle":
		return nil
	}
	return s.Pos.Errorf("%s: unknown entrypoint type %q (known: service-bundle)", path, s.Value)
}

var pathTypes = []string{PathDirectory, PathEmptyFile, PathHardlink, PathSymlink, PathPermissions}

func checkPathType(s Str, path string) error {
	for _, t := range pathTypes {
		if s.Value == t {
			return nil
		}
	}
	return s.Pos.Errorf("%s: unknown path type %q (known: %s)", path, s.Value, strings.Join(pathTypes, ", "))
}

func checkStrategy(s Str, path string) error {
	if s.Value != "" && s.Value != "origin" {
		return s.Pos.Errorf("%s: unknown layering strategy %q (known: origin)", path, s.Value)
	}
	return nil
}

// checkPasswdField rejects what would break an /etc/passwd line.
func checkPasswdField(s Str, path string) error {
	if strings.ContainsAny(s.Value, ":\n") {
		return s.Pos.Errorf("%s: %q cannot contain ':' or a newline", path, s.Value)
	}
	return nil
}

// checkAccountName rejects names that would break /etc/passwd or
// /etc/group lines (where members are comma-separated).
func checkAccountName(s Str, path string) error {
	if strings.ContainsAny(s.Value, ":,\n \t") {
		return s.Pos.Errorf("%s: invalid name %q (no ':', ',' or whitespace)", path, s.Value)
	}
	return nil
}

// ParsePackage reads one `packages` entry as Parse does; hosts that add
// packages of their own (melange's build options) check them the same way.
func ParsePackage(s Str, path string) (Package, error) {
	return parsePackage(s, path)
}
