package install

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// paxChecksumKey is the PAX record abuild writes with each entry's SHA-1
// (hex; of the contents, or of a symlink's target).
const paxChecksumKey = "APK-TOOLS.checksum.SHA1"

// q1 renders a SHA-1 the way the installed database writes it.
func q1(sum []byte) string { return "Q1" + base64.StdEncoding.EncodeToString(sum) }

func sha1Q1(b []byte) string {
	s := sha1.Sum(b)
	return q1(s[:])
}

// headerChecksum returns the checksum a header declares, as Q1+base64,
// or "" when it declares none. Some writers put Q1+base64 there instead of
// hex; both are accepted.
func headerChecksum(pax map[string]string) (string, error) {
	v, ok := pax[paxChecksumKey]
	if !ok || v == "" {
		return "", nil
	}
	if b64, ok := strings.CutPrefix(v, "Q1"); ok {
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != sha1.Size {
			return "", fmt.Errorf("bad %s record %q", paxChecksumKey, v)
		}
		return v, nil
	}
	raw, err := hex.DecodeString(v)
	if err != nil || len(raw) != sha1.Size {
		return "", fmt.Errorf("bad %s record %q", paxChecksumKey, v)
	}
	return q1(raw), nil
}

// checksumHex renders a package checksum (C: "Q1..." or "Q2...") as the
// "X1"/"X2" hex form apk uses in scripts.tar entry names, which, unlike
// base64, never contains a '/'.
func checksumHex(c string) (string, error) {
	if len(c) < 3 || c[0] != 'Q' || (c[1] != '1' && c[1] != '2') {
		return "", fmt.Errorf("package checksum %q is not Q1/Q2", c)
	}
	raw, err := base64.StdEncoding.DecodeString(c[2:])
	if err != nil {
		return "", fmt.Errorf("package checksum %q: %w", c, err)
	}
	return "X" + c[1:2] + hex.EncodeToString(raw), nil
}

// checksumFromHex is the inverse of checksumHex.
func checksumFromHex(x string) (string, error) {
	if len(x) < 3 || x[0] != 'X' || (x[1] != '1' && x[1] != '2') {
		return "", fmt.Errorf("checksum %q is not X1/X2", x)
	}
	raw, err := hex.DecodeString(x[2:])
	if err != nil {
		return "", fmt.Errorf("checksum %q: %w", x, err)
	}
	return "Q" + x[1:2] + base64.StdEncoding.EncodeToString(raw), nil
}
