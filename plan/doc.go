// Package plan turns an apko config into what a build does, with no
// BuildKit in sight: the request (the config's meaning, with every value's
// position kept for errors), then, once keys and indexes are read through
// a Source, the resolved plan of each platform: the packages in install
// order and where each comes from, their grouping into layers, the image
// config, the spec of the generated files and the SBOM's input.
//
// The frontend reads through BuildKit, kiln's host commands read the disk
// and the network; both plan through this one path, so `kiln
// show-packages` and `kiln sbom` accept and refuse exactly what a build
// does and resolve the same versions.
package plan
