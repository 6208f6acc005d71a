package pkg

import (
	"archive/tar"
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// PAXChecksum is the PAX record holding the hex SHA-1 of a regular file's
// contents or of a symlink's target.
const PAXChecksum = "APK-TOOLS.checksum.SHA1"

const paxXattrPrefix = "SCHILY.xattr."

// Entry is one file of a package's data section. Header.Name is relative
// with no leading '/'. Typeflag is tar.TypeDir, TypeReg, TypeSymlink or
// TypeLink (Linkname names another entry). Mode keeps the setuid, setgid
// and sticky bits; xattrs come from SCHILY.xattr.* PAX records (or the
// deprecated Header.Xattrs). Times, user and group names and other PAX
// records are not written.
type Entry struct {
	Header tar.Header
	Data   []byte // contents of a regular file
}

// dataEntry is an entry as it will be written.
type dataEntry struct {
	hdr  tar.Header
	data []byte
}

// cleanEntryName checks a data entry name and drops a directory's
// trailing slash.
func cleanEntryName(name string) (string, error) {
	n := strings.TrimSuffix(name, "/")
	if n == "" || n == "." || n[0] == '/' || path.Clean(n) != n || n == ".." || strings.HasPrefix(n, "../") || strings.ContainsRune(n, 0) {
		return "", fmt.Errorf("entry name %q is not a clean relative path", name)
	}
	return n, nil
}

// comparePaths orders paths component by component, so every directory
// sorts directly before its contents ("a", "a/b", "a-b"), the order a
// tree walk writes and an extractor needs.
func comparePaths(a, b string) int {
	for a != "" && b != "" {
		ca, ra, _ := strings.Cut(a, "/")
		cb, rb, _ := strings.Cut(b, "/")
		if c := strings.Compare(ca, cb); c != 0 {
			return c
		}
		a, b = ra, rb
	}
	return cmp.Compare(len(a), len(b))
}

// prepareEntries validates entries and returns them in write order with
// normalized headers, and the installed size (each regular file's bytes
// once, however many hard links it has).
func prepareEntries(entries []Entry, mtime time.Time) ([]dataEntry, uint64, error) {
	byName := make(map[string]int, len(entries))
	names := make([]string, len(entries))
	for i := range entries {
		h := &entries[i].Header
		n, err := cleanEntryName(h.Name)
		if err != nil {
			return nil, 0, err
		}
		if _, dup := byName[n]; dup {
			return nil, 0, fmt.Errorf("entry %q appears twice", n)
		}
		byName[n] = i
		names[i] = n
		switch h.Typeflag {
		case tar.TypeDir, tar.TypeReg, tar.TypeRegA, tar.TypeSymlink, tar.TypeLink:
		default:
			return nil, 0, fmt.Errorf("entry %q: unsupported type %q", h.Name, h.Typeflag)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA && len(entries[i].Data) > 0 {
			return nil, 0, fmt.Errorf("entry %q: type %q cannot carry %d bytes of data", h.Name, h.Typeflag, len(entries[i].Data))
		}
		if (h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeRegA) && h.Size != 0 && h.Size != int64(len(entries[i].Data)) {
			return nil, 0, fmt.Errorf("entry %q: header size %d but %d bytes of data", h.Name, h.Size, len(entries[i].Data))
		}
		if (h.Typeflag == tar.TypeSymlink || h.Typeflag == tar.TypeLink) && h.Linkname == "" {
			return nil, 0, fmt.Errorf("entry %q: link without a target", h.Name)
		}
		if h.Uid < 0 || h.Gid < 0 {
			return nil, 0, fmt.Errorf("entry %q: negative owner %d:%d", h.Name, h.Uid, h.Gid)
		}
	}

	// A hard link group is written with its first name (in write order)
	// carrying the contents, so links never point forward in the archive
	// whichever name the caller made the regular file.
	primary := make([]int, len(entries)) // entry → regular file whose contents it shares
	for i := range entries {
		p, err := hardlinkRoot(entries, names, byName, i)
		if err != nil {
			return nil, 0, err
		}
		primary[i] = p
	}
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return comparePaths(names[a], names[b]) })

	out := make([]dataEntry, 0, len(entries))
	writtenAs := map[int]string{} // regular file → name written with its contents
	var installed uint64
	for _, i := range order {
		src := &entries[primary[i]]
		h := src.Header
		hdr := tar.Header{
			Name:    names[i],
			Mode:    h.Mode & 0o7777,
			Uid:     h.Uid,
			Gid:     h.Gid,
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		pax := xattrRecords(&h)
		var data []byte
		switch h.Typeflag {
		case tar.TypeDir:
			hdr.Typeflag = tar.TypeDir
		case tar.TypeSymlink:
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, h.Linkname
			pax[PAXChecksum] = sha1Hex([]byte(h.Linkname))
		default: // regular file, possibly reached through a hard link
			if first, ok := writtenAs[primary[i]]; ok {
				hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
				break
			}
			writtenAs[primary[i]] = names[i]
			hdr.Typeflag, hdr.Size, data = tar.TypeReg, int64(len(src.Data)), src.Data
			pax[PAXChecksum] = sha1Hex(src.Data)
			installed += uint64(len(src.Data))
		}
		if len(pax) > 0 {
			hdr.PAXRecords = pax
		}
		out = append(out, dataEntry{hdr: hdr, data: data})
	}
	return out, installed, nil
}

// hardlinkRoot follows hard links from entry i to the regular file they
// share; any other entry is its own root.
func hardlinkRoot(entries []Entry, names []string, byName map[string]int, i int) (int, error) {
	seen := 0
	for entries[i].Header.Typeflag == tar.TypeLink {
		link := entries[i].Header.Linkname
		target, err := cleanEntryName(link)
		if err != nil {
			return 0, fmt.Errorf("hard link %q: %w", names[i], err)
		}
		j, ok := byName[target]
		if !ok {
			return 0, fmt.Errorf("hard link %q: target %q is not in the package", names[i], link)
		}
		if seen++; seen > len(entries) {
			return 0, fmt.Errorf("hard link %q: link cycle", names[i])
		}
		i = j
	}
	if t := entries[i].Header.Typeflag; seen > 0 && t != tar.TypeReg && t != tar.TypeRegA {
		return 0, fmt.Errorf("hard link to %q, which is type %q, not a regular file", names[i], t)
	}
	return i, nil
}

// xattrRecords returns the header's extended attributes as PAX records.
func xattrRecords(h *tar.Header) map[string]string {
	pax := map[string]string{}
	// Xattrs is deprecated, but callers may still fill it.
	for k, v := range h.Xattrs {
		pax[paxXattrPrefix+k] = v
	}
	for k, v := range h.PAXRecords {
		if strings.HasPrefix(k, paxXattrPrefix) {
			pax[k] = v
		}
	}
	return pax
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}
