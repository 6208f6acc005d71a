// Package pipelines holds kiln's built-in pipeline definitions: the files
// melange.yaml steps name with `uses:` (autoconf/configure, go/build,
// split/dev, ...). Each takes the inputs, defaults and build packages
// melange's built-in of the same name takes, and has the same effect on
// the workspace and on ${{targets.contextdir}}, so users' configurations
// work unchanged; the scripts are kiln's own, written for busybox sh with
// `set -e`. Inputs go into the same shell context melange puts them in
// (raw words, double quotes, or a quoted here-document for patch),
// because configurations rely on it: ldflags holding $(git rev-parse
// HEAD), versions naming ${VARS}, opts continued with backslashes.
//
// fetch and git-checkout are not here: plan/melange builds them in as
// typed steps.
//
// Where kiln's built-ins differ from melange's, on purpose:
//
//   - strip leaves stand-alone ELF images (OSABI STANDALONE) alone, as
//     melange's script means to; melange reads the ELF type where it
//     looks for the OSABI, so it strips them.
//   - split/manpages and split/alldocs remove emptied directories up to
//     the package directory, not above it (melange's rmdir --parents can
//     remove the package directory itself), and an empty man directory
//     is not an error. split/bin likewise accepts an empty /usr/bin.
//   - split/dev with prefix "/" searches the package, not the build
//     machine's /.
//   - go/build puts back a ~/.config/git/ignore the user had, as
//     go/build/v2 does; melange's go/build deletes it.
//   - cargo/build without output installs the executables cargo left in
//     output-dir; melange's installs every entry there, which fails on
//     cargo's subdirectories.
//   - npm/install reads overrides of scoped packages (@scope/pkg@^2).
//   - llvm/covreport fails when it cannot find the object, and looks an
//     object that is not a file up in PATH; melange's check for that is
//     broken.
//   - maven/pombump passes dependencies and properties as one argument
//     each; melange splits them into words.
//   - patch does not refuse patch file names holding shell
//     metacharacters: kiln never evaluates them.
//   - xcover/ensure compares with awk instead of bc and needs no bash.
package pipelines
