package install

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// scriptTypes are the control scripts apk keeps, in the order it stores
// them.
var scriptTypes = []string{
	"pre-install", "post-install", "pre-deinstall", "post-deinstall",
	"pre-upgrade", "post-upgrade", "trigger",
}

// scriptsByType keys scripts by type without the leading dot and drops
// control files that are not scripts.
func scriptsByType(in map[string][]byte) map[string][]byte {
	var out map[string][]byte
	for k, v := range in {
		t := strings.TrimPrefix(k, ".")
		if !slices.Contains(scriptTypes, t) {
			continue
		}
		if out == nil {
			out = map[string][]byte{}
		}
		out[t] = slices.Clone(v)
	}
	return out
}

// WriteScriptsTar writes usr/lib/apk/db/scripts.tar: each script as a
// 0755 root-owned file named <name>-<version>.<X1 hex checksum>.<type>,
// with mtime epoch. With no scripts it is an empty archive.
func WriteScriptsTar(w io.Writer, pkgs []InstalledPackage, epoch int64) error {
	tw := tar.NewWriter(w)
	for i := range pkgs {
		p := &pkgs[i]
		if len(p.Scripts) == 0 {
			continue
		}
		sum, err := checksumHex(p.Checksum)
		if err != nil {
			return fmt.Errorf("scripts of %s: %w", nameVersion(&p.Package), err)
		}
		for _, t := range scriptTypes {
			body, ok := p.Scripts[t]
			if !ok {
				continue
			}
			hdr := &tar.Header{
				Typeflag: tar.TypeReg,
				Name:     p.Name + "-" + p.Version + "." + sum + "." + t,
				Mode:     0o755,
				Size:     int64(len(body)),
				ModTime:  time.Unix(epoch, 0),
			}
			if err := tw.WriteHeader(hdr); err != nil {
				return fmt.Errorf("scripts.tar %q: %w", hdr.Name, err)
			}
			if _, err := tw.Write(body); err != nil {
				return fmt.Errorf("scripts.tar %q: %w", hdr.Name, err)
			}
		}
	}
	return tw.Close()
}

// readScriptsTar attaches the scripts of a scripts.tar to the packages
// whose checksum names them; entries of unknown packages are ignored, as
// apk ignores them.
func readScriptsTar(r io.Reader, byChecksum map[string]*installed) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("scripts.tar: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		typeDot := strings.LastIndexByte(hdr.Name, '.')
		if typeDot <= 0 {
			continue
		}
		sumDot := strings.LastIndexByte(hdr.Name[:typeDot], '.')
		if sumDot < 0 {
			continue
		}
		t, sum := hdr.Name[typeDot+1:], hdr.Name[sumDot+1:typeDot]
		if !slices.Contains(scriptTypes, t) {
			continue
		}
		if strings.HasPrefix(sum, "X") {
			if sum, err = checksumFromHex(sum); err != nil {
				continue
			}
		}
		p := byChecksum[sum]
		if p == nil {
			continue
		}
		body, err := io.ReadAll(io.LimitReader(tr, 64<<20))
		if err != nil {
			return fmt.Errorf("scripts.tar %q: %w", hdr.Name, err)
		}
		if p.rec.Scripts == nil {
			p.rec.Scripts = map[string][]byte{}
		}
		p.rec.Scripts[t] = body
	}
}

// AppendTriggers renders usr/lib/apk/db/triggers: for each package with
// triggers, its checksum and the trigger paths on one line.
func AppendTriggers(dst []byte, pkgs []InstalledPackage) []byte {
	for i := range pkgs {
		p := &pkgs[i]
		if len(p.Triggers) == 0 {
			continue
		}
		dst = append(dst, p.Checksum...)
		for _, t := range p.Triggers {
			dst = append(dst, ' ')
			dst = append(dst, t...)
		}
		dst = append(dst, '\n')
	}
	return dst
}

// readTriggers attaches the lines of a triggers file to the packages
// whose checksum starts them.
func readTriggers(r io.Reader, byChecksum map[string]*installed) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		if p := byChecksum[f[0]]; p != nil {
			p.rec.Triggers = append(p.rec.Triggers, f[1:]...)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("triggers: %w", err)
	}
	return nil
}
