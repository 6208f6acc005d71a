// Package yamlnode decodes YAML strictly from yaml.v3 node trees, keeping
// every scalar exactly as written and the file:line:column of every value.
//
// It exists because decoding user YAML through reflection or JSON loses
// what kiln needs: "3.10" becomes 3.1, "00303" becomes 195, and errors lose
// their column. Callers describe a mapping as a table of field decoders
// (see Decoder.Mapping); unknown and duplicate keys are errors, and
// anchors, aliases and merge keys (<<) behave as YAML defines them.
//
// A field whose value is null (`key:`, `key: ~`) is treated as absent,
// which is what yaml.v3 does when decoding into Go zero values, so configs
// behave as they do in apko and melange.
package yamlnode
