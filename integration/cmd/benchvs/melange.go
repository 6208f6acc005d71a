package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/integration/testrepo"
)

// runMelange compares package builds of the shell example (kiln with its
// test, melange build then melange test, bubblewrap runner) on the same
// config and local repository: cold, a no-op rebuild, a rebuild after
// editing the last pipeline step, and one after editing only test:.
func runMelange(args []string) error {
	fs := flag.NewFlagSet("benchvs melange", flag.ContinueOnError)
	melange := fs.String("melange", os.Getenv("KILN_MELANGE"), "the reference melange binary (../shared/peers builds it)")
	runs := fs.Int("runs", 5, "runs per case and tool")
	example := fs.String("example", "melange-shell", "the example under dockerfile-syntax-examples/")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *melange == "" {
		return fmt.Errorf("--melange or KILN_MELANGE: the reference melange (../shared/peers/build-peers.sh builds it)")
	}
	if _, err := exec.LookPath("bwrap"); err != nil {
		return fmt.Errorf("melange's bubblewrap runner needs bwrap (apt-get install bubblewrap)")
	}
	ctx, err := os.MkdirTemp("", "kiln-bench-melange-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ctx)
	src := filepath.Join("dockerfile-syntax-examples", *example)
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		os.WriteFile(filepath.Join(ctx, e.Name()), data, 0o644)
	}
	signer, err := sign.GenerateSigner(benchKeyName, 2048)
	if err != nil {
		return err
	}
	if _, err := testrepo.Write(testrepo.Options{Dir: filepath.Join(ctx, "packages"), Signer: signer,
		Busybox: map[string]string{"x86_64": testrepo.HostBusybox()}, ListWith: testrepo.HostBusybox()}); err != nil {
		return err
	}
	// One signing key for both tools, kept out of the build context.
	keyDir, err := os.MkdirTemp("", "kiln-bench-key-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(keyDir)
	key, err := sign.GenerateSigner("melange.rsa.pub", 2048)
	if err != nil {
		return err
	}
	keyFile := filepath.Join(keyDir, "melange.rsa")
	os.WriteFile(keyFile, key.PrivateKeyPEM(), 0o600)
	pub, _ := key.PublicKeyPEM()
	os.WriteFile(keyFile+".pub", pub, 0o644)
	os.WriteFile(filepath.Join(ctx, ".melangeignore"), []byte("melange-out\nout\n"), 0o644)
	b := &melangeBench{melange: *melange, ctx: ctx, key: keyFile, cache: filepath.Join(keyDir, "cache")}

	fmt.Printf("\n## melange build of %s (kiln: build and test in one buildx build; melange: build, then test)\n\n", *example)
	header("melange")
	var coldProgress string
	cases := []struct {
		name    string
		prepare func(i int) error
		kiln    []string
		peer    func() (sample, error)
	}{
		{"cold (--no-cache / empty cache)", func(int) error { return os.RemoveAll(b.cache) }, []string{"--no-cache"}, b.buildAndTest},
		{"warm no-op (melange: full rebuild)", nil, nil, b.buildAndTest},
		{"last build step edited", func(i int) error {
			return b.edit("          echo ${{range.value}} >", fmt.Sprintf("          echo edit %d; echo ${{range.value}} >", i))
		},
			nil, b.buildAndTest},
		{"only test: edited (melange: test)", func(i int) error { return b.edit("        greeting\n", fmt.Sprintf("        greeting # edit %d\n", i)) },
			nil, b.test},
	}
	for _, c := range cases {
		r := row{name: c.name}
		for i := 0; i < b.runsFor(*runs); i++ {
			if c.prepare != nil {
				if err := c.prepare(i); err != nil {
					return err
				}
			}
			k, out, err := b.kiln(c.kiln...)
			if err != nil {
				return err
			}
			if c.name[:4] == "cold" {
				coldProgress = out
			}
			p, err := c.peer()
			if err != nil {
				return err
			}
			r.kiln, r.peer = append(r.kiln, k), append(r.peer, p)
			if i == 0 && c.name[:4] != "cold" {
				fmt.Fprintf(os.Stderr, "%s: kiln steps that ran: %s\n", c.name, strings.Join(ran(out), "; "))
			}
		}
		r.print("melange")
	}
	fmt.Printf("\nwhere kiln's last cold build spent its time (vertices of 0.05 s or more):\n")
	for _, l := range vertexTimes(coldProgress) {
		fmt.Println("  " + l)
	}
	return nil
}

type melangeBench struct {
	melange, ctx, key, cache string
	edits                    map[string]string
}

func (b *melangeBench) runsFor(n int) int { return n }

// edit replaces the last edit of old (or old itself) in melange.yaml.
func (b *melangeBench) edit(old, new string) error {
	if b.edits == nil {
		b.edits = map[string]string{}
	}
	p := filepath.Join(b.ctx, "melange.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	cur := old
	if prev, ok := b.edits[old]; ok {
		cur = prev
	}
	if !strings.Contains(string(data), cur) {
		return fmt.Errorf("melange.yaml has no %q", cur)
	}
	b.edits[old] = new
	return os.WriteFile(p, []byte(strings.Replace(string(data), cur, new, 1)), 0o644)
}

func (b *melangeBench) kiln(args ...string) (sample, string, error) {
	out := filepath.Join(os.TempDir(), "kiln-bench-melange-out")
	os.RemoveAll(out)
	return kilnBuild(b.ctx, "melange.yaml", "type=local,dest="+out, append([]string{"--secret", "id=melange.rsa,src=" + b.key}, args...)...)
}

func (b *melangeBench) buildAndTest() (sample, error) {
	out := filepath.Join(b.ctx, "out")
	os.RemoveAll(out)
	s1, _, err := run(b.ctx, nil, false, b.melange, "build", "melange.yaml", "--runner", "bubblewrap", "--arch", "x86_64",
		"--signing-key", b.key, "--out-dir", out, "--cache-dir", b.cache)
	if err != nil {
		return sample{}, err
	}
	s2, err := b.test()
	return sample{wall: s1.wall + s2.wall, cpu: s1.cpu + s2.cpu}, err
}

func (b *melangeBench) test() (sample, error) {
	s, _, err := run(b.ctx, nil, false, b.melange, "test", "melange.yaml", "--runner", "bubblewrap", "--arch", "x86_64",
		"-r", filepath.Join(b.ctx, "out"), "-k", b.key+".pub", "-r", "./packages", "-k", "./packages/kiln-test.rsa.pub")
	return s, err
}

// ran lists the exec vertices a build ran (not cached).
func ran(progress string) []string {
	var out []string
	for _, l := range vertexTimes(progress) {
		if strings.Contains(l, " step ") || strings.Contains(l, "package and sign") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}
