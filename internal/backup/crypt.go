package backup

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"filippo.io/age"
)

// Key says how an archive is encrypted or decrypted: with a passphrase read
// from a file (an age scrypt recipient), or with age X25519 keys.
type Key struct {
	// PassphraseFile holds the passphrase on its first line.
	PassphraseFile string
	// Recipients are age public keys ("age1..."), for encrypting.
	Recipients []string
	// IdentityFile holds age identities ("AGE-SECRET-KEY-1..."), for
	// decrypting an archive encrypted to their recipients.
	IdentityFile string
}

// scryptWorkFactor, when set (by tests), replaces age's default (18, about
// a second per encryption and decryption).
var scryptWorkFactor int

// ErrKey is a key that cannot be used: a missing or empty file, or a
// malformed age key.
var ErrKey = errors.New("unusable key")

func readPassphrase(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: reading the passphrase file: %v", ErrKey, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimRight(line, "\r")
	if len(line) < 12 {
		return "", fmt.Errorf("%w: the passphrase in %s is shorter than 12 characters; write a longer one (e.g. openssl rand -base64 32 > %s)", ErrKey, path, path)
	}
	return line, nil
}

// encryptTo returns the age recipients of k.
func (k Key) encryptTo() ([]age.Recipient, error) {
	switch {
	case k.PassphraseFile != "" && len(k.Recipients) > 0:
		return nil, fmt.Errorf("%w: give a passphrase file or recipients, not both", ErrKey)
	case k.PassphraseFile != "":
		p, err := readPassphrase(k.PassphraseFile)
		if err != nil {
			return nil, err
		}
		r, err := age.NewScryptRecipient(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKey, err)
		}
		if scryptWorkFactor > 0 {
			r.SetWorkFactor(scryptWorkFactor)
		}
		return []age.Recipient{r}, nil
	case len(k.Recipients) > 0:
		var out []age.Recipient
		for _, s := range k.Recipients {
			r, err := age.ParseX25519Recipient(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("%w: recipient %q is not an age public key (age1...): %v", ErrKey, s, err)
			}
			out = append(out, r)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: no key given", ErrKey)
}

// decryptWith returns the age identities of k.
func (k Key) decryptWith() ([]age.Identity, error) {
	switch {
	case k.PassphraseFile != "" && k.IdentityFile != "":
		return nil, fmt.Errorf("%w: give a passphrase file or an identity file, not both", ErrKey)
	case k.PassphraseFile != "":
		p, err := readPassphrase(k.PassphraseFile)
		if err != nil {
			return nil, err
		}
		id, err := age.NewScryptIdentity(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKey, err)
		}
		return []age.Identity{id}, nil
	case k.IdentityFile != "":
		b, err := os.ReadFile(k.IdentityFile)
		if err != nil {
			return nil, fmt.Errorf("%w: reading the identity file: %v", ErrKey, err)
		}
		ids, err := age.ParseIdentities(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%w: %s holds no age identity (AGE-SECRET-KEY-1...): %v", ErrKey, k.IdentityFile, err)
		}
		return ids, nil
	}
	return nil, fmt.Errorf("%w: no key given", ErrKey)
}
