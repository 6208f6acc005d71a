package imagefs

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/kiln-build/kiln/apk/sign"
)

// readKeys reads the key directory the conversion mounts (step.MountKeys):
// every regular file is one key, named by its file name. The install step
// trusts them and the metadata step writes them to /etc/apk/keys, so both
// read the directory this one way.
func readKeys(dir string) (map[string][]byte, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	keys := map[string][]byte{}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		keys[e.Name()] = b
	}
	return keys, nil
}

// keyring trusts every key of a key directory.
func keyring(keys map[string][]byte) (*sign.Keyring, error) {
	kr := sign.NewKeyring()
	for name, data := range keys {
		if err := kr.Add(name, data); err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
	}
	return kr, nil
}
