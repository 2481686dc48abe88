// Package delete implements "tenantctl delete": offboard a tenant, after
// confirmation, optionally exporting its data first.
package delete

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/move"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

// Deleter is what delete needs of the fleet. *fleet.Service implements it.
type Deleter interface {
	Delete(ctx context.Context, name, exportDir string, progress io.Writer) (*fleet.DeleteReport, error)
	DeleteRetained(ctx context.Context, name, to string, key fleet.BackupKey, retain time.Duration, progress io.Writer) (*fleet.RetainReport, error)
}

// DeleteOptions are the dependencies and parsed flags of delete.
type DeleteOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (Deleter, error)

	Name string
	// ExportDir, when set, is an absolute directory the tenant's data is
	// exported to before anything is deleted.
	ExportDir string
	// Yes skips the confirmation prompt; without a terminal it is required.
	Yes bool
	// Retain, when set, suspends and archives the tenant to To (encrypted
	// with Key) and leaves the removal to a purge once it has passed.
	Retain time.Duration
	To     string
	Key    fleet.BackupKey
}

// NewCmdDelete returns the delete command. runF, when not nil, receives the
// parsed options instead of deleteRun (for tests).
func NewCmdDelete(f *cmdutil.Factory, runF func(*DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{
		IO: f.IO,
		Service: func() (Deleter, error) {
			s, err := f.Fleet()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
	var retain string
	var keys shared.KeyFlags
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Offboard a tenant and delete all its data",
		Long: `Delete a tenant: everything its stack created (logins, schema or database,
rows in shared tables, Redis user and keys, Kubernetes namespace), then check
that nothing of it is left. With --export DIR its data is exported first.

With --retain DURATION (e.g. 30d) nothing is removed yet: the tenant is
suspended, an encrypted archive of it is written to --to (as "tenantctl
backup" does, with --key-file or --recipient), and its purge date is recorded.
"tenantctl purge" (from cron) removes it once the retention has ended and
records the deletion evidence in the audit log. Until then "tenantctl resume
NAME" (after a "tenantctl restore", if its data should be the archive's)
brings it back and cancels the purge.

On a terminal, delete asks you to type the tenant name. Otherwise it refuses
unless --yes is given.

Prints what was removed and anything left over (then it fails).`,
		Example: `  tenantctl delete acme
  tenantctl delete acme --export ./acme-backup
  tenantctl delete acme --yes -o json
  tenantctl delete acme --retain 30d --to s3://offboarded --recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p`,
		Args:              shared.ExactlyOneName,
		ValidArgsFunction: shared.CompleteName(shared.FleetLister(f)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if !opts.Yes && !opts.IO.InTerminal {
				return cmdutil.Usagef("refusing to delete tenant %q without confirmation: stdin is not a terminal; pass --yes to delete it and all its data", opts.Name)
			}
			if retain != "" {
				d, err := move.ParseRetention(retain)
				if err != nil {
					return cmdutil.Usagef("--retain %q: %v", retain, err)
				}
				if opts.ExportDir != "" {
					return cmdutil.Usagef("--retain archives the tenant to --to; --export is for an immediate delete: choose one")
				}
				if err := shared.ValidateBucketURL("--to", opts.To); err != nil {
					return err
				}
				if opts.Key, err = keys.Key(opts.To); err != nil {
					return err
				}
				opts.Retain = d
			} else if opts.To != "" || keys.KeyFile != "" || len(keys.Recipients) > 0 {
				return cmdutil.Usagef("--to, --key-file and --recipient go with --retain")
			}
			if opts.ExportDir != "" {
				abs, err := filepath.Abs(opts.ExportDir)
				if err != nil {
					return cmdutil.Usagef("--export %q: %v", opts.ExportDir, err)
				}
				opts.ExportDir = abs
			}
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return deleteRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.ExportDir, "export", "", "export the tenant's data to this directory before deleting it")
	cmd.Flags().StringVar(&retain, "retain", "", "suspend and archive the tenant now, remove it with \"tenantctl purge\" after this long (e.g. 30d, 12h)")
	cmd.Flags().StringVar(&opts.To, "to", "", "with --retain, the bucket URL the archive is written to")
	keys.AddEncrypt(cmd)
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking (required when stdin is not a terminal)")
	_ = cmd.MarkFlagDirname("export")
	return cmd
}

func deleteRun(ctx context.Context, opts *DeleteOptions) error {
	if !opts.Yes {
		prompt := fmt.Sprintf("Delete tenant %q and all its data? Type the tenant name to confirm:", opts.Name)
		if opts.Retain > 0 {
			prompt = fmt.Sprintf("Suspend tenant %q, archive it and delete all its data after %s? Type the tenant name to confirm:", opts.Name, opts.Retain)
		}
		ok, err := shared.Confirm(opts.IO, prompt, opts.Name)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("delete %w: what was typed is not %q; nothing was changed", cmdutil.ErrCancelled, opts.Name)
		}
	}
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	if opts.Retain > 0 {
		return retainRun(ctx, opts, svc)
	}
	r, err := svc.Delete(ctx, opts.Name, opts.ExportDir, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	if err := printReport(shared.Printer(opts.IO, opts.Format), r); err != nil {
		return err
	}
	if len(r.Leftovers) > 0 {
		return fmt.Errorf("tenant %q was deleted, but not all of it is gone (%s left: %s); run \"tenantctl delete %s\" again, or remove them by hand",
			opts.Name, shared.Count(len(r.Leftovers), "resource"), strings.Join(r.Leftovers, ", "), opts.Name)
	}
	fmt.Fprintf(opts.IO.ErrOut, "Tenant %q is deleted; nothing of it is left.\n", opts.Name)
	return nil
}

func retainRun(ctx context.Context, opts *DeleteOptions, svc Deleter) error {
	r, err := svc.DeleteRetained(ctx, opts.Name, opts.To, opts.Key, opts.Retain, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	rows := [][]string{{r.Tenant, "suspended", r.ArchiveURL + " " + r.ArchiveKey, shared.FormatTime(r.PurgeAfter)}}
	if err := shared.Printer(opts.IO, opts.Format).Print(r, []string{"TENANT", "STATUS", "ARCHIVE", "PURGE AFTER"}, rows); err != nil {
		return err
	}
	if r.Already {
		fmt.Fprintf(opts.IO.ErrOut, "Tenant %q was already deleted with retention; nothing was changed.\n", r.Tenant)
	}
	fmt.Fprintf(opts.IO.ErrOut, "Tenant %q is suspended and archived; \"tenantctl purge\" removes it after %s. \"tenantctl resume %s\" brings it back until then.\n",
		r.Tenant, shared.FormatTime(r.PurgeAfter), r.Tenant)
	return nil
}

// printReport prints r, or in the table format one STATE RESOURCE row per
// thing exported, removed or left over.
func printReport(p output.Printer, r *fleet.DeleteReport) error {
	var rows [][]string
	if r.ExportedTo != "" {
		rows = append(rows, []string{"exported", r.ExportedTo})
	}
	for _, s := range r.Removed {
		rows = append(rows, []string{"removed", s})
	}
	for _, s := range r.Leftovers {
		rows = append(rows, []string{"leftover", s})
	}
	out := *r // lists print as [] in JSON, never null
	if out.Removed == nil {
		out.Removed = []string{}
	}
	if out.Leftovers == nil {
		out.Leftovers = []string{}
	}
	return p.Print(out, []string{"STATE", "RESOURCE"}, rows)
}
