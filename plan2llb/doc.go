// Package plan2llb converts one platform of a kiln plan into BuildKit LLB,
// as BuildKit's dockerfile2llb converts a Dockerfile. It is pure: no
// gateway calls, so every graph can be marshalled and inspected in unit
// tests, and the frontend only marshals, solves and attaches.
//
// An image is an llb.Merge of layers. Each package layer is the output
// mount of one exec op that runs kiln's own binary (the frontend image)
// with no network and read-only inputs: it verifies a group of .apk files
// against the index checksums and the keyring and extracts them. A last
// exec writes the generated files (installed database, accounts, busybox
// applet links, paths entries) into the metadata layer. Because every
// package is its own input, a one-package change re-runs one install and
// changes one layer. The commands and their mounts are defined once, in
// package step.
//
// On a base image, each of its layers is applied by a step of its own
// (kiln's binary again: the blob checked against its digest, whiteouts
// applied) on a read-write mount of the layers below; the diff of that
// mount is the layer, so the image keeps the base's layers, below the
// package layers, with their deletions. The top layer's step also records
// the base's directory symlinks, which the install and metadata steps
// write through.
package plan2llb
