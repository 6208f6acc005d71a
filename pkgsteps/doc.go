// Package pkgsteps runs the in-build commands of a melange build (their
// contract is in package step): melange-key finds the signing key and
// reports its public half, melange-package turns the output directories
// into signed packages and an index (package pkgbuild does the packaging),
// melange-extract unpacks a fetched source. Nothing here knows BuildKit.
package pkgsteps
