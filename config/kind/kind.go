// Package kind tells the two kinds of YAML kiln builds apart, an apko
// image config and a melange package build, for the frontend and the
// host commands alike.
package kind

import "bytes"

// Kind is what a YAML file describes.
type Kind int

const (
	Unknown Kind = iota
	Apko         // an image: top-level contents
	Melange      // a package build: top-level package (or pipeline)
)

func (k Kind) String() string {
	switch k {
	case Apko:
		return "apko"
	case Melange:
		return "melange"
	}
	return "unknown"
}

// Of tells apko from melange YAML by their top-level keys; the strict
// parsers report everything else. A leading UTF-8 byte-order mark, which
// YAML readers skip, is no part of the first key.
func Of(data []byte) Kind {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	for _, line := range bytes.Split(data, []byte("\n")) {
		switch {
		case bytes.HasPrefix(line, []byte("contents:")):
			return Apko
		case bytes.HasPrefix(line, []byte("package:")), bytes.HasPrefix(line, []byte("pipeline:")):
			return Melange
		}
	}
	return Unknown
}
