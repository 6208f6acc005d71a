package install

import (
	"fmt"

	"github.com/kiln-build/kiln/apk/index"
	"github.com/kiln-build/kiln/apk/version"
)

// ConflictError is a file two packages ship with different contents where
// neither replaces the other and their origins differ.
type ConflictError struct {
	Path    string // as the new package's archive names it
	Package string // name-version of the package being installed
	Owner   string // name-version of the package owning the path
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("package %s: %s is already owned by %s (contents differ, neither package replaces the other, origins differ)",
		e.Package, e.Path, e.Owner)
}

func nameVersion(p *index.Package) string { return p.Name + "-" + p.Version }

type verdict uint8

const (
	verdictWrite verdict = iota // write the entry and take ownership
	verdictKeep                 // keep the installed file and its owner
)

// decide applies apk-tools' file ownership rules to a path the new
// package ships and another package owns (o nil: nobody).
func decide(newPkg *installed, o *owner, name, checksum string) (verdict, error) {
	if o == nil || o.pkg == newPkg {
		return verdictWrite, nil
	}
	np, op := &newPkg.rec.Package, &o.pkg.rec.Package
	oldPrio, newPrio := -1, -1
	if replaces(op, np) {
		oldPrio = op.ReplacesPriority
	}
	if replaces(np, op) {
		newPrio = np.ReplacesPriority
	}
	switch {
	case oldPrio > newPrio:
		return verdictKeep, nil
	case newPrio >= 0:
		return verdictWrite, nil
	case np.Origin != "" && np.Origin == op.Origin:
		return verdictWrite, nil
	case checksum != "" && checksum == o.checksum:
		return verdictKeep, nil
	}
	return verdictWrite, &ConflictError{Path: name, Package: nameVersion(np), Owner: nameVersion(op)}
}

// replaces reports whether a's r: list names b: apk compares the package
// name (not what it provides) and the version constraint, and a '!'
// entry inverts the match.
func replaces(a, b *index.Package) bool {
	for _, tok := range a.Replaces {
		d, err := version.ParseDependency(tok)
		if err != nil {
			continue // a token apk could not parse matches nothing
		}
		if d.Name != b.Name {
			continue
		}
		var m bool
		switch d.Op {
		case version.OpAny:
			m = true
		case version.OpChecksum:
			m = d.Version == b.Checksum
		default:
			m = d.MatchesLoose(b.Version)
		}
		if m != d.Conflict {
			return true
		}
	}
	return false
}
