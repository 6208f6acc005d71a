package imagefs

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kiln-build/kiln/step"
)

// Installed is what the generator needs to know of an installed package.
type Installed struct {
	Name     string
	Provides []string
	Files    []string // paths as the installed database lists them
}

// Input is one run of the metadata step.
type Input struct {
	Spec        *step.ImageSpec
	Layers      []string          // the package layers, bottom first (read-only)
	Out         string            // the metadata layer
	Epoch       time.Time         // every mtime written
	InstalledDB []byte            // the merged usr/lib/apk/db/installed
	Scripts     []byte            // usr/lib/apk/db/scripts.tar
	Triggers    []byte            // usr/lib/apk/db/triggers
	Packages    []Installed       // install order
	Keys        map[string][]byte // etc/apk/keys/<name>
}

// Paths of the apk database, as apko lays them out (usr-merged).
const (
	InstalledDBPath = "usr/lib/apk/db/installed"
	scriptsPath     = "usr/lib/apk/db/scripts.tar"
	triggersPath    = "usr/lib/apk/db/triggers"
	lockPath        = "usr/lib/apk/db/lock"
	busyboxBinary   = "/bin/busybox"
	busyboxPathsDir = "/etc/busybox-paths.d"
)

// Generate writes the metadata layer.
func Generate(in Input) error {
	lower, err := openStack(in.Layers)
	if err != nil {
		return err
	}
	defer lower.Close()
	return generate(in, lower)
}

// generate is Generate over in.Layers opened as lower.
func generate(in Input, lower *stack) error {
	out, err := os.OpenRoot(in.Out)
	if err != nil {
		return fmt.Errorf("open output: %w", err)
	}
	defer out.Close()
	l := &layerFS{lower: lower, out: out, outPath: in.Out, epoch: in.Epoch}

	// apko's order: each step sees what the ones before it wrote.
	steps := []struct {
		name string
		fn   func(*layerFS, Input) error
	}{
		{"skeleton", writeSkeleton},
		{"apk database", writeAPK},
		{"lib/apk link", linkAPKDB},
		{"accounts", writeAccounts},
		{"paths", applyPaths},
		{"certificates", installCertificates},
		{"CA bundle checksums", writeBundleChecksums},
		{"runtime keyring", installRuntimeKeys},
		{"services", writeServices},
		{"busybox links", busyboxLinks},
	}
	for _, s := range steps {
		if err := s.fn(l, in); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return l.fixTimes()
}

// writeAPK writes the installed database and apk's configuration, so apk
// and scanners (syft, grype) in or over the image see what was installed.
func writeAPK(l *layerFS, in Input) error {
	files := []struct {
		path string
		data []byte
		mode fs.FileMode
	}{
		{InstalledDBPath, in.InstalledDB, 0o644},
		{scriptsPath, in.Scripts, 0o644},
		{triggersPath, in.Triggers, 0o644},
		{lockPath, nil, 0o600},
		{"etc/apk/world", lines(sortedUnique(in.Spec.World)), 0o644},
		{"etc/apk/repositories", lines(sortedUnique(in.Spec.Repositories)), 0o644},
		{"etc/apk/arch", []byte(in.Spec.Arch + "\n"), 0o644},
	}
	for _, f := range files {
		if err := l.writeFile(f.path, f.data, f.mode, 0, 0); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(in.Keys))
	for n := range in.Keys {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.ContainsAny(n, "/\x00") || n == "." || n == ".." {
			return fmt.Errorf("bad key name %q", n)
		}
		if err := l.writeFile("etc/apk/keys/"+n, in.Keys[n], 0o644, 0, 0); err != nil {
			return err
		}
	}
	return nil
}

// busyboxLinks does what apko does in place of busybox's install trigger:
// a symlink to /bin/busybox for every applet path the busybox package
// lists in /etc/busybox-paths.d/<package>, unless a package ships that path.
func busyboxLinks(l *layerFS, in Input) error {
	if _, _, err := l.lstat(busyboxBinary); err != nil {
		return nil
	}
	var provider string
	for _, p := range in.Packages {
		if p.Name == "busybox" {
			provider = p.Name
			break
		}
		for _, pr := range p.Provides {
			if strings.Contains(pr, "busybox") && provider == "" {
				provider = p.Name
			}
		}
	}
	if provider == "" {
		return fmt.Errorf("%s exists but no installed package is busybox or provides it", busyboxBinary)
	}
	list, err := l.readFile(path.Join(busyboxPathsDir, provider))
	if err != nil {
		return err
	}
	if list == nil {
		return fmt.Errorf("package %s ships %s but no %s/%s listing its applets", provider, busyboxBinary, busyboxPathsDir, provider)
	}
	dirs := newAppletDirs(l)
	defer dirs.close()
	for _, link := range strings.Split(string(list), "\n") {
		link = strings.TrimSpace(link)
		if link == "" || path.Clean(link) == busyboxBinary {
			continue
		}
		if !path.IsAbs(link) {
			return fmt.Errorf("%s/%s: applet path %q is not absolute", busyboxPathsDir, provider, link)
		}
		if err := dirs.link(busyboxBinary, path.Clean(link)); err != nil {
			return err
		}
	}
	return nil
}

// appletDirs makes busybox's links, a few hundred in a few directories:
// each directory is resolved through the image's symlinks, created in the
// metadata layer and opened there once, and each link is then made and
// looked up relative to it. A resolved directory stays valid: once a link
// has been asked for in it, it exists (a package's, or made for the link),
// and a link is only made where nothing is, so never above it.
type appletDirs struct {
	l        *layerFS
	resolved map[string]string   // a directory as listed -> resolved
	open     map[string]*os.Root // a resolved directory, in out
}

func newAppletDirs(l *layerFS) *appletDirs {
	return &appletDirs{l: l, resolved: map[string]string{}, open: map[string]*os.Root{}}
}

func (a *appletDirs) close() {
	for _, r := range a.open {
		r.Close()
	}
}

// link makes p -> target unless the image has p already (a package, or an
// earlier line, provides it).
func (a *appletDirs) link(target, p string) error {
	dir, base := path.Split(p)
	rd, ok := a.resolved[dir]
	if !ok {
		var err error
		if rd, err = a.l.resolve(dir, 0); err != nil {
			return fmt.Errorf("resolve %s: %w", p, err)
		}
		a.resolved[dir] = rd
	}
	rel := strings.TrimPrefix(path.Join(rd, base), "/")
	out := a.open[rd] // nil until a link is made there
	if out != nil {
		if _, err := out.Lstat(base); err == nil {
			return nil
		}
	} else if _, err := a.l.out.Lstat(rel); err == nil {
		return nil
	}
	if _, err := a.l.lower.Lstat(rel); err == nil {
		return nil
	}
	if out == nil {
		// Only now: a directory the layer need not hold stays out of it.
		if err := a.l.mkdirAll(rd); err != nil {
			return err
		}
		name := strings.TrimPrefix(rd, "/")
		if name == "" {
			name = "."
		}
		var err error
		if out, err = a.l.out.OpenRoot(name); err != nil {
			return fmt.Errorf("open /%s: %w", name, err)
		}
		a.open[rd] = out
	}
	if err := out.Symlink(target, base); err != nil {
		return fmt.Errorf("symlink %s -> %s: %w", p, target, err)
	}
	if err := out.Lchown(base, 0, 0); err != nil {
		return fmt.Errorf("chown %s: %w", p, err)
	}
	a.l.written = append(a.l.written, rel)
	return nil
}

func lines(ss []string) []byte {
	if len(ss) == 0 {
		return nil
	}
	return []byte(strings.Join(ss, "\n") + "\n")
}

// sortedUnique sorts a copy of ss and drops repeats, as apko writes its
// world and repositories files.
func sortedUnique(ss []string) []string {
	out := append([]string(nil), ss...)
	sort.Strings(out)
	return slices.Compact(out)
}
