package step

// ImageSpec is what the frontend plans for image-meta (ImageSpecFile), as
// JSON: everything the generated files need that the packages do not say.
type ImageSpec struct {
	Arch         string   `json:"arch"`
	World        []string `json:"world"`
	Repositories []string `json:"repositories"`
	Accounts     Accounts `json:"accounts"`
	Paths        []Path   `json:"paths,omitempty"`
}

// Accounts are the users and groups a config adds.
type Accounts struct {
	Users  []User  `json:"users,omitempty"`
	Groups []Group `json:"groups,omitempty"`
}

// User is one configured account.
type User struct {
	Name    string  `json:"name"`
	UID     uint32  `json:"uid"`
	GID     *uint32 `json:"gid,omitempty"` // nil: same as UID, as apko does
	Shell   string  `json:"shell,omitempty"`
	HomeDir string  `json:"homedir,omitempty"`
}

// Group is one configured group.
type Group struct {
	Name    string   `json:"name"`
	GID     uint32   `json:"gid"`
	Members []string `json:"members,omitempty"`
}

// Path is one `paths` entry of an apko config.
type Path struct {
	Path        string  `json:"path"`
	Type        string  `json:"type"`          // directory, empty-file, hardlink, symlink, permissions
	UID         *uint32 `json:"uid,omitempty"` // nil with GID nil: ownership untouched
	GID         *uint32 `json:"gid,omitempty"`
	Permissions uint32  `json:"permissions"`
	Source      string  `json:"source,omitempty"`
	Recursive   bool    `json:"recursive,omitempty"`
}
