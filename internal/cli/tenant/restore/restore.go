// Package restore implements "tenantctl restore": replace a tenant's data
// with an archive written by backup, or restore it into another tenant.
package restore

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// Restorer is what restore needs of the fleet. *fleet.Service implements it.
type Restorer interface {
	Restore(ctx context.Context, o fleet.RestoreOptions, progress io.Writer) (*fleet.RestoreReport, error)
}

// RestoreOptions are the dependencies and parsed flags of restore.
type RestoreOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (Restorer, error)

	Restore fleet.RestoreOptions
	Yes     bool
}

// NewCmdRestore returns the restore command. runF, when not nil, receives
// the parsed options instead of restoreRun (for tests).
func NewCmdRestore(f *cmdutil.Factory, runF func(*RestoreOptions) error) *cobra.Command {
	opts := &RestoreOptions{
		IO: f.IO,
		Service: func() (Restorer, error) {
			s, err := f.Fleet()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
	var keys shared.KeyFlags
	var tier string
	cmd := &cobra.Command{
		Use:   "restore NAME --from URL (--key-file FILE | --identity FILE)",
		Short: "Replace a tenant's data with one of its archives",
		Long: `Restore a tenant from an archive written by "tenantctl backup": the newest
archive of NAME in the bucket at --from, or the one named with --archive.

The whole archive is decrypted and checked first (every checksum, the manifest,
the tenant it is of, its schema version): a corrupt, truncated, wrongly
encrypted or foreign archive, or one of a newer schema version than the tenant,
is refused and nothing changes. An archive of an older schema version is
migrated forward (in a scratch schema, with the platform's migrations).

Then only the tenant's data are replaced: its rows of every tenant table, in
one transaction (other tenants' rows in shared tables are not touched), then
its Redis keys under its prefix and its own Kubernetes ConfigMaps and Secrets.
The rows restored are checked against the archive's counts and checksums.

With --as NEW the archive is restored into tenant NEW instead, on any tier (a
shared-tier archive restores into a schema-tier tenant); NEW is created with the
archive's spec on --tier (default: the archive's tier) when it does not exist.
NAME itself is created again the same way when it was purged.

On a terminal, restore asks you to type the tenant name. Otherwise it refuses
unless --yes is given. A tenant deleted with --retain stays suspended after a
restore; "tenantctl resume NAME" brings it back.`,
		Example: `  tenantctl restore acme --from file:///var/backups/tenants --key-file backup.pass
  tenantctl restore acme --from s3://acme-backups --archive acme/acme-20261203T101500.000Z.tsbackup --identity backup.key
  tenantctl restore acme --from file:///var/backups/tenants --key-file backup.pass --as acme-copy --tier schema --yes`,
		Args:              shared.ExactlyOneName,
		ValidArgsFunction: shared.CompleteName(shared.FleetLister(f)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := &opts.Restore
			o.Name = args[0]
			if err := shared.ValidateBucketURL("--from", o.From); err != nil {
				return err
			}
			if o.As != "" {
				if err := shared.ValidateName(o.As); err != nil {
					return cmdutil.Usagef("--as: %v", err)
				}
				if o.As == o.Name {
					return cmdutil.Usagef("--as %s is the archive's own tenant; leave --as out to restore into it", o.As)
				}
			}
			if tier != "" {
				t, err := tenantspec.ParseTier(tier)
				if err != nil {
					return cmdutil.Usagef("--tier: %v", err)
				}
				o.Tier = t
			}
			if o.Archive != "" && (!strings.HasPrefix(o.Archive, o.Name+"/") || !strings.HasSuffix(o.Archive, ".tsbackup")) {
				return cmdutil.Usagef("--archive %q is not an archive of tenant %q (want %s/%s-<time>.tsbackup, as \"tenantctl backups %s\" lists them)",
					o.Archive, o.Name, o.Name, o.Name, o.Name)
			}
			key, err := keys.Key(o.From)
			if err != nil {
				return err
			}
			o.Key = key
			if !opts.Yes && !opts.IO.InTerminal {
				return cmdutil.Usagef("refusing to replace the data of tenant %q without confirmation: stdin is not a terminal; pass --yes", into(o))
			}
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return restoreRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Restore.From, "from", "", "bucket URL holding the archives (as given to backup --to)")
	cmd.Flags().StringVar(&opts.Restore.Archive, "archive", "", "the archive's key, as \"tenantctl backups\" lists it (default: the newest)")
	cmd.Flags().StringVar(&opts.Restore.As, "as", "", "restore into this tenant instead (created when it does not exist)")
	cmd.Flags().StringVar(&tier, "tier", "", "tier of a tenant the restore creates: "+strings.Join(shared.Tiers(), ", ")+" (default: the archive's)")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "restore without asking (required when stdin is not a terminal)")
	keys.AddDecrypt(cmd)
	_ = cmd.RegisterFlagCompletionFunc("tier", cobra.FixedCompletions(shared.Tiers(), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func into(o *fleet.RestoreOptions) string {
	if o.As != "" {
		return o.As
	}
	return o.Name
}

func restoreRun(ctx context.Context, opts *RestoreOptions) error {
	o := opts.Restore
	if !opts.Yes {
		prompt := fmt.Sprintf("Replace the data of tenant %q with an archive of %q? Type the tenant name to confirm:", into(&o), o.Name)
		ok, err := shared.Confirm(opts.IO, prompt, into(&o))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("restore %w: what was typed is not %q; nothing was changed", cmdutil.ErrCancelled, into(&o))
		}
	}
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	r, err := svc.Restore(ctx, o, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	rows := [][]string{}
	for _, t := range r.Tables {
		rows = append(rows, []string{"table " + t.Table, strconv.FormatInt(t.Rows, 10), strconv.FormatInt(t.Removed, 10), verified(t.Verified, r.Migrated)})
	}
	rows = append(rows, []string{"redis keys", strconv.Itoa(r.RedisKeys), strconv.Itoa(r.RedisRemoved), "-"})
	rows = append(rows, []string{"kubernetes objects", strconv.Itoa(len(r.Objects)), strconv.Itoa(len(r.ObjectsRemoved)), "-"})
	if err := shared.Printer(opts.IO, opts.Format).Print(r, []string{"WHAT", "RESTORED", "REPLACED", "VERIFIED"}, rows); err != nil {
		return err
	}
	how := ""
	if r.Migrated {
		how = fmt.Sprintf(", migrated from schema version %d to %d", r.ArchiveVersion, r.SchemaVersion)
	}
	if r.Created {
		how += ", into a tenant created for it"
	}
	fmt.Fprintf(opts.IO.ErrOut, "Tenant %q is restored from %s (%s tier%s).\n", r.Tenant, r.Key, r.ArchiveTier, how)
	return nil
}

func verified(ok, migrated bool) string {
	switch {
	case ok:
		return "yes"
	case migrated:
		return "migrated"
	}
	return "no"
}
