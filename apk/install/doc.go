// Package install extracts apk packages into a root directory and writes
// the apk installed database, the way apk-tools and apko lay it out.
//
// # Safety
//
// Every entry name is checked before anything is written: absolute names,
// names with a ".." component and names with control characters are
// rejected (ErrUnsafePath). Parent directories are resolved component by
// component with Lstat/Readlink under the root; the kernel never follows
// a symlink on a path kiln builds. Symlinks met on the way are followed
// with image semantics: an absolute target is read relative to the root
// (it is what the target names once the root is an image's "/"), and a
// relative target that climbs above the root is rejected. A parent must
// already exist (the package ships its directory entries, as apk
// requires), so a write through a symlink whose target is missing in the
// root fails instead of creating it. Hard links must name a regular file
// this package extracted earlier. The final path component is never
// followed: files, symlinks and links are created under a temporary name
// in the resolved parent directory and renamed into place.
//
// Two kinds of entry are refused outright (the error names the package
// and the entry). A name with a component starting ".wh." (ErrWhiteout)
// would become an OCI whiteout in the package's layer and delete files of
// the layers below. Character and block devices and FIFOs
// (ErrSpecialFile) are refused as apko refuses them.
//
// # Metadata
//
// Owners are set with lchown (Options.Chown; by default only when running
// as root), then the mode (chown clears setuid/setgid), then the
// SCHILY.xattr.* PAX records (chown also clears security.capability),
// then the timestamps. Extended attributes are set on files and
// directories and, as apk does, recorded but not set on symlinks; a
// filesystem that refuses one fails the install rather than dropping,
// say, a file capability. The database records their digest after the
// mode on M: and a: lines, as apk-tools does; the per-file SHA-1 does not
// cover them, the package's datahash does. Every mtime and atime is Options.SourceDateEpoch.
// Directory modes and times are applied at the end of each Install (and
// of WriteDatabase), after their contents are written, so a 0555
// directory can still be filled by its own package. A directory that
// already exists keeps its metadata (the first package to create it
// wins, as in apko). A file whose directory the package does not ship
// (but which exists) is recorded under an F: line with the default owner
// and mode.
//
// # Conflicts
//
// Each file path is owned by one package. When a package ships a path
// another package owns, the rules of apk-tools apply: if the installed
// package replaces the new one with a higher replaces_priority the file
// is kept; if the new package replaces the owner (r:) or both share an
// origin (o:) the file is overwritten and changes owner. Otherwise
// identical contents (same checksum) are allowed and the first owner
// keeps the file; anything else is a *ConflictError naming both packages
// and the path. Directories may be shared freely.
//
// # Database
//
// WriteDatabase writes what apko writes for apk: usr/lib/apk/db/installed
// (index header lines, then F:/M:/R:/a:/Z: lines per directory and file,
// a blank line after each package), usr/lib/apk/db/scripts.tar (control
// scripts named <name>-<version>.<X1hex checksum>.<script>),
// usr/lib/apk/db/triggers (one "<checksum> <paths>" line per package with
// triggers), and etc/apk/world, etc/apk/repositories, etc/apk/arch and
// etc/apk/keys/<name> when given. ReadDatabase parses the installed file
// back. Modes are written in octal without padding, as apk-tools does.
package install
