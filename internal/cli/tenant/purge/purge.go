// Package purge implements "tenantctl purge": remove the tenants deleted
// with a retention period whose retention has ended, and record the
// deletion evidence.
package purge

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

// Purger is what purge needs of the fleet. *fleet.Service implements it.
type Purger interface {
	Purge(ctx context.Context, progress io.Writer) (*fleet.PurgeResult, error)
}

// PurgeOptions are the dependencies and parsed flags of purge.
type PurgeOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (Purger, error)

	Yes bool
}

// NewCmdPurge returns the purge command. runF, when not nil, receives the
// parsed options instead of purgeRun (for tests).
func NewCmdPurge(f *cmdutil.Factory, runF func(*PurgeOptions) error) *cobra.Command {
	opts := &PurgeOptions{
		IO: f.IO,
		Service: func() (Purger, error) {
			s, err := f.Fleet()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
	cmd := &cobra.Command{
		Use:   "purge",
		Short: "Remove the deleted tenants whose retention has ended",
		Long: `Purge every tenant deleted with "tenantctl delete NAME --retain DURATION" whose
retention has ended: remove everything of it (as "tenantctl delete" does), check
that nothing is left (logins, schema or database, rows in shared tables, Redis
keys and ACL user, namespace, stack), and append the deletion evidence (what
was removed and every check, with the SHA-256 of the report) to the audit log
("tenantctl audit NAME -o json" shows it). The archive written at the delete is
kept; expire it with the bucket's own lifecycle rules.

Tenants whose retention has not ended are listed and left alone. It is safe to
run from cron: a purge while another runs does nothing, and one interrupted is
completed by the next. On a terminal it asks first; otherwise it needs --yes.`,
		Example: `  tenantctl purge
  # from cron, every hour
  0 * * * * tenantctl purge --yes -o json >> /var/log/tenantctl-purge.jsonl`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("purge takes no tenant name: it purges every tenant whose retention has ended (see \"tenantctl delete --retain\")")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !opts.Yes && !opts.IO.InTerminal {
				return cmdutil.Usagef("refusing to purge without confirmation: stdin is not a terminal; pass --yes (as from cron)")
			}
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return purgeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "purge without asking (required when stdin is not a terminal)")
	return cmd
}

func purgeRun(ctx context.Context, opts *PurgeOptions) error {
	if !opts.Yes {
		ok, err := shared.Confirm(opts.IO, "Remove every deleted tenant whose retention has ended, with all its data? Type purge to confirm:", "purge")
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("purge %w: what was typed is not \"purge\"; nothing was changed", cmdutil.ErrCancelled)
		}
	}
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	r, runErr := svc.Purge(ctx, opts.IO.ErrOut)
	if r == nil {
		return runErr
	}
	if r.Busy {
		fmt.Fprintln(opts.IO.ErrOut, "Another purge is running; this one did nothing.")
	}
	rows := [][]string{}
	for _, p := range r.Purged {
		rows = append(rows, []string{p.Tenant, "purged", p.SHA256})
	}
	for _, p := range r.Pending {
		rows = append(rows, []string{p.Tenant, "retained until " + shared.FormatTime(p.PurgeAfter), "-"})
	}
	for name, msg := range r.Failed {
		rows = append(rows, []string{name, "failed", "-"})
		fmt.Fprintf(opts.IO.ErrOut, "%s: not purged: %s\n", name, msg)
	}
	if err := shared.Printer(opts.IO, opts.Format).Print(r, []string{"TENANT", "STATE", "EVIDENCE SHA-256"}, rows); err != nil {
		return err
	}
	if runErr == nil && !r.Busy {
		fmt.Fprintf(opts.IO.ErrOut, "%s purged, %s still retained.\n", shared.Count(len(r.Purged), "tenant"), shared.Count(len(r.Pending), "tenant"))
	}
	return runErr
}
