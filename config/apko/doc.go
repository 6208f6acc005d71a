// Package apko reads apko image configurations (apko.yaml) with apko's
// schema and semantics, strictly: unknown fields, duplicate keys, wrong
// types and bad values are errors naming file:line:column, and every
// value keeps where it was written so later stages (package resolution,
// image assembly) can point at the line that asked for it.
//
// Scalars are kept as written: a package "python3=3.10" or an environment
// value 00303 stays exactly that text.
//
// Parse reads one file; Load also follows `include`, merging the included
// configuration under the including one the way apko does; Validate runs
// the checks that need the whole (merged) configuration.
package apko
