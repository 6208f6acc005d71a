package apko

import (
	"path"
	"strings"
)

// maxIncludeDepth bounds include chains; cycles are caught before this,
// so it only stops a readFile that invents ever-new names.
const maxIncludeDepth = 32

// Load reads file with readFile, parses it and follows `include` the way
// apko does: the included configuration is the base and the including one
// is layered on top (see merge). Included files may include others.
//
// readFile receives an include exactly as written. apko resolves it
// against its working directory (then its --include-paths), not against
// the including file, so a caller should resolve it against the build
// context root.
//
// Load does not run Validate.
func Load(file string, readFile func(string) ([]byte, error)) (*Config, error) {
	return load(file, readFile, nil, Pos{})
}

func load(file string, readFile func(string) ([]byte, error), stack []string, from Pos) (*Config, error) {
	key := path.Clean(file)
	for i, s := range stack {
		if s == key {
			chain := append(append([]string{}, stack[i:]...), key)
			return nil, from.Errorf("include: include cycle: %s", strings.Join(chain, " -> "))
		}
	}
	if len(stack) >= maxIncludeDepth {
		return nil, from.Errorf("include: includes nest more than %d deep", maxIncludeDepth)
	}
	data, err := readFile(file)
	if err != nil {
		if from.IsValid() {
			return nil, from.Errorf("include %q: %v", file, err)
		}
		return nil, Pos{File: file}.Errorf("reading: %v", err)
	}
	c, err := Parse(file, data)
	if err != nil {
		return nil, err
	}
	if c.Include.Value == "" {
		return c, nil
	}
	base, err := load(c.Include.Value, readFile, append(stack, key), c.Include.Pos)
	if err != nil {
		return nil, err
	}
	c.Includes = append([]string{c.Include.Value}, base.Includes...)
	merge(base, c)
	return c, nil
}

// merge layers c over base, with apko's rules: c's scalars and sections
// win when set (the entrypoint only as a whole); lists are base's items
// then c's; environment and annotations take base's keys c lacks.
func merge(base, c *Config) {
	if c.Entrypoint.IsZero() {
		c.Entrypoint = base.Entrypoint
	}
	setStr(&c.Cmd, base.Cmd)
	setStr(&c.StopSignal, base.StopSignal)
	setStr(&c.WorkDir, base.WorkDir)
	setStr(&c.Format, base.Format)
	if c.Layering == nil {
		c.Layering = base.Layering
	}
	if c.Certificates == nil {
		c.Certificates = base.Certificates
	}
	if len(c.Archs) == 0 {
		c.Archs = base.Archs
	}

	setStr(&c.Accounts.RunAs, base.Accounts.RunAs)
	c.Accounts.Users = concat(base.Accounts.Users, c.Accounts.Users)
	c.Accounts.Groups = concat(base.Accounts.Groups, c.Accounts.Groups)

	c.Environment = mergeKVs(base.Environment, c.Environment)
	c.Annotations = mergeKVs(base.Annotations, c.Annotations)
	c.Paths = concat(base.Paths, c.Paths)
	c.Volumes = concat(base.Volumes, c.Volumes)

	bc, cc := &base.Contents, &c.Contents
	cc.Keyring = concat(bc.Keyring, cc.Keyring)
	cc.RuntimeKeyring = concat(bc.RuntimeKeyring, cc.RuntimeKeyring)
	cc.Repositories = concat(bc.Repositories, cc.Repositories)
	cc.BuildRepositories = concat(bc.BuildRepositories, cc.BuildRepositories)
	cc.RuntimeRepositories = concat(bc.RuntimeRepositories, cc.RuntimeRepositories)
	cc.Packages = concat(bc.Packages, cc.Packages)
	if cc.BaseImage == nil {
		cc.BaseImage = bc.BaseImage
	}
	// vcs-url and include are not inherited, as in apko.
}

func setStr(dst *Str, base Str) {
	if dst.Value == "" {
		*dst = base
	}
}

func concat[T any](base, top []T) []T {
	if len(base) == 0 {
		return top
	}
	out := make([]T, 0, len(base)+len(top))
	return append(append(out, base...), top...)
}

// mergeKVs keeps top's entries and adds base's keys top does not have.
func mergeKVs(base, top []KV) []KV {
	if len(base) == 0 {
		return top
	}
	have := map[string]bool{}
	for _, kv := range top {
		have[kv.Key.Value] = true
	}
	out := append([]KV{}, top...)
	for _, kv := range base {
		if !have[kv.Key.Value] {
			out = append(out, kv)
		}
	}
	return out
}
