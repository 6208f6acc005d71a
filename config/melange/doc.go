// Package melange reads melange build configurations (melange.yaml) and
// the pipeline definitions their steps `uses:`, with melange's schema,
// strictly: unknown fields, duplicate keys and wrong types are errors
// naming file:line:column and the fields that are known, and every value
// keeps where it was written.
//
// Values are kept as written, ${{...}} references included: what they
// stand for depends on the architecture, the subpackage, the build
// options and the pipeline inputs, which is the planner's business
// (plan/melange). Parse runs the checks that hold whatever the
// references turn into; the embedded apko `environment` is checked by
// config/apko with each reference standing in for a value, and decoded
// for real by Environment.Resolve.
package melange
