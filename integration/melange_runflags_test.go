package integration

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMelangeRunFlags checks that buildx's settings for RUN steps reach
// melange's pipeline steps as they reach a Dockerfile's RUN: a step that
// checks them fails without the flags, naming itself, and passes with them.
func TestMelangeRunFlags(t *testing.T) {
	requireStack(t)
	ctx := melangeContext(t, "melange-shell", false)
	editFile(t, filepath.Join(ctx, "melange.yaml"), "  - name: build\n    runs: |\n",
		"  - name: flags\n    runs: |\n"+
			"      grep -E '^10\\.0\\.0\\.7[[:space:]]+kiln-extra-host$' /etc/hosts\n"+
			"      test \"$(ulimit -n)\" = 512\n"+
			"      test \"$(df -k /dev/shm | awk 'NR == 2 { print $2 }')\" = 65536\n"+
			"  - name: build\n    runs: |\n")
	flags := []string{"--add-host", "kiln-extra-host:10.0.0.7", "--ulimit", "nofile=512:512", "--shm-size", "64m"}

	out, err := tryBuildx(ctx, "melange.yaml", "--platform", "linux/amd64", "--output", "type=local,dest="+t.TempDir())
	if err == nil {
		t.Fatalf("the flags' check passed without the flags:\n%s", lastLines(out, 10))
	}
	if !strings.Contains(lastLine(out), "build step 1: flags") {
		t.Errorf("the error does not name the step:\n%s", lastLines(out, 5))
	}
	buildPackages(t, ctx, append([]string{"--platform", "linux/amd64"}, flags...)...)
}
