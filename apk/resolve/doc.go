// Package resolve computes what apk installs for a world: the packages,
// their install order and the dependency graph, from repository indexes,
// with apk-tools' semantics for provides, provider_priority, conflicts,
// install_if and pinned repository tags.
//
// # Choosing a provider
//
// A name (a package name or a provided name such as so:libc.musl-x86_64.so.1,
// cmd:sh, pc:zlib or /bin/sh) can have several candidates. kiln ranks them
// as apko v1.2.39 does (its comparePackages, as its resolver calls it).
//
// What apko counts as already selected is not what kiln has selected.
// apko sorts the world, resolves its entries with nothing selected, then
// walks each entry's dependencies depth first, a package's in order of
// fewest candidates then text, and records a package only once the walk of
// a package requiring it is over. kiln selects breadth first, so it counts
// a selected package as recorded if the world asks for it, install_if added
// it, or some package requiring it hangs, below the package where its line
// from the world meets the requirer's, from a dependency that apko walks
// before the one leading to the requirer (or from a world entry sorting
// first). Packages the requirer, or one above it, requires do not count.
//
// A requirement is met by a package already selected that provides the
// name in a way that meets it; if only unversioned provides hold the name
// (apko records none) and that package is not recorded, the candidates are
// ranked again and the best one, if another, is added too (Alpine's
// lua5.2-penlight: lua-penlight -> lua is walked before lua5.2-filesystem
// brings lua5.2 in, so lua5.1, k:100, joins). Otherwise, among the
// candidates that meet the requirement and every constraint already known
// on the names they would take:
//
//  1. those meeting the hints learnt by an earlier failed attempt (kiln's
//     backtracking, see below; apko has none);
//  2. for a dependency (not a world entry), those whose origin is recorded
//     at the candidate's version (busybox-ifupdown, origin busybox, for
//     alpine-base's openrc -> ifupdown-any, since alpine-baselayout ->
//     /bin/sh, walked first, brought busybox in);
//  3. those in the preferred repositories: for a world entry name@tag those
//     tagged tag, otherwise the untagged ones;
//  4. the higher version under the requested name (the provided version:
//     a go-1.22 that provides go=1.22.1 beats an older package really named
//     go), when both carry one: an unversioned provide ties with anything;
//     a so: version without a -rN release ranks as 0.VERSION, as in apko;
//  5. between two versions of one package, the higher;
//  6. higher provider_priority (k:);
//  7. the higher package version;
//  8. package name, then repository order, then index order.
//
// So an unversioned provide with a higher provider_priority beats the
// package really named so, and between equal versions provider_priority,
// then the name, decides (Alpine's gvim, providing vim, wins "vim"). apko's
// rules "same repository" and "same origin as the package that depends on
// it" are never applied by v1.2.39 (it passes no such package), and kiln
// leaves them out. A version kiln cannot parse loses to one it can.
//
// The walk order is estimated: kiln counts a dependency's candidates on the
// whole index where apko counts those not yet ruled out, and apko's
// install_if, which looks only at one world entry's dependencies, is not
// kiln's.
//
// # Versions under provided names
//
// A versioned constraint is checked against the version a package provides
// under that name (so:libfoo.so.1>=2 against so:libfoo.so.1=2.1), the
// package version for its own name. An unversioned provide meets only
// unversioned constraints and is not hit by a versioned conflict such as
// !foo<2 (apko's rule; apk-tools treats the missing version as matching
// anything, both ways).
//
// # One package per name
//
// As in apk, two selected packages may not both carry a version for the same
// name (their own names count): two versions of one package, or libfoo and
// libfoo-compat both providing so:libfoo.so.1=1, never install together.
// Unversioned provides may be shared (busybox and another /bin/sh). Replaces
// (r:) do not change this: they only matter to the installer, which finds
// them in Resolved.Package.Replaces.
//
// # Conflicts, install_if, tags
//
// !name constraints, in the world or in a package's D:, exclude every
// provider they match except the package declaring them. A package whose
// i: conditions are all met by the selection (a !name condition: nothing
// selected matches it) is added, best version first among the versions
// whose conditions hold, until nothing more triggers; a package whose
// conditions are all negative is never added. A repository with a Tag is
// used only for world entries name@tag, for the dependencies of packages
// selected through it, and for install_if packages triggered by such
// packages; untagged repositories are always eligible.
//
// # Install order
//
// Solution.Packages lists dependencies before their dependents: depth
// first from the world entries in the order given, each package's D: in
// the order written, then packages added by install_if after the packages
// that triggered them. An edge closing a cycle is skipped, so the order of
// a cycle is that of this walk.
//
// # Backtracking
//
// Requirements are processed breadth first, and every constraint of a
// selected package is recorded on its name before that name is chosen, so
// most version clashes are avoided up front. Candidates whose dependencies
// could no longer be met by what is already selected are skipped (apk's
// "dependency no longer satisfiable"). When a requirement still cannot be
// met, the resolver learns either a hint (prefer versions of a name that
// meet the constraint that failed) or excludes the most recently selected
// package involved, and starts again; every retry learns something new, so
// this ends, and the final error lists what was ruled out and why.
package resolve
