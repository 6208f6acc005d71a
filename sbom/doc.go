// Package sbom writes SPDX 2.3 documents for images kiln assembles from
// apk packages. kiln knows exactly what it installed, so the document is
// built from the resolver's install set, not from a scan: every package
// with its version, licence, checksums, purl and dependency edges, plus
// whatever SPDX documents melange packed into the packages themselves.
//
// The same Input gives the same bytes, on a host (`kiln sbom`) or inside
// a build step, so SBOMs are reproducible like the images they describe.
package sbom
