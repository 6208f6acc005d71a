// Package llb converts a parsed kiln build (an apko image: config plus the
// packages resolved for one architecture) into BuildKit LLB. It is pure:
// no gateway calls, so every graph can be marshalled and inspected in unit
// tests, as BuildKit's dockerfile2llb is.
//
// An image is an llb.Merge of layers. Each layer is the output mount of one
// exec op that runs kiln's own binary (the frontend image) with no network
// and read-only inputs: it verifies a group of .apk files against the
// index checksums and the keyring and extracts them. A last exec writes
// the generated files (installed database, accounts, busybox applet links,
// paths entries) into the metadata layer. Because every package is its own
// input, a one-package change re-runs one install and changes one layer.
package llb
