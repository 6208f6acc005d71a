package imagefs

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/step"
)

// caBundles are the trust stores apko appends certificates to and keeps a
// checksum beside, when the image has them.
var caBundles = []string{
	"etc/ssl/certs/ca-certificates.crt",
	"var/lib/ecs/deps/execute-command/certs/tls-ca-bundle.pem",
	"kaniko/ssl/certs/ca-certificates.crt",
}

// localCertDir is where extra certificates go, one file each.
const localCertDir = "usr/local/share/ca-certificates"

// installCertificates writes each additional certificate (and each one a
// provider package ships) to usr/local/share/ca-certificates as
// <name>-<sha256 of DER>.crt and appends them all to every CA bundle the
// image has, as apko does. Bundles are copied up before they change.
func installCertificates(l *layerFS, in Input) error {
	c := in.Spec.Certificates
	if c == nil {
		return nil
	}
	var certs []*pem.Block
	for _, a := range c.Additional {
		block, err := oneCertificate(a.Content)
		if err != nil {
			return fmt.Errorf("certificate %q: %w", a.Name, err)
		}
		sum := sha256.Sum256(block.Bytes)
		name := path.Join(localCertDir, a.Name+"-"+hex.EncodeToString(sum[:])+".crt")
		if err := l.writeFile(name, pem.EncodeToMemory(block), 0o644, 0, 0); err != nil {
			return err
		}
		certs = append(certs, block)
	}
	provided, err := providerCertificates(l, in)
	if err != nil {
		return err
	}
	certs = append(certs, provided...)
	if len(certs) == 0 {
		return nil
	}
	var add []byte
	for _, b := range certs {
		add = append(append(add, pem.EncodeToMemory(b)...), '\n')
	}
	for _, bundle := range caBundles {
		data, err := l.readFile("/" + bundle)
		if err != nil || data == nil {
			continue
		}
		rp, err := l.resolveParent(bundle)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(rp, "/")
		if err := l.copyUp(rel); err != nil {
			return err
		}
		fi, err := l.out.Lstat(rel)
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		if err := l.out.WriteFile(rel, append(data, add...), fi.Mode().Perm()); err != nil {
			return fmt.Errorf("append to %s: %w", bundle, err)
		}
	}
	return nil
}

// providerCertificates reads the certificates that packages providing one
// of the configured names (exactly) ship under localCertDir, by path.
func providerCertificates(l *layerFS, in Input) ([]*pem.Block, error) {
	want := map[string]bool{}
	for _, p := range in.Spec.Certificates.Providers {
		want[p] = true
	}
	var files []string
	for _, p := range in.Packages {
		match := false
		for _, pr := range p.Provides {
			match = match || want[pr]
		}
		if !match {
			continue
		}
		for _, f := range p.Files {
			if strings.HasPrefix(f, localCertDir+"/") && (strings.HasSuffix(f, ".crt") || strings.HasSuffix(f, ".pem")) {
				files = append(files, f)
			}
		}
	}
	sort.Strings(files)
	var out []*pem.Block
	for _, f := range files {
		data, err := l.readFile("/" + f)
		if err != nil || data == nil {
			continue
		}
		if b, err := oneCertificate(string(data)); err == nil {
			out = append(out, b) // apko skips what does not parse
		}
	}
	return out, nil
}

// oneCertificate requires exactly one parsable PEM certificate.
func oneCertificate(s string) (*pem.Block, error) {
	block, rest := pem.Decode([]byte(s))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("not a PEM certificate")
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, fmt.Errorf("more than one PEM block")
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		return nil, err
	}
	return &pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes}, nil
}

// writeBundleChecksums writes `.<bundle>.sha256` beside every CA bundle the
// image has (sha256sum's format), as apko does for tools that check the
// bundle was not changed after the build.
func writeBundleChecksums(l *layerFS, in Input) error {
	for _, bundle := range caBundles {
		rp, err := l.resolve("/"+bundle, 0)
		if err != nil {
			return err
		}
		fi, _, err := l.lstat(rp)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		data, err := l.readFile(rp)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		line := hex.EncodeToString(sum[:]) + "  " + path.Base(bundle) + "\n"
		side := path.Join(path.Dir(rp), "."+path.Base(bundle)+".sha256")
		if err := l.writeFile(side, []byte(line), 0o444, 0, 0); err != nil {
			return err
		}
	}
	return nil
}

// installRuntimeKeys writes the runtime keyring to /etc/apk/keys, after
// everything was installed, so these keys never verify this build. Each
// must be one RSA public key; it is written in canonical PEM, as apko
// writes it.
func installRuntimeKeys(l *layerFS, in Input) error {
	keys := append([]step.NamedFile(nil), in.Spec.RuntimeKeys...)
	sort.Slice(keys, func(i, j int) bool { return keys[i].Name < keys[j].Name })
	for _, k := range keys {
		if !validFileName(k.Name) {
			return fmt.Errorf("runtime key %q: invalid name", k.Name)
		}
		pub, err := sign.ParsePublicKey([]byte(k.Content))
		if err != nil {
			return fmt.Errorf("runtime key %q: %w", k.Name, err)
		}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return fmt.Errorf("runtime key %q: %w", k.Name, err)
		}
		p := "/etc/apk/keys/" + k.Name
		rp, err := l.resolveParent(p)
		if err != nil {
			return err
		}
		if _, _, err := l.lstat(rp); err == nil {
			return fmt.Errorf("runtime key %q collides with an existing /etc/apk/keys entry", k.Name)
		}
		if err := l.writeFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644, 0, 0); err != nil {
			return err
		}
	}
	return nil
}

// validFileName is the rule apko holds key and certificate names to.
func validFileName(name string) bool {
	if name == "" || name[0] == '.' {
		return false
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}
