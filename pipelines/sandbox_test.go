package pipelines

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kiln-build/kiln/plan/melange"
)

// hostArch is the machine's architecture, which the scripts run for.
func hostArch() string { return runtime.GOARCH }

// sandbox runs compiled steps for real under busybox sh, with a
// temporary directory standing for the build environment's / (the
// scripts' /home/build and /var/cache/melange are moved under it).
// Commands are busybox applets unless the test puts a host tool or a
// fake in front of them.
type sandbox struct {
	t       *testing.T
	bb      string
	root    string
	bin     string // fakes and host tools, first in PATH
	applets string // busybox applets, for programs the steps start
	log     string // where fakes record how they were called
	funcs   string // shell functions putting host tools before applets
	env     []string
}

func newSandbox(t *testing.T, hostTools ...string) *sandbox {
	t.Helper()
	s := &sandbox{t: t, bb: busybox(t), root: t.TempDir(), bin: t.TempDir()}
	s.log = filepath.Join(t.TempDir(), "calls")
	s.applets = applets(t, s.bb)
	for _, name := range hostTools {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Skipf("%s not found", name)
		}
		if err := os.Symlink(p, filepath.Join(s.bin, name)); err != nil {
			t.Fatal(err)
		}
		// A busybox built as a standalone shell runs its own applet of
		// the same name even when PATH has another; a function wins.
		s.funcs += fmt.Sprintf("%s() { '%s' \"$@\"; }\n", name, p)
	}
	if err := os.MkdirAll(s.path(melange.WorkDir), 0o755); err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	appletsOnce sync.Once
	appletsDir  string
	appletsErr  error
)

// applets is a directory of links to every busybox applet, made once for
// all tests and removed by TestMain.
func applets(t *testing.T, bb string) string {
	t.Helper()
	appletsOnce.Do(func() {
		var list []byte
		if list, appletsErr = exec.Command(bb, "--list").Output(); appletsErr != nil {
			return
		}
		if appletsDir, appletsErr = os.MkdirTemp("", "kiln-applets-"); appletsErr != nil {
			return
		}
		for _, a := range strings.Fields(string(list)) {
			if appletsErr = os.Symlink(bb, filepath.Join(appletsDir, a)); appletsErr != nil {
				return
			}
		}
	})
	if appletsErr != nil {
		t.Fatalf("busybox applets: %v", appletsErr)
	}
	return appletsDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if appletsDir != "" {
		os.RemoveAll(appletsDir)
	}
	os.Exit(code)
}

// path is where an absolute path of the build environment is.
func (s *sandbox) path(p string) string { return filepath.Join(s.root, p) }

// rebase moves the build environment's paths in text under the root.
func (s *sandbox) rebase(text string) string {
	for _, p := range []string{melange.WorkDir, "/var/cache/melange"} {
		text = strings.ReplaceAll(text, p, s.path(p))
	}
	return text
}

// fake puts a program written in shell first in PATH; $LOG is the file
// to record calls in.
func (s *sandbox) fake(name, script string) {
	s.t.Helper()
	data := "#!" + s.bb + " sh\n" + script + "\n"
	if err := os.WriteFile(filepath.Join(s.bin, name), []byte(data), 0o755); err != nil {
		s.t.Fatal(err)
	}
}

// link makes name in PATH a symbolic link to the fake or tool target.
func (s *sandbox) link(target, name string) {
	s.t.Helper()
	if err := os.Symlink(filepath.Join(s.bin, target), filepath.Join(s.bin, name)); err != nil {
		s.t.Fatal(err)
	}
}

// recorder is a fake that records its name and arguments, one call a
// line, quoting arguments that hold blanks. script, if any, runs after.
func (s *sandbox) recorder(name string, script ...string) {
	s.fake(name, `{
  printf '%s' "${0##*/}"
  for a; do
    case $a in
      *' '* | '') printf " '%s'" "$a" ;;
      *) printf ' %s' "$a" ;;
    esac
  done
  echo
} >> "$LOG"
`+strings.Join(script, "\n"))
}

// calls are the lines the fakes recorded.
func (s *sandbox) calls() []string {
	data, err := os.ReadFile(s.log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(s.rebaseBack(string(data))), "\n"), "\n")
}

// rebaseBack writes paths under the root as the build environment sees
// them.
func (s *sandbox) rebaseBack(text string) string {
	return strings.ReplaceAll(text, s.root, "")
}

// files creates a tree under the build environment's path dir:
// "path" is a file holding its own name, "path -> target" a symbolic
// link, "path/" an empty directory.
func (s *sandbox) files(dir string, entries ...string) {
	s.t.Helper()
	for _, e := range entries {
		p := filepath.Join(s.path(dir), e)
		var err error
		switch name, target, link := strings.Cut(e, " -> "); {
		case link:
			p = filepath.Join(s.path(dir), name)
			if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
				err = os.Symlink(target, p)
			}
		case strings.HasSuffix(e, "/"):
			err = os.MkdirAll(p, 0o755)
		default:
			if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
				err = os.WriteFile(p, []byte(e+"\n"), 0o644)
			}
		}
		if err != nil {
			s.t.Fatal(err)
		}
	}
}

// tree lists what is under the build environment's path dir, in the
// notation of files (directories only when empty), sorted.
func (s *sandbox) tree(dir string) []string {
	s.t.Helper()
	base := s.path(dir)
	var out []string
	err := filepath.WalkDir(base, func(p string, e fs.DirEntry, err error) error {
		if err != nil || p == base {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, rel+" -> "+target)
		case e.IsDir():
			if entries, err := os.ReadDir(p); err == nil && len(entries) == 0 {
				out = append(out, rel+"/")
			}
		default:
			out = append(out, rel)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		s.t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// run runs steps in order as the build does, stopping at the first that
// fails; the error holds the output.
func (s *sandbox) run(steps []melange.Step) (string, error) {
	s.t.Helper()
	var out bytes.Buffer
	for _, st := range steps {
		r, ok := st.(*melange.Run)
		if !ok {
			s.t.Fatalf("%s: not a script step", st.Info().Where())
		}
		cmd := exec.Command(s.bb, "sh", "-c", s.funcs+s.rebase(r.Command()[2]))
		cmd.Env = append([]string{
			"PATH=" + s.bin + ":" + s.applets,
			"HOME=" + s.path(melange.WorkDir),
			"LOG=" + s.log,
		}, s.env...)
		for _, e := range r.Env {
			if e.Name != "PATH" {
				cmd.Env = append(cmd.Env, e.Name+"="+s.rebase(e.Value))
			}
		}
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return out.String(), fmt.Errorf("%s: %v\n%s", r.Where(), err, out.String())
		}
	}
	return out.String(), nil
}

// steps are every step of a plan: the main pipeline's, then the
// subpackages', in the order the build runs them.
func steps(p *melange.Plan) []melange.Step {
	out := append([]melange.Step{}, p.Pipeline...)
	for _, sp := range p.Subpackages {
		out = append(out, sp.Pipeline...)
	}
	return out
}

// doc is a melange.yaml for the package hello with the given pipeline
// and subpackages sections (YAML, as written at the top level).
func doc(sections string) string {
	return "package:\n  name: hello\n  version: 1.2.3\n  epoch: 0\n  description: test\n" + sections
}

func TestSandboxTree(t *testing.T) {
	// The helpers the tests below rely on, on a tree of each kind.
	s := newSandbox(t)
	in := []string{"a/b/c", "a/empty/", "a/link -> b/c", "top"}
	s.files("/x", in...)
	if got := s.tree("/x"); !slices.Equal(got, in) {
		t.Errorf("tree: got %q, want %q", got, in)
	}
	if got := s.rebase("cd /home/build/src"); got != "cd "+s.root+"/home/build/src" {
		t.Errorf("rebase: %q", got)
	}
	s.recorder("tool")
	p := compile(t, doc("pipeline:\n  - runs: tool one \"two three\"\n  - runs: tool four\n"))
	if _, err := s.run(p.Pipeline); err != nil {
		t.Fatal(err)
	}
	if got, want := s.calls(), []string{"tool one 'two three'", "tool four"}; !slices.Equal(got, want) {
		t.Errorf("calls: got %q, want %q", got, want)
	}
	p = compile(t, doc("pipeline:\n  - runs: \"false\"\n  - runs: tool never\n"))
	if _, err := s.run(p.Pipeline); err == nil {
		t.Error("a failing step did not fail the run")
	}
}
