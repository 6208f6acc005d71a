// Package apk is the root of kiln's pure-Go implementation of the Alpine
// package world. It holds no code of its own; the work lives in sub-packages
// with one job each:
//
//   - version: apk version strings and dependency constraints
//   - sign:    RSA keyrings, signature verification and signing
//   - index:   APKINDEX records, reading and writing APKINDEX.tar.gz
//   - pkg:     reading, verifying and writing .apk files
//   - resolve: computing an install set and order from a world
//   - install: safe extraction and the installed database
//   - repo:    loading repositories from directories and http(s) URLs
//   - apktest: building signed test repositories from Go descriptions
//
// Nothing under apk/ imports BuildKit.
package apk
