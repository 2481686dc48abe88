package devplatform

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The local API server encrypts Secrets at rest: without it a tenant's
// password sits in clear in etcd's WAL and snapshots (found by grepping the
// platform's state after a create). The key is made once with crypto/rand
// and kept beside the PKI, under TENANTSTACK_HOME; a managed cluster does
// the same with its KMS provider (see the README).

// encryptionKeyName names the key in the EncryptionConfiguration; etcd
// values start with "k8s:enc:secretbox:v1:" + it.
const encryptionKeyName = "tenantstack-1"

// EncryptedPrefix starts every Secret the local API server stores in etcd.
const EncryptedPrefix = "k8s:enc:secretbox:v1:" + encryptionKeyName + ":"

func (l layout) encryptionConfig() string { return filepath.Join(l.pki(), "encryption-config.yaml") }

// ensureEncryptionConfig writes the API server's EncryptionConfiguration
// unless it exists: secretbox (XSalsa20-Poly1305) with a 32-byte random key
// for Secrets, and identity after it so that Secrets written before
// encryption was turned on can still be read (rewriting them encrypts
// them). The file is 0600 in the 0700 PKI directory.
func ensureEncryptionConfig(l layout) error {
	path := l.encryptionConfig()
	if b, err := os.ReadFile(path); err == nil {
		if !strings.Contains(string(b), "secretbox") {
			return fmt.Errorf("%s is not a secretbox EncryptionConfiguration; remove it to have a new key made (Secrets encrypted with the old key become unreadable)", path)
		}
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(l.pki(), 0o700); err != nil {
		return err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	cfg := fmt.Sprintf(`# Written once by "tenantctl dev up": Secrets are encrypted at rest in etcd.
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - secretbox:
          keys:
            - name: %s
              secret: %s
      - identity: {}
`, encryptionKeyName, base64.StdEncoding.EncodeToString(key))
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(cfg), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
