package pkgbuild

import "golang.org/x/sys/unix"

func setXattr(path, name, value string) error {
	return unix.Setxattr(path, name, []byte(value), 0)
}
