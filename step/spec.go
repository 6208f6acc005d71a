package step

// ImageSpec is what the frontend plans for image-meta (ImageSpecFile), as
// JSON: everything the generated files need that the packages do not say.
type ImageSpec struct {
	Arch string `json:"arch"`
	// World is /etc/apk/world: every installed package pinned as
	// name=version (with the config's @tag, if any), sorted, as apko
	// writes it after locking.
	World []string `json:"world"`
	// Repositories are /etc/apk/repositories, in config order; the step
	// writes them sorted and once each, as apko does.
	Repositories []string `json:"repositories"`
	Accounts     Accounts `json:"accounts"`
	Paths        []Path   `json:"paths,omitempty"`
	// RuntimeKeys go to /etc/apk/keys after installation (never trusted
	// to install anything).
	RuntimeKeys  []NamedFile   `json:"runtime_keys,omitempty"`
	Certificates *Certificates `json:"certificates,omitempty"`
	// Services make an s6 supervision tree under /sv.
	Services []Service `json:"services,omitempty"`
	// OnBase says the image goes on top of a base image, whose accounts
	// stand: /etc/passwd, /etc/group and /etc/shadow are not written (as
	// apko does).
	OnBase bool `json:"on_base,omitempty"`
}

// NamedFile is a named inline document (a PEM key or certificate).
type NamedFile struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

// Certificates are extra CA certificates for the image's trust stores.
type Certificates struct {
	Additional []NamedFile `json:"additional,omitempty"`
	// Providers name what packages provide (exactly, as in p:) whose
	// usr/local/share/ca-certificates/*.crt|pem files are added too.
	Providers []string `json:"providers,omitempty"`
}

// Service is one supervised service: its run script executes Command.
type Service struct {
	Name    string `json:"name"`
	Command string `json:"command"`
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
