package imagefs

import (
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// lchtimes sets a path's times without following a final symlink; os.Root
// has no such call, so this goes through the root's directory by name
// after Root has vetted the parent.
func lchtimes(root *os.Root, rel string, t time.Time) error {
	if _, err := root.Lstat(rel); err != nil {
		return err
	}
	ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Join(root.Name(), rel), ts, unix.AT_SYMLINK_NOFOLLOW)
}
