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
// Nothing here imports BuildKit.
package melange
