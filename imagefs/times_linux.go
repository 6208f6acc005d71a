package imagefs

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lchtimesAt sets the times of name, an entry of the open directory dir,
// without following it if it is a symlink.
func lchtimesAt(dir *os.File, name string, t time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	conn, err := dir.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := conn.Control(func(fd uintptr) {
		serr = unix.UtimesNanoAt(int(fd), name, ts, unix.AT_SYMLINK_NOFOLLOW)
	}); err != nil {
		return err
	}
	return serr
}
