package yamlnode

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Resolve follows an alias to the node it names.
func Resolve(n *yaml.Node) *yaml.Node {
	// An anchored node is never itself an alias, but a bound keeps a
	// malformed hand-built tree from looping.
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// IsNull reports whether n is absent or a YAML null (empty, ~ or null).
func IsNull(n *yaml.Node) bool {
	n = Resolve(n)
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// Describe names what n is, for "expected X, got Y" messages.
func Describe(n *yaml.Node) string {
	n = Resolve(n)
	switch {
	case IsNull(n):
		return "null"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.AliasNode:
		return "an unresolved alias"
	case n.Kind == yaml.DocumentNode:
		return "a document"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	switch n.ShortTag() {
	case "!!int":
		return "integer " + v
	case "!!float":
		return "float " + v
	case "!!bool":
		return "boolean " + v
	case "!!str":
		return "string " + strconv.Quote(v)
	}
	return n.ShortTag() + " " + strconv.Quote(v)
}

// Join extends a field path ("contents" + "packages").
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index extends a field path with a list index ("packages[3]").
func Index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// prefix is path as a message prefix: "contents.packages: ".
func prefix(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}

// where names path for "expected X" messages.
func where(path string) string {
	if path == "" {
		return " at the top level"
	}
	return ""
}

func closest(name string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(name), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance, for "did you mean" hints.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Closest returns the entry of known nearest to name (at most two edits
// away), for "did you mean" hints, or "".
func Closest(name string, known []string) string { return closest(name, known) }
