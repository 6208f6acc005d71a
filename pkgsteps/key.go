package pkgsteps

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kiln-build/kiln/apk/sign"
	"github.com/kiln-build/kiln/pkgbuild/signkey"
	"github.com/kiln-build/kiln/step"
)

// maxKeyBytes bounds a private key file.
const maxKeyBytes = 64 << 10

// Key runs melange-key: the public half of the build's secret key, or an
// empty file when the build has none.
func Key(s step.MelangeKey) error {
	signer, err := secretSigner(s.Secret)
	if err != nil {
		return err
	}
	var pub []byte
	if signer != nil {
		if _, pub, err = signkey.PublicKey(signer); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(s.Out, step.PublicKeyFile), pub, 0o644)
}

// secretSigner loads the secret key; nil when the build gave none.
func secretSigner(secret string) (*sign.Signer, error) {
	fi, err := os.Stat(secret)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("signing key secret: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxKeyBytes {
		return nil, fmt.Errorf("signing key secret %s is not a key file", step.SecretID)
	}
	data, err := os.ReadFile(secret)
	if err != nil {
		return nil, fmt.Errorf("signing key secret: %w", err)
	}
	return signkey.FromPEM(step.SecretID, data)
}

// packageSigner is the key the package step signs with: the secret, which
// must still be the one melange-key reported, or a key made for this step
// (the build has no secret; its public half goes next to the packages).
func packageSigner(secret, keyDir string) (*sign.Signer, error) {
	reported, err := os.ReadFile(filepath.Join(keyDir, step.PublicKeyFile))
	if err != nil {
		return nil, err
	}
	s, err := secretSigner(secret)
	if err != nil {
		return nil, err
	}
	if s == nil {
		if len(reported) > 0 {
			return nil, fmt.Errorf("the %s secret went away during the build: build again", step.SecretID)
		}
		return signkey.Generate(signkey.DefaultName, signkey.DefaultBits)
	}
	_, pub, err := signkey.PublicKey(s)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(pub, reported) {
		return nil, fmt.Errorf("the %s secret changed during the build: build again", step.SecretID)
	}
	return s, nil
}
