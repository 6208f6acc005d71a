package version

// Matches reports whether v satisfies the version condition, as apk's
// apk_version_match does. It ignores Conflict (the caller decides what a
// match of a '!' constraint means); OpAny matches everything and a
// checksum pin matches no version (compare checksums instead).
//
// The fuzzy operators treat the constraint's version as a token prefix:
// ~1.2 matches 1.2, 1.2.3, 1.2a, 1.2_rc1, 1.2_p1 and 1.2-r5, but not
// 1.20, 1.3 or 1.1. >~1.2 is "~1.2 or newer" and <~1.2 "~1.2 or older".
// (apk-tools 2.x matched in both directions, so there ~1.2.3 also
// matched 1.2; apk-tools 3 and this package do not.)
func (d Dependency) Matches(v Version) bool {
	return d.match(v.toks, v.raw)
}

// MatchesLoose is Matches for a version string that may be malformed,
// compared as apk-tools compares it (see CompareLoose). It does not
// allocate.
func (d Dependency) MatchesLoose(v string) bool {
	var buf [inlineTokens]token
	toks, _ := tokenize(v, buf[:0])
	return d.match(toks, v)
}

func (d Dependency) match(toks []token, raw string) bool {
	switch d.Op {
	case OpAny:
		return true
	case OpChecksum:
		return false
	}
	want, wantRaw := d.ver.toks, d.ver.raw
	if want == nil {
		// Built by hand or from a broken index entry: apk compares
		// whatever the version string holds.
		var buf [inlineTokens]token
		want, _ = tokenize(d.Version, buf[:0])
		wantRaw = d.Version
	}
	fuzzy := d.Op == OpFuzzy || d.Op == OpGreaterFuzzy || d.Op == OpLessFuzzy
	r := compare(toks, want, raw, wantRaw, fuzzy)
	switch d.Op {
	case OpEqual, OpFuzzy:
		return r == 0
	case OpLess:
		return r < 0
	case OpLessEqual, OpLessFuzzy:
		return r <= 0
	case OpGreater:
		return r > 0
	case OpGreaterEqual, OpGreaterFuzzy:
		return r >= 0
	}
	return false
}

// Parsed returns the constraint's version, parsing it if the Dependency
// was built by hand.
func (d Dependency) Parsed() (Version, error) {
	if !d.ver.IsZero() {
		return d.ver, nil
	}
	return Parse(d.Version)
}
