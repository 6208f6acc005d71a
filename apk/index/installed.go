package index

import "bytes"

// ParseInstalled reads the package records of an installed database
// (apk's lib/apk/db/installed, or a base image's APKINDEX, which apko
// takes in that format): each record's index lines, leaving out the F:,
// M:, R:, a: and Z: lines that list the package's files. Resolving
// against installed packages needs nothing else, and this keeps planning
// away from the installer.
func ParseInstalled(data []byte) ([]*Package, error) {
	out := make([]byte, 0, len(data))
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		if len(line) >= 2 && line[1] == ':' && bytes.IndexByte([]byte("FMRaZ"), line[0]) >= 0 {
			continue
		}
		out = append(out, line...)
	}
	return ParseTextBytes(out)
}
