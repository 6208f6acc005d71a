package index

import (
	"errors"
	"fmt"
)

// ErrBadName marks a package name or version outside apk's grammar.
// Both end up in file names, URLs and paths (name-version.apk, the
// scripts database), so anything else, '/' and ".." above all, is
// refused before use rather than escaped.
var ErrBadName = errors.New("not allowed by apk's grammar")

// nameChar is apk-tools' package-name class: letters, digits and "+-._".
func nameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '+' || c == '-' || c == '.' || c == '_'
}

// CheckName checks a package name (P:, pkgname) the way apk-tools checks
// one it stores: it starts with a letter or digit and holds only letters,
// digits and "+-._".
func CheckName(name string) error {
	if name == "" {
		return fmt.Errorf("package name is empty: %w", ErrBadName)
	}
	if c := name[0]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
		return fmt.Errorf("package name %q must start with a letter or digit: %w", clip(name), ErrBadName)
	}
	for i := 0; i < len(name); i++ {
		if !nameChar(name[i]) {
			return fmt.Errorf("package name %q has %q at byte %d: %w", clip(name), name[i], i, ErrBadName)
		}
	}
	return nil
}

// CheckVersion checks a package version (V:, pkgver) against the
// characters apk's version grammar is made of: it starts with a digit and
// holds only letters, digits and "._-~". The order of the parts is not
// checked: apk keeps versions like 6.8.0p2-r4 that the strict grammar
// refuses and compares their valid prefix, and so does kiln's resolver.
func CheckVersion(v string) error {
	if v == "" {
		return fmt.Errorf("package version is empty: %w", ErrBadName)
	}
	if c := v[0]; c < '0' || c > '9' {
		return fmt.Errorf("package version %q must start with a digit: %w", clip(v), ErrBadName)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' || c == '~') {
			return fmt.Errorf("package version %q has %q at byte %d: %w", clip(v), c, i, ErrBadName)
		}
	}
	return nil
}
