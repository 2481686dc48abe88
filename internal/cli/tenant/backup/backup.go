// Package backup implements "tenantctl backup" (write one encrypted archive
// of a tenant, or of every tenant) and "tenantctl backups" (list a tenant's
// archives).
package backup

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/backup"
	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

// Backuper is what backup and backups need of the fleet. *fleet.Service
// implements it.
type Backuper interface {
	Backup(ctx context.Context, name, to string, key fleet.BackupKey, progress io.Writer) (*backup.Result, error)
	BackupAll(ctx context.Context, to string, key fleet.BackupKey, parallel int, progress io.Writer) (*fleet.FleetBackupReport, error)
	Backups(ctx context.Context, name, in string) ([]backup.Entry, error)
}

// BackupOptions are the dependencies and parsed flags of backup.
type BackupOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (Backuper, error)

	Name     string
	All      bool
	Parallel int
	To       string
	Key      fleet.BackupKey
}

func service(f *cmdutil.Factory) func() (Backuper, error) {
	return func() (Backuper, error) {
		s, err := f.Fleet()
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// NewCmdBackup returns the backup command. runF, when not nil, receives the
// parsed options instead of backupRun (for tests).
func NewCmdBackup(f *cmdutil.Factory, runF func(*BackupOptions) error) *cobra.Command {
	opts := &BackupOptions{IO: f.IO, Service: service(f)}
	var keys shared.KeyFlags
	cmd := &cobra.Command{
		Use:   "backup NAME --to URL (--key-file FILE | --recipient KEY)",
		Short: "Write one encrypted archive of a tenant's data",
		Long: `Back up a tenant: its PostgreSQL rows of every tenant table on its tier (the
shared tier's rows of the tenant only, the schema tier's schema, the database
tier's database), read from one REPEATABLE READ snapshot so the archive is
consistent and the tenant's writes are not blocked; its Redis keys with their
TTLs; its own Kubernetes ConfigMaps and Secrets (not those its stack manages);
and a manifest with its spec, schema version, row counts and checksums.

The archive is encrypted with age: to a passphrase (--key-file, the first line
of the file) or to age public keys (--recipient, repeatable). The key is never
written beside it; a --key-file inside a file:// destination is refused.

--to is a bucket URL (file:///dir, s3://bucket, gs://bucket, azblob://container);
archives go to <tenant>/<tenant>-<UTC time>.tsbackup in it. With --all every
tenant is backed up, --parallel at a time.

Prints the archive's key, size and counts.`,
		Example: `  tenantctl backup acme --to file:///var/backups/tenants --key-file ~/.config/tenantstack/backup.pass
  tenantctl backup acme --to s3://acme-backups --recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  tenantctl backup --all --parallel 4 --to file:///var/backups/tenants --key-file backup.pass`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.All {
				if len(args) > 0 {
					return cmdutil.Usagef("--all backs up every tenant; it takes no tenant name")
				}
				return nil
			}
			return shared.ExactlyOneName(cmd, args)
		},
		ValidArgsFunction: shared.CompleteName(shared.FleetLister(f)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !opts.All {
				opts.Name = args[0]
			}
			if err := shared.ValidateBucketURL("--to", opts.To); err != nil {
				return err
			}
			if opts.Parallel < 1 {
				return cmdutil.Usagef("--parallel must be at least 1")
			}
			if cmd.Flags().Changed("parallel") && !opts.All {
				return cmdutil.Usagef("--parallel goes with --all")
			}
			key, err := keys.Key(opts.To)
			if err != nil {
				return err
			}
			opts.Key = key
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return backupRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.To, "to", "", "bucket URL to write the archive to (file:///dir, s3://, gs://, azblob://)")
	cmd.Flags().BoolVar(&opts.All, "all", false, "back up every tenant")
	cmd.Flags().IntVar(&opts.Parallel, "parallel", 1, "with --all, how many tenants to back up at once")
	keys.AddEncrypt(cmd)
	return cmd
}

// archiveHeader is the table of archives written.
var archiveHeader = []string{"TENANT", "ARCHIVE", "SIZE", "ROWS", "REDIS KEYS", "OBJECTS", "SCHEMA", "SECONDS"}

func archiveRow(r *backup.Result) []string {
	return []string{r.Tenant, r.Key, shared.FormatBytes(r.Bytes), strconv.FormatInt(r.Rows, 10), strconv.Itoa(r.Redis),
		strconv.Itoa(len(r.Objects)), strconv.FormatInt(r.Version, 10), fmt.Sprintf("%.1f", r.Duration.Seconds())}
}

func backupRun(ctx context.Context, opts *BackupOptions) error {
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	p := shared.Printer(opts.IO, opts.Format)
	if !opts.All {
		r, err := svc.Backup(ctx, opts.Name, opts.To, opts.Key, opts.IO.ErrOut)
		if err != nil {
			return err
		}
		if err := p.Print(r, archiveHeader, [][]string{archiveRow(r)}); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "Tenant %q is backed up to %s in %s.\n", r.Tenant, r.Key, opts.To)
		return nil
	}
	rep, runErr := svc.BackupAll(ctx, opts.To, opts.Key, opts.Parallel, opts.IO.ErrOut)
	if rep == nil {
		return runErr
	}
	var rows [][]string
	for _, r := range rep.Archives {
		rows = append(rows, archiveRow(r))
	}
	if err := p.Print(rep, archiveHeader, rows); err != nil {
		return err
	}
	for name, msg := range rep.Failed {
		fmt.Fprintf(opts.IO.ErrOut, "%s: not backed up: %s\n", name, msg)
	}
	if runErr == nil {
		fmt.Fprintf(opts.IO.ErrOut, "%s backed up to %s.\n", shared.Count(len(rep.Archives), "tenant"), opts.To)
	}
	return runErr
}

// BackupsOptions are the dependencies and parsed flags of backups.
type BackupsOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (Backuper, error)

	Name string
	In   string
}

// NewCmdBackups returns the backups command. runF, when not nil, receives
// the parsed options instead of backupsRun (for tests).
func NewCmdBackups(f *cmdutil.Factory, runF func(*BackupsOptions) error) *cobra.Command {
	opts := &BackupsOptions{IO: f.IO, Service: service(f)}
	cmd := &cobra.Command{
		Use:   "backups NAME --in URL",
		Short: "List a tenant's archives in a backup location",
		Long: `List the archives of a tenant in a bucket, oldest first, with the tier and
schema version they were written at (kept beside each archive, unencrypted, so
no key is needed to list them). "tenantctl restore NAME --from URL" restores the
newest; --archive KEY restores another.`,
		Example: `  tenantctl backups acme --in file:///var/backups/tenants
  tenantctl backups acme --in s3://acme-backups -o json`,
		Args:              shared.ExactlyOneName,
		ValidArgsFunction: shared.CompleteName(shared.FleetLister(f)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := shared.ValidateBucketURL("--in", opts.In); err != nil {
				return err
			}
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return backupsRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.In, "in", "", "bucket URL holding the archives (as given to backup --to)")
	return cmd
}

func backupsRun(ctx context.Context, opts *BackupsOptions) error {
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	list, err := svc.Backups(ctx, opts.Name, opts.In)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(list))
	for _, e := range list {
		rows = append(rows, []string{e.Key, shared.OrDash(e.Tier), strconv.FormatInt(e.SchemaVersion, 10), shared.FormatBytes(e.Bytes), e.Created.UTC().Format(time.RFC3339)})
	}
	if err := shared.Printer(opts.IO, opts.Format).Print(list, []string{"ARCHIVE", "TIER", "SCHEMA", "SIZE", "CREATED"}, rows); err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "No archive of tenant %q in %s.\n", opts.Name, opts.In)
	}
	return nil
}
