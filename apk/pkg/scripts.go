package pkg

import (
	"fmt"
	"slices"
	"strings"
)

// ScriptNames are the control entries apk runs as scriptlets.
var ScriptNames = []string{
	".pre-install", ".post-install",
	".pre-upgrade", ".post-upgrade",
	".pre-deinstall", ".post-deinstall",
	".trigger",
}

// scriptName returns the control entry name for a scriptlet given with or
// without its leading dot.
func scriptName(name string) (string, error) {
	n := "." + strings.TrimPrefix(name, ".")
	if !slices.Contains(ScriptNames, n) {
		return "", fmt.Errorf("unknown scriptlet %q (want one of %s)", name, strings.Join(ScriptNames, " "))
	}
	return n, nil
}
