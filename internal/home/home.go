// Package home resolves TENANTSTACK_HOME, the one directory under which
// tenantctl keeps all of its state: the local platform's data, the Pulumi
// backend and the secrets passphrase.
package home

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// EnvVar names the environment variable that overrides the default home.
const EnvVar = "TENANTSTACK_HOME"

// Dir returns the absolute tenantstack home: $TENANTSTACK_HOME, or
// ~/.tenantstack when it is unset.
func Dir() (string, error) {
	if d := os.Getenv(EnvVar); d != "" {
		return filepath.Abs(d)
	}
	u, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find your home directory (%w); set %s", err, EnvVar)
	}
	return filepath.Join(u, ".tenantstack"), nil
}

// Passphrase returns the passphrase that encrypts Pulumi secrets for stacks
// under dir, creating it from crypto/rand on first use. The file is readable
// by its owner only.
func Passphrase(dir string) (string, error) {
	path := filepath.Join(dir, "passphrase")
	b, err := os.ReadFile(path)
	if err == nil {
		return string(b), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	p := base64.RawURLEncoding.EncodeToString(raw)
	// Write aside, then link into place: link fails if another process won
	// the race, and then both use the first passphrase written, never a
	// half-written one.
	tmp, err := os.CreateTemp(dir, ".passphrase-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(p); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			b, err := os.ReadFile(path)
			return string(b), err
		}
		return "", err
	}
	return p, nil
}
