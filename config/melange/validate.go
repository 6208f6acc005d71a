package melange

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/kiln-build/kiln/config/yamlnode"
)

// check runs the whole-config checks that hold whatever ${{...}}
// references turn into; the planner checks the substituted values.
func (c *Config) check() error {
	if !c.Package.Pos.IsValid() {
		return Pos{File: c.File, Line: 1, Column: 1}.Errorf("package: missing; a melange configuration needs package.name and package.version")
	}
	if c.Package.Name.Value == "" {
		return c.Package.Pos.Errorf("package.name: missing or empty")
	}
	if c.Package.Version.Value == "" {
		return c.Package.Pos.Errorf("package.version: missing or empty")
	}
	if err := checkCPE(c.Package.CPE); err != nil {
		return err
	}
	if err := checkSetCap(c.Package.SetCap, "package.setcap"); err != nil {
		return err
	}
	data := map[string]Pos{}
	for i, d := range c.Data {
		path := yamlnode.Index("data", i)
		if d.Name.Value == "" {
			return d.Pos.Errorf("%s: name: missing or empty", path)
		}
		if first, dup := data[d.Name.Value]; dup {
			return d.Name.Pos.Errorf("%s: data %q is defined twice (first at %s)", path, d.Name.Value, first)
		}
		data[d.Name.Value] = d.Name.Pos
	}
	for i, t := range c.VarTransforms {
		path := yamlnode.Index("var-transforms", i)
		if t.To.Value == "" {
			return t.Pos.Errorf("%s: to: missing or empty (it names the var to set)", path)
		}
		if _, err := regexp.Compile(t.Match.Value); err != nil {
			return t.Match.Pos.Errorf("%s.match: %v", path, err)
		}
	}
	if err := checkSteps(c.Pipeline, "pipeline"); err != nil {
		return err
	}
	if err := checkTest(c.Test, "test"); err != nil {
		return err
	}
	for i, s := range c.Subpackages {
		path := yamlnode.Index("subpackages", i)
		if s.Name.Value == "" {
			return s.Pos.Errorf("%s: name: missing or empty", path)
		}
		if s.Range.Value != "" {
			if _, ok := data[s.Range.Value]; !ok {
				return s.Range.Pos.Errorf("%s.range: no data named %q (known: %s)", path, s.Range.Value, strings.Join(sortedKeys(data), ", "))
			}
		}
		if err := checkSetCap(s.SetCap, path+".setcap"); err != nil {
			return err
		}
		if err := checkSteps(s.Pipeline, path+".pipeline"); err != nil {
			return err
		}
		if err := checkTest(s.Test, path+".test"); err != nil {
			return err
		}
	}
	return nil
}

func checkTest(t *Test, path string) error {
	if t == nil {
		return nil
	}
	return checkSteps(t.Pipeline, path+".pipeline")
}

// checkSteps rejects step shapes melange rejects.
func checkSteps(steps []Step, path string) error {
	return checkStepList(steps, path, map[*Step]bool{})
}

// checkStepList checks each list once: lists reached through aliases
// are shared, and checking every path to them could take exponential
// time.
func checkStepList(steps []Step, path string, seen map[*Step]bool) error {
	if len(steps) == 0 || seen[&steps[0]] {
		return nil
	}
	seen[&steps[0]] = true
	for i, s := range steps {
		path := yamlnode.Index(path, i)
		switch {
		case len(s.With) > 0 && s.Uses.Value == "":
			return s.With[0].Key.Pos.Errorf("%s: with: needs uses: (with gives inputs to a pipeline)", path)
		case s.Uses.Value != "" && s.Runs.Value != "":
			return s.Runs.Pos.Errorf("%s: a step has either uses: or runs:, not both", path)
		}
		if s.Uses.Value != "" {
			if err := CheckUses(s.Uses); err != nil {
				return err
			}
		}
		if err := checkStepList(s.Pipeline, path+".pipeline", seen); err != nil {
			return err
		}
	}
	return nil
}

// CheckUses checks a uses: value names a file inside a pipeline
// directory: a relative slash-separated path without "." or ".."
// elements. melange refuses absolute paths and "..".
func CheckUses(uses Str) error {
	if strings.Contains(uses.Value, "..") || !fs.ValidPath(uses.Value) || uses.Value == "." || strings.Contains(uses.Value, `\`) {
		return uses.Pos.Errorf("uses: invalid pipeline name %q (want a relative path like go/build, without '..')", uses.Value)
	}
	return nil
}

var (
	cpeParts = []string{"a", "o"} // melange emits software, never hardware ("h")
	cpeField = regexp.MustCompile(`^[a-z\d][a-z\d+_.-]*$`)
)

func checkCPE(c CPE) error {
	if c.Part.Value != "" && !slices.Contains(cpeParts, c.Part.Value) {
		return c.Part.Pos.Errorf("package.cpe.part: %q is not one of %s (most packages are 'a')", c.Part.Value, strings.Join(cpeParts, ", "))
	}
	if (c.Vendor.Value == "") != (c.Product.Value == "") {
		return c.Pos.Errorf("package.cpe: vendor and product are set together or not at all")
	}
	for _, f := range []struct {
		name string
		s    Str
	}{
		{"vendor", c.Vendor}, {"product", c.Product}, {"edition", c.Edition}, {"language", c.Language},
		{"sw_edition", c.SWEdition}, {"target_sw", c.TargetSW}, {"target_hw", c.TargetHW}, {"other", c.Other},
	} {
		if f.s.Value != "" && !cpeField.MatchString(f.s.Value) {
			return f.s.Pos.Errorf("package.cpe.%s: invalid value %q (lowercase letters, digits, '+', '_', '.', '-')", f.name, f.s.Value)
		}
	}
	return nil
}

// setcapKnown are the capabilities melange lets a package set.
var setcapKnown = []string{"cap_ipc_lock", "cap_net_admin", "cap_net_bind_service", "cap_net_raw", "cap_sys_admin"}

func checkSetCap(caps []SetCap, path string) error {
	for i, c := range caps {
		path := yamlnode.Index(path, i)
		for _, kv := range c.Add {
			for _, name := range strings.Split(kv.Key.Value, ",") {
				if !slices.Contains(setcapKnown, name) {
					return kv.Key.Pos.Errorf("%s.add: unknown capability %q (known: %s)", path, name, strings.Join(setcapKnown, ", "))
				}
			}
		}
		if strings.TrimSpace(c.Reason.Value) == "" {
			return c.Pos.Errorf("%s: reason: missing; say why the capability is needed", path)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
