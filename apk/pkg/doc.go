// Package pkg reads and writes apk v2 packages (.apk files).
//
// A package is three gzip members that together form one tar stream:
//
//  1. signatures: .SIGN.RSA.<key> / .SIGN.RSA256.<key> entries, each an
//     RSA PKCS#1 v1.5 signature over the compressed bytes of member 2
//     (absent in unsigned packages);
//  2. control: .PKGINFO and the scriptlets; the SHA-1 of its compressed
//     bytes is the index checksum (C: "Q1...");
//  3. data: the files, each regular file and symlink carrying its SHA-1 in
//     the APK-TOOLS.checksum.SHA1 PAX record; the SHA-256 of the
//     compressed member is the .PKGINFO datahash.
//
// Signatures and checksums cover compressed bytes, so Open finds the
// member boundaries exactly while streaming (see apk/internal/gzmember)
// and never holds the data member in memory. Write produces the same
// bytes for the same input.
package pkg
