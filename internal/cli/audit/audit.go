// Package audit implements `tenantctl audit [NAME] [--since]`: the
// platform's audit log, one record per mutating command.
package audit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/audit"
	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/output"
)

// Reader is what audit needs of the fleet. *fleet.Service implements it.
type Reader interface {
	AuditLog(ctx context.Context, tenant string, since time.Time) ([]audit.Record, error)
}

// Options are the dependencies and parsed flags of audit.
type Options struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (Reader, error)
	Now     func() time.Time

	Tenant string
	Since  string
	since  time.Time
}

// NewCmdAudit returns the audit command. runF, when not nil, receives the
// parsed options instead of running them (for tests).
func NewCmdAudit(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	if runF == nil {
		runF = run
	}
	opts := &Options{
		IO:  f.IO,
		Now: time.Now,
		Service: func() (Reader, error) {
			s, err := f.Fleet()
			return s, err
		},
	}
	cmd := &cobra.Command{
		Use:   "audit [NAME]",
		Short: "Show the audit log: who ran which mutating command, when, and how it ended",
		Long: `Every mutating command (create, update, suspend, resume, delete, apply,
migrate up, platform up, platform destroy) appends one record to
tenantstack.audit_log in the platform database: when, the OS user and host, the
Pulumi backend, the command and its arguments (secrets replaced), the result,
the exit code and how long it took. The log is append-only (a trigger refuses
UPDATE, DELETE and TRUNCATE) and no tenant role can read it.`,
		Example: `  tenantctl audit
  tenantctl audit acme --since 24h -o json
  tenantctl audit --since 2026-12-01T00:00:00Z`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				if err := shared.ValidateName(args[0]); err != nil {
					return err
				}
				opts.Tenant = args[0]
			}
			opts.Format = f.Format()
			if err := opts.validate(); err != nil {
				return err
			}
			return runF(c.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Since, "since", "", "only records at or after this: a duration back from now (24h, 30m) or an RFC 3339 time")
	return cmd
}

func (o *Options) validate() error {
	if o.Since == "" {
		return nil
	}
	if d, err := time.ParseDuration(o.Since); err == nil {
		if d < 0 {
			return cmdutil.Usagef("--since %s: give a positive duration, e.g. 24h", o.Since)
		}
		o.since = o.Now().Add(-d)
		return nil
	}
	t, err := time.Parse(time.RFC3339, o.Since)
	if err != nil {
		return cmdutil.Usagef("--since %q: give a duration (24h, 30m) or an RFC 3339 time (2026-12-01T00:00:00Z)", o.Since)
	}
	o.since = t
	return nil
}

func run(ctx context.Context, o *Options) error {
	svc, err := o.Service()
	if err != nil {
		return err
	}
	recs, err := svc.AuditLog(ctx, o.Tenant, o.since)
	if err != nil {
		return err
	}
	if len(recs) == 0 && o.Format == output.Table {
		fmt.Fprintln(o.IO.ErrOut, "No audit records match.")
	}
	rows := make([][]string, 0, len(recs))
	for _, r := range recs {
		rows = append(rows, []string{shared.FormatTime(r.At), r.User + "@" + r.Host, r.Command, shared.OrDash(r.Tenant),
			strconv.Itoa(r.ExitCode), fmt.Sprintf("%.1fs", r.Seconds), firstLine(r.Result)})
	}
	return shared.Printer(o.IO, o.Format).Print(recs, []string{"AT", "WHO", "COMMAND", "TENANT", "EXIT", "TOOK", "RESULT"}, rows)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
