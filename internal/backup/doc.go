// Package backup writes and reads one tenant's encrypted archive: its
// PostgreSQL rows of every tenant table on its tier (from one REPEATABLE
// READ snapshot, so a backup is consistent and does not block the tenant's
// writes), its Redis keys with their TTLs (DUMP and PTTL), its own
// Kubernetes ConfigMaps and Secrets (those its stack does not manage), and a
// manifest with the schema version, row counts and checksums.
//
// An archive is a tar stream, gzip-compressed, then encrypted with age
// (filippo.io/age) to the recipient the operator names: an X25519 public
// key, or a passphrase (an scrypt recipient). The key is never written
// anywhere by this package. Archives are stored through gocloud.dev/blob, so
// any bucket URL it opens (file://, s3://, gs://, azblob://) holds them.
//
// Restore reads an archive twice: the first pass decrypts it and checks
// every checksum and the manifest without touching anything, so a corrupt,
// truncated, wrongly encrypted or foreign archive changes nothing; the
// second loads the rows into a scratch schema, migrates them forward when
// the archive's schema version is older than the target's, and replaces
// only the target tenant's rows in one transaction, then its Redis keys and
// Kubernetes objects.
//
// The package works on the live services with the platform's admin
// credentials and knows nothing of stacks or the CLI.
package backup
