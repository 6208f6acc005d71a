// Package melange plans a melange build: from a parsed configuration
// (config/melange), an architecture and the pipeline directories, it
// makes what `melange compile` makes — every ${{...}} reference
// substituted, every `uses:` expanded into the steps of its definition,
// every `if:` evaluated, ranged subpackages repeated per data item — as
// typed, flattened steps that keep the position of the YAML that produced
// them. fetch and git-checkout stay typed steps (Fetch, GitCheckout) so
// the converter can make verified sources of them instead of running
// wget or git.
//
// Substitution follows melange, including its two passes: package.*,
// vars.* and range.* are put in when the configuration is parsed, the
// rest when pipelines are compiled. That matters only for `if:` written
// in melange.yaml, where the first kind go in as plain text and the
// second as quoted strings, so `${{build.arch}} == 'x86_64'` and
// `"${{range.key}}" == "64"` both work as they do in melange. Values
// that themselves hold references (a var-transform whose replacement is
// ${{host.triplet.gnu}}) are substituted again where they are used. An
// unknown variable is an error naming it and where it is written.
//
// Where kiln differs from melange, on purpose:
//
//   - Build options' vars override vars everywhere. melange applies them
//     after it has put vars into melange.yaml's text, so there they only
//     reach pipeline definitions.
//   - Values are substituted until no reference is left (with cycle and
//     depth bounds); melange's passes stop after two or three levels, in
//     map order.
//   - Input defaults are only substituted when used, so a definition
//     whose unused default names ${{targets.subpkgdir}} works outside a
//     subpackage too; melange fails on it.
//   - Step environments get every variable the step can use (unknown ones
//     stay as written, as in melange); melange only puts package.* and
//     vars.* into them.
//   - Digests (expected-sha256, expected-sha512, expected-commit) must be
//     lowercase hex after substitution; melange checks the text before
//     substitution and then compares with lowercase tool output.
//   - fetch and git-checkout are always the built-in ones; a pipeline
//     directory cannot replace them.
//   - Scripts are kept as written; melange reformats them with a shell
//     printer (dropping comments) and so rejects shell syntax errors when
//     it compiles, where kiln's build fails when the step runs.
//
// Nothing here imports BuildKit.
package melange
