package melange

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kiln-build/kiln/config/yamlnode"
)

// maxStepDepth bounds how deeply steps nest. Real configs nest two or
// three levels; the bound stops an alias that puts a list inside itself.
const maxStepDepth = 32

// Parse reads one melange configuration. Every field and type is checked
// against melange's schema, and the checks that do not depend on ${{...}}
// substitution are run (see plan/melange for the rest).
func Parse(file string, data []byte) (*Config, error) {
	root, err := yamlnode.Parse(file, data)
	if err != nil {
		return nil, err
	}
	p := newParser(file)
	c := &Config{File: file}
	if err := p.config(root, c); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

type parser struct {
	d *yamlnode.Decoder
	// steps memoises decoded step lists, so a list reached through many
	// aliases is decoded once; active marks lists being decoded, to
	// refuse a list that contains itself.
	steps  map[*yaml.Node][]Step
	active map[*yaml.Node]bool
	// pipelineFile is set for pipeline definitions, whose steps may carry
	// a description (melange reads those files leniently, and real ones
	// document their steps so).
	pipelineFile bool
}

func newParser(file string) *parser {
	return &parser{d: yamlnode.NewDecoder(file), steps: map[*yaml.Node][]Step{}, active: map[*yaml.Node]bool{}}
}

type field = yamlnode.Field

func (p *parser) pos(n *yaml.Node) Pos { return p.d.Pos(yamlnode.Resolve(n)) }

func (p *parser) config(n *yaml.Node, c *Config) error {
	return p.d.Mapping(n, "", yamlnode.Fields{
		"package": func(n *yaml.Node, path string) error { return p.pkg(n, path, &c.Package) },
		"environment": func(n *yaml.Node, path string) error {
			return p.environment(n, path, &c.Environment)
		},
		"capabilities": func(n *yaml.Node, path string) error {
			c.Capabilities.Pos = p.pos(n)
			return p.d.Mapping(n, path, yamlnode.Fields{
				"add":  p.strs(&c.Capabilities.Add),
				"drop": p.strs(&c.Capabilities.Drop),
			})
		},
		"pipeline":    p.stepList(&c.Pipeline, 0),
		"subpackages": func(n *yaml.Node, path string) error { return p.subpackages(n, path, &c.Subpackages) },
		"data": func(n *yaml.Node, path string) error {
			return p.d.Each(n, path, func(n *yaml.Node, path string) error {
				d := Data{Pos: p.pos(n)}
				err := p.d.Mapping(n, path, yamlnode.Fields{
					"name":  p.str(&d.Name),
					"items": p.kvs(&d.Items),
				})
				c.Data = append(c.Data, d)
				return err
			})
		},
		"update": func(n *yaml.Node, path string) error {
			// Auto-update metadata for bots: nothing a build reads, but it
			// must still be a mapping.
			c.Update.Pos = p.pos(n)
			pairs, err := p.d.Pairs(n, path)
			if err != nil {
				return err
			}
			for _, kv := range pairs {
				if kv.Key != "github" || yamlnode.Resolve(kv.Value).Kind != yaml.MappingNode {
					continue
				}
				gh, err := p.d.Pairs(kv.Value, yamlnode.Join(path, kv.Key))
				if err != nil {
					return err
				}
				for _, f := range gh {
					if f.Key == "tag-filter" {
						c.Update.GitHubTagFilter = Str{Value: yamlnode.Resolve(f.Value).Value, Pos: p.pos(f.KeyNode)}
					}
				}
			}
			return nil
		},
		"vars": p.kvs(&c.Vars),
		"var-transforms": func(n *yaml.Node, path string) error {
			return p.d.Each(n, path, func(n *yaml.Node, path string) error {
				t := VarTransform{Pos: p.pos(n)}
				err := p.d.Mapping(n, path, yamlnode.Fields{
					"from":    p.str(&t.From),
					"match":   p.str(&t.Match),
					"replace": p.str(&t.Replace),
					"to":      p.str(&t.To),
				})
				c.VarTransforms = append(c.VarTransforms, t)
				return err
			})
		},
		"options": func(n *yaml.Node, path string) error { return p.buildOptions(n, path, &c.Options) },
		"test":    func(n *yaml.Node, path string) error { return p.test(n, path, &c.Test) },
	})
}

func (p *parser) str(dst *Str) field {
	return func(n *yaml.Node, path string) error {
		s, err := p.d.String(n, path)
		*dst = s
		return err
	}
}

func (p *parser) strs(dst *[]Str) field {
	return func(n *yaml.Node, path string) error {
		l, err := p.d.StringList(n, path)
		*dst = l
		return err
	}
}

func (p *parser) kvs(dst *[]KV) field {
	return func(n *yaml.Node, path string) error {
		m, err := p.d.StringMap(n, path)
		*dst = m
		return err
	}
}

func (p *parser) bool(dst *Bool) field {
	return func(n *yaml.Node, path string) error {
		v, err := p.d.Bool(n, path)
		*dst = Bool{Value: v, Pos: p.pos(n)}
		return err
	}
}

func (p *parser) pkg(n *yaml.Node, path string, k *Package) error {
	k.Pos = p.pos(n)
	return p.d.Mapping(n, path, yamlnode.Fields{
		"name":    p.str(&k.Name),
		"version": p.str(&k.Version),
		"epoch": func(n *yaml.Node, path string) error {
			v, err := p.d.Int(n, path)
			if err != nil {
				return err
			}
			if v < 0 {
				return p.d.Errorf(yamlnode.Resolve(n), "%s: epoch %d is negative", path, v)
			}
			k.Epoch = Int{Value: v, Pos: p.pos(n)}
			return nil
		},
		"description":         p.str(&k.Description),
		"annotations":         p.kvs(&k.Annotations),
		"url":                 p.str(&k.URL),
		"commit":              p.str(&k.Commit),
		"target-architecture": p.strs(&k.TargetArchitecture),
		"copyright": func(n *yaml.Node, path string) error {
			return p.d.Each(n, path, func(n *yaml.Node, path string) error {
				c := Copyright{Pos: p.pos(n)}
				err := p.d.Mapping(n, path, yamlnode.Fields{
					"paths":              p.strs(&c.Paths),
					"attestation":        p.str(&c.Attestation),
					"license":            p.str(&c.License),
					"license-path":       p.str(&c.LicensePath),
					"detection-override": p.str(&c.DetectionOverride),
				})
				k.Copyright = append(k.Copyright, c)
				return err
			})
		},
		"dependencies": func(n *yaml.Node, path string) error { return p.dependencies(n, path, &k.Dependencies) },
		"options":      func(n *yaml.Node, path string) error { return p.packageOptions(n, path, &k.Options) },
		"scriptlets":   func(n *yaml.Node, path string) error { return p.scriptlets(n, path, &k.Scriptlets) },
		"checks":       func(n *yaml.Node, path string) error { return p.checks(n, path, &k.Checks) },
		"cpe": func(n *yaml.Node, path string) error {
			c := &k.CPE
			c.Pos = p.pos(n)
			return p.d.Mapping(n, path, yamlnode.Fields{
				"part":       p.str(&c.Part),
				"vendor":     p.str(&c.Vendor),
				"product":    p.str(&c.Product),
				"edition":    p.str(&c.Edition),
				"language":   p.str(&c.Language),
				"sw_edition": p.str(&c.SWEdition),
				"target_sw":  p.str(&c.TargetSW),
				"target_hw":  p.str(&c.TargetHW),
				"other":      p.str(&c.Other),
			})
		},
		"setcap": func(n *yaml.Node, path string) error { return p.setcap(n, path, &k.SetCap) },
		"timeout": func(n *yaml.Node, path string) error {
			s, err := p.d.String(n, path)
			if err != nil {
				return err
			}
			r := yamlnode.Resolve(n)
			d, perr := time.ParseDuration(s.Value)
			if r.ShortTag() != "!!str" || perr != nil {
				// melange reads a Go duration; a bare number has no unit.
				return s.Pos.Errorf("%s: expected a duration like 90m or 2h, got %s", path, yamlnode.Describe(r))
			}
			if d < 0 {
				return s.Pos.Errorf("%s: duration %s is negative", path, s.Value)
			}
			k.Timeout = Duration{Str: s, Value: d}
			return nil
		},
		"resources":      p.resources(&k.Resources),
		"test-resources": p.resources(&k.TestResources),
	})
}

func (p *parser) resources(dst **Resources) field {
	return func(n *yaml.Node, path string) error {
		r := &Resources{Pos: p.pos(n)}
		*dst = r
		return p.d.Mapping(n, path, yamlnode.Fields{
			"cpu":      p.str(&r.CPU),
			"cpumodel": p.str(&r.CPUModel),
			"memory":   p.str(&r.Memory),
			"disk":     p.str(&r.Disk),
		})
	}
}

func (p *parser) dependencies(n *yaml.Node, path string, d *Dependencies) error {
	d.Pos = p.pos(n)
	return p.d.Mapping(n, path, yamlnode.Fields{
		"runtime":           p.strs(&d.Runtime),
		"provides":          p.strs(&d.Provides),
		"replaces":          p.strs(&d.Replaces),
		"provider-priority": p.str(&d.ProviderPriority),
		"replaces-priority": p.str(&d.ReplacesPriority),
	})
}

func (p *parser) packageOptions(n *yaml.Node, path string, o *PackageOptions) error {
	o.Pos = p.pos(n)
	return p.d.Mapping(n, path, yamlnode.Fields{
		"no-provides":             p.bool(&o.NoProvides),
		"no-depends":              p.bool(&o.NoDepends),
		"no-commands":             p.bool(&o.NoCommands),
		"no-versioned-shlib-deps": p.bool(&o.NoVersionedShlibDeps),
	})
}

func (p *parser) scriptlets(n *yaml.Node, path string, s *Scriptlets) error {
	s.Pos = p.pos(n)
	return p.d.Mapping(n, path, yamlnode.Fields{
		"trigger": func(n *yaml.Node, path string) error {
			s.Trigger.Pos = p.pos(n)
			return p.d.Mapping(n, path, yamlnode.Fields{
				"script": p.str(&s.Trigger.Script),
				"paths":  p.strs(&s.Trigger.Paths),
			})
		},
		"pre-install":    p.str(&s.PreInstall),
		"post-install":   p.str(&s.PostInstall),
		"pre-deinstall":  p.str(&s.PreDeinstall),
		"post-deinstall": p.str(&s.PostDeinstall),
		"pre-upgrade":    p.str(&s.PreUpgrade),
		"post-upgrade":   p.str(&s.PostUpgrade),
	})
}

func (p *parser) checks(n *yaml.Node, path string, c *Checks) error {
	c.Pos = p.pos(n)
	return p.d.Mapping(n, path, yamlnode.Fields{"disabled": p.strs(&c.Disabled)})
}

func (p *parser) setcap(n *yaml.Node, path string, dst *[]SetCap) error {
	return p.d.Each(n, path, func(n *yaml.Node, path string) error {
		c := SetCap{Pos: p.pos(n)}
		err := p.d.Mapping(n, path, yamlnode.Fields{
			"path":   p.str(&c.Path),
			"add":    p.kvs(&c.Add),
			"reason": p.str(&c.Reason),
		})
		*dst = append(*dst, c)
		return err
	})
}

func (p *parser) environment(n *yaml.Node, path string, dst **Environment) error {
	e := &Environment{Pos: p.pos(n), dec: p.d, node: n, path: path}
	// Check the structure now, with every ${{...}} reference standing in
	// for a value, so a misspelt field is reported before any planning.
	written := map[Pos]string{}
	_, err := e.Resolve(func(s Str, _ string) (Str, error) {
		if strings.Contains(s.Value, "${{") {
			written[s.Pos] = s.Value
			s.Value = placeholders(s.Value)
		}
		return s, nil
	})
	var ye *yamlnode.Error
	if errors.As(err, &ye) {
		if w, ok := written[ye.Pos()]; ok {
			ye.Msg += fmt.Sprintf(" (written %q; each ${{...}} was read as %q to check it)", w, placeholder)
		}
	}
	if err != nil {
		return err
	}
	*dst = e
	return nil
}

// placeholder stands for a ${{...}} value when an environment is checked
// before planning: it is valid as a package name, a version and a word.
const placeholder = "0"

// placeholders replaces each well-formed ${{...}} reference in v with the
// placeholder. Malformed references are left for the planner to report.
func placeholders(v string) string {
	var b strings.Builder
	for {
		i := strings.Index(v, "${{")
		if i < 0 {
			break
		}
		j := strings.Index(v[i:], "}}")
		if j < 0 {
			break
		}
		b.WriteString(v[:i])
		b.WriteString(placeholder)
		v = v[i+j+2:]
	}
	b.WriteString(v)
	return b.String()
}

func (p *parser) test(n *yaml.Node, path string, dst **Test) error {
	t := &Test{Pos: p.pos(n)}
	*dst = t
	return p.d.Mapping(n, path, yamlnode.Fields{
		"environment": func(n *yaml.Node, path string) error { return p.environment(n, path, &t.Environment) },
		"pipeline":    p.stepList(&t.Pipeline, 0),
	})
}

func (p *parser) subpackages(n *yaml.Node, path string, dst *[]Subpackage) error {
	return p.d.Each(n, path, func(n *yaml.Node, path string) error {
		s := Subpackage{Pos: p.pos(n)}
		err := p.d.Mapping(n, path, yamlnode.Fields{
			"if":           p.str(&s.If),
			"range":        p.str(&s.Range),
			"name":         p.str(&s.Name),
			"pipeline":     p.stepList(&s.Pipeline, 0),
			"dependencies": func(n *yaml.Node, path string) error { return p.dependencies(n, path, &s.Dependencies) },
			"options":      func(n *yaml.Node, path string) error { return p.packageOptions(n, path, &s.Options) },
			"scriptlets":   func(n *yaml.Node, path string) error { return p.scriptlets(n, path, &s.Scriptlets) },
			"description":  p.str(&s.Description),
			"annotations":  p.kvs(&s.Annotations),
			"url":          p.str(&s.URL),
			"commit":       p.str(&s.Commit),
			"checks":       func(n *yaml.Node, path string) error { return p.checks(n, path, &s.Checks) },
			"test":         func(n *yaml.Node, path string) error { return p.test(n, path, &s.Test) },
			"setcap":       func(n *yaml.Node, path string) error { return p.setcap(n, path, &s.SetCap) },
		})
		*dst = append(*dst, s)
		return err
	})
}

func (p *parser) buildOptions(n *yaml.Node, path string, dst *[]BuildOption) error {
	pairs, err := p.d.Pairs(n, path)
	if err != nil {
		return err
	}
	for _, kv := range pairs {
		o := BuildOption{Pos: p.pos(kv.Value), Name: Str{Value: kv.Key, Pos: p.pos(kv.KeyNode)}}
		opath := yamlnode.Join(path, kv.Key)
		err := p.d.Mapping(kv.Value, opath, yamlnode.Fields{
			"vars": p.kvs(&o.Vars),
			"environment": func(n *yaml.Node, path string) error {
				return p.d.Mapping(n, path, yamlnode.Fields{
					"contents": func(n *yaml.Node, path string) error {
						return p.d.Mapping(n, path, yamlnode.Fields{
							"packages": func(n *yaml.Node, path string) error {
								return p.d.Mapping(n, path, yamlnode.Fields{
									"add":    p.strs(&o.Add),
									"remove": p.strs(&o.Remove),
								})
							},
						})
					},
				})
			},
		})
		if err != nil {
			return err
		}
		*dst = append(*dst, o)
	}
	return nil
}

// stepList decodes a list of steps at a nesting depth.
func (p *parser) stepList(dst *[]Step, depth int) field {
	return func(n *yaml.Node, path string) error {
		r := yamlnode.Resolve(n)
		if steps, ok := p.steps[r]; ok {
			*dst = steps
			return nil
		}
		if p.active[r] {
			return p.d.Errorf(n, "%s: this list of steps contains itself (through an alias)", path)
		}
		if depth >= maxStepDepth {
			return p.d.Errorf(n, "%s: steps nest more than %d deep", path, maxStepDepth)
		}
		p.active[r] = true
		defer delete(p.active, r)
		var steps []Step
		err := p.d.Each(n, path, func(n *yaml.Node, path string) error {
			s := Step{Pos: p.pos(n)}
			err := p.d.Mapping(n, path, p.stepFields(&s, depth))
			steps = append(steps, s)
			return err
		})
		if err != nil {
			return err
		}
		p.steps[r] = steps
		*dst = steps
		return nil
	}
}

// stepFields are the fields of a step; pipeline files add their own.
func (p *parser) stepFields(s *Step, depth int) yamlnode.Fields {
	f := yamlnode.Fields{
		"if":       p.str(&s.If),
		"name":     p.str(&s.Name),
		"uses":     p.str(&s.Uses),
		"with":     p.kvs(&s.With),
		"runs":     p.str(&s.Runs),
		"pipeline": p.stepList(&s.Pipeline, depth+1),
		"inputs": func(n *yaml.Node, path string) error {
			pairs, err := p.d.Pairs(n, path)
			if err != nil {
				return err
			}
			for _, kv := range pairs {
				in := Input{Pos: p.pos(kv.Value), Name: Str{Value: kv.Key, Pos: p.pos(kv.KeyNode)}}
				err := p.d.Mapping(kv.Value, yamlnode.Join(path, kv.Key), yamlnode.Fields{
					"description": p.str(&in.Description),
					"default":     p.str(&in.Default),
					"required":    p.bool(&in.Required),
				})
				if err != nil {
					return err
				}
				s.Inputs = append(s.Inputs, in)
			}
			return nil
		},
		"needs": func(n *yaml.Node, path string) error {
			s.Needs.Pos = p.pos(n)
			return p.d.Mapping(n, path, yamlnode.Fields{"packages": p.strs(&s.Needs.Packages)})
		},
		"label": p.str(&s.Label),
		"assertions": func(n *yaml.Node, path string) error {
			a := &Assertions{Pos: p.pos(n)}
			s.Assertions = a
			return p.d.Mapping(n, path, yamlnode.Fields{
				"required-steps": func(n *yaml.Node, path string) error {
					v, err := p.d.Int(n, path)
					if err != nil {
						return err
					}
					if v < 0 {
						return p.d.Errorf(yamlnode.Resolve(n), "%s: %d is negative", path, v)
					}
					a.RequiredSteps = Int{Value: v, Pos: p.pos(n)}
					return nil
				},
			})
		},
		"working-directory": p.str(&s.WorkDir),
		"environment":       p.kvs(&s.Environment),
	}
	if p.pipelineFile {
		f["description"] = p.str(&s.Description)
	}
	return f
}
