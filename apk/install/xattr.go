package install

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// paxXattrPrefix marks PAX records that carry extended attributes.
const paxXattrPrefix = "SCHILY.xattr."

type xattr struct{ name, value string }

// headerXattrs returns a header's extended attributes sorted by name, the
// order apk hashes them in.
func headerXattrs(pax map[string]string) []xattr {
	var xs []xattr
	for k, v := range pax {
		if name, ok := strings.CutPrefix(k, paxXattrPrefix); ok && name != "" {
			xs = append(xs, xattr{name, v})
		}
	}
	sort.Slice(xs, func(i, j int) bool { return xs[i].name < xs[j].name })
	return xs
}

// xattrDigest is the value apk appends to M: and a: lines: SHA-1 over each
// attribute's name and value, each preceded by its big-endian 32-bit
// length, in name order.
func xattrDigest(xs []xattr) string {
	if len(xs) == 0 {
		return ""
	}
	h := sha1.New()
	var n [4]byte
	for _, x := range xs {
		binary.BigEndian.PutUint32(n[:], uint32(len(x.name)))
		h.Write(n[:])
		h.Write([]byte(x.name))
		binary.BigEndian.PutUint32(n[:], uint32(len(x.value)))
		h.Write(n[:])
		h.Write([]byte(x.value))
	}
	return "Q1" + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// ErrTrustedXattr marks an extended attribute of the trusted namespace. It
// is the kernel's and privileged tools' to set: overlayfs reads
// trusted.overlay.* on a layer's directories (trusted.overlay.opaque hides
// the layers below, as a whiteout would), and an install step has no
// privilege to set one anyway.
var ErrTrustedXattr = errors.New("extended attribute in the trusted namespace, which packages may not set")

// checkXattrs refuses attributes no package may carry.
func checkXattrs(xs []xattr) error {
	for _, x := range xs {
		if strings.HasPrefix(x.name, "trusted.") {
			return fmt.Errorf("%w: %q", ErrTrustedXattr, x.name)
		}
	}
	return nil
}
