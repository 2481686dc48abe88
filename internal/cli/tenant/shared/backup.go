package shared

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/fleet"
)

// BackupSchemes are the bucket URL schemes backup, restore and delete
// --retain accept.
var BackupSchemes = []string{"file", "s3", "gs", "azblob"}

// ValidateBucketURL returns a usage error unless s is a bucket URL of one
// of BackupSchemes (a file URL with an absolute path).
func ValidateBucketURL(flag, s string) error {
	if s == "" {
		return cmdutil.Usagef("%s is required: a bucket URL such as file:///var/backups/tenants or s3://my-bucket", flag)
	}
	u, err := url.Parse(s)
	if err != nil || !slices.Contains(BackupSchemes, u.Scheme) {
		return cmdutil.Usagef("%s %q: want a bucket URL with scheme %s, e.g. file:///var/backups/tenants or s3://my-bucket",
			flag, s, strings.Join(BackupSchemes, ", "))
	}
	if u.Scheme == "file" && (u.Host != "" || !filepath.IsAbs(u.Path)) {
		return cmdutil.Usagef("%s %q: a file URL needs an absolute path and three slashes, e.g. file:///var/backups/tenants", flag, s)
	}
	return nil
}

// KeyFlags are the flags that say how archives are encrypted (backup,
// delete --retain) or decrypted (restore).
type KeyFlags struct {
	KeyFile    string
	Recipients []string
	Identity   string
	decrypt    bool
}

// AddEncrypt adds --key-file and --recipient to cmd.
func (k *KeyFlags) AddEncrypt(cmd *cobra.Command) {
	cmd.Flags().StringVar(&k.KeyFile, "key-file", "", "encrypt with the passphrase on the first line of this file (keep it away from the archives)")
	cmd.Flags().StringArrayVar(&k.Recipients, "recipient", nil, "encrypt to this age public key (age1...); repeatable")
	_ = cmd.MarkFlagFilename("key-file")
}

// AddDecrypt adds --key-file and --identity to cmd.
func (k *KeyFlags) AddDecrypt(cmd *cobra.Command) {
	k.decrypt = true
	cmd.Flags().StringVar(&k.KeyFile, "key-file", "", "decrypt with the passphrase on the first line of this file")
	cmd.Flags().StringVar(&k.Identity, "identity", "", "decrypt with the age identity (AGE-SECRET-KEY-1...) in this file")
	_ = cmd.MarkFlagFilename("key-file")
	_ = cmd.MarkFlagFilename("identity")
}

// Key validates the flags against the bucket URL and returns the key. A
// key file must be a readable file outside a file:// bucket, so that no
// archive is ever stored beside its key.
func (k *KeyFlags) Key(bucket string) (fleet.BackupKey, error) {
	var key fleet.BackupKey
	switch {
	case k.decrypt && k.KeyFile == "" && k.Identity == "":
		return key, cmdutil.Usagef("give the key the archive was written with: --key-file FILE (a passphrase) or --identity FILE (an age identity)")
	case k.decrypt && k.KeyFile != "" && k.Identity != "":
		return key, cmdutil.Usagef("--key-file and --identity: give one")
	case !k.decrypt && k.KeyFile == "" && len(k.Recipients) == 0:
		return key, cmdutil.Usagef("archives are always encrypted: give --key-file FILE (a passphrase) or --recipient AGE-PUBLIC-KEY")
	case !k.decrypt && k.KeyFile != "" && len(k.Recipients) > 0:
		return key, cmdutil.Usagef("--key-file and --recipient: give one")
	}
	for _, r := range k.Recipients {
		if !strings.HasPrefix(r, "age1") {
			return key, cmdutil.Usagef("--recipient %q is not an age public key (age1...); make one with age-keygen", r)
		}
	}
	for flag, path := range map[string]string{"--key-file": k.KeyFile, "--identity": k.Identity} {
		if path == "" {
			continue
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return key, cmdutil.Usagef("%s %q: %v", flag, path, err)
		}
		st, err := os.Stat(abs)
		if err != nil || !st.Mode().IsRegular() {
			return key, cmdutil.Usagef("%s %q: not a readable file", flag, path)
		}
		if u, err := url.Parse(bucket); err == nil && u.Scheme == "file" && within(abs, u.Path) {
			return key, cmdutil.Usagef("%s %q is inside the backup location %s: keep the key away from the archives it opens", flag, path, bucket)
		}
		if flag == "--key-file" {
			key.PassphraseFile = abs
		} else {
			key.IdentityFile = abs
		}
	}
	key.Recipients = k.Recipients
	return key, nil
}

func within(path, dir string) bool {
	rel, err := filepath.Rel(filepath.Clean(dir), path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// FormatBytes prints n in binary units.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
