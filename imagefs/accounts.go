package imagefs

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/kiln-build/kiln/step"
)

// writeAccounts extends the /etc/passwd and /etc/group that packages ship
// (or starts them) with the configured accounts, writes locked /etc/shadow
// entries for configured users, and creates missing home directories, as
// apko does. On a base image nothing is written.
func writeAccounts(l *layerFS, in Input) error {
	if in.Spec.OnBase {
		return nil // a base image's accounts stand, as apko leaves them
	}
	acc := in.Spec.Accounts
	passwd, err := l.readFile("/etc/passwd")
	if err != nil {
		return err
	}
	users := existingIDs(passwd)
	var added []step.User
	for _, u := range acc.Users {
		u = withUserDefaults(u)
		if id, ok := users[u.Name]; ok {
			// A package already has this account: fine when it agrees.
			if id != strconv.FormatUint(uint64(u.UID), 10) {
				return fmt.Errorf("user %q has uid %d in the config but %s in /etc/passwd from a package", u.Name, u.UID, id)
			}
			continue
		}
		users[u.Name] = strconv.FormatUint(uint64(u.UID), 10)
		added = append(added, u)
		passwd = appendLine(passwd, fmt.Sprintf("%s:x:%d:%d:Account created by apko:%s:%s", u.Name, u.UID, *u.GID, u.HomeDir, u.Shell))
	}
	if err := l.writeFile("etc/passwd", passwd, 0o644, 0, 0); err != nil {
		return err
	}

	if len(acc.Groups) > 0 {
		group, err := l.readFile("/etc/group")
		if err != nil {
			return err
		}
		groups := existingIDs(group)
		for _, g := range acc.Groups {
			if id, ok := groups[g.Name]; ok {
				if id != strconv.FormatUint(uint64(g.GID), 10) {
					return fmt.Errorf("group %q has gid %d in the config but %s in /etc/group from a package", g.Name, g.GID, id)
				}
				continue
			}
			groups[g.Name] = strconv.FormatUint(uint64(g.GID), 10)
			group = appendLine(group, fmt.Sprintf("%s:x:%d:%s", g.Name, g.GID, strings.Join(g.Members, ",")))
		}
		if err := l.writeFile("etc/group", group, 0o644, 0, 0); err != nil {
			return err
		}
	}

	if len(added) > 0 {
		shadow, err := l.readFile("/etc/shadow")
		if err != nil {
			return err
		}
		for _, u := range added {
			// "!" locks the password: these are service accounts.
			shadow = appendLine(shadow, u.Name+":!:::::::")
		}
		if err := l.writeFile("etc/shadow", shadow, 0o640, 0, shadowGID(l)); err != nil {
			return err
		}
	}

	// apko makes the home of every account, packaged ones too.
	for _, u := range passwdEntries(passwd) {
		if u.HomeDir == "/dev/null" || u.HomeDir == "" {
			continue
		}
		rp, err := l.resolveParent(u.HomeDir)
		if err != nil {
			return err
		}
		if fi, _, err := l.lstat(rp); err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("home directory %s of %s exists and is not a directory", u.HomeDir, u.Name)
			}
			continue // never change a directory a package ships
		}
		if err := l.mkdirAll(path.Dir(rp)); err != nil {
			return err
		}
		rel := strings.TrimPrefix(rp, "/")
		if err := l.out.Mkdir(rel, 0o700); err != nil {
			return fmt.Errorf("mkdir %s: %w", u.HomeDir, err)
		}
		if err := l.setMeta(rel, 0o700, int(u.UID), int(*u.GID)); err != nil {
			return err
		}
	}
	return nil
}

// passwdEntries parses the accounts of a passwd file; malformed lines are
// left alone, as they are in the file.
func passwdEntries(passwd []byte) []step.User {
	var out []step.User
	for _, line := range strings.Split(string(passwd), "\n") {
		f := strings.Split(line, ":")
		if len(f) != 7 {
			continue
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		g := uint32(gid)
		out = append(out, step.User{Name: f[0], UID: uint32(uid), GID: &g, HomeDir: f[5], Shell: f[6]})
	}
	return out
}

func withUserDefaults(u step.User) step.User {
	if u.Shell == "" {
		u.Shell = "/bin/sh"
	}
	if u.HomeDir == "" {
		u.HomeDir = "/home/" + u.Name
	}
	if u.GID == nil {
		gid := u.UID
		u.GID = &gid
	}
	return u
}

// shadowGID is the gid of the "shadow" group when the image has one.
func shadowGID(l *layerFS) int {
	group, _ := l.readFile("/etc/group")
	for _, line := range strings.Split(string(group), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[0] == "shadow" {
			if gid, err := strconv.Atoi(f[2]); err == nil {
				return gid
			}
		}
	}
	return 0
}

// existingIDs maps the names in a passwd or group file to their ids.
func existingIDs(file []byte) map[string]string {
	ids := map[string]string{}
	for _, line := range strings.Split(string(file), "\n") {
		if f := strings.Split(line, ":"); len(f) >= 3 && f[0] != "" {
			ids[f[0]] = f[2]
		}
	}
	return ids
}

func appendLine(file []byte, line string) []byte {
	if len(file) > 0 && file[len(file)-1] != '\n' {
		file = append(file, '\n')
	}
	return append(append(file, line...), '\n')
}
