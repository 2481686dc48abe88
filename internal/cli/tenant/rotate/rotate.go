// Package rotate implements "tenantctl rotate": rotate a tenant's
// PostgreSQL and Redis credentials in two phases without a refused login,
// finish a rotation under way, or rotate every tenant older than an age.
package rotate

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// Rotator is what rotate needs of the fleet. *fleet.Service implements it.
type Rotator interface {
	Rotate(ctx context.Context, o fleet.RotateOptions, progress io.Writer) (*fleet.RotateReport, error)
	RotateDue(ctx context.Context, o fleet.RotateDueOptions, progress io.Writer) (*fleet.RotateDueReport, error)
}

// RotateOptions are the dependencies and parsed flags of rotate.
type RotateOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (Rotator, error)

	Rotate fleet.RotateOptions
	// All rotates every tenant whose credentials are older than OlderThan.
	All       bool
	OlderThan time.Duration
	Yes       bool
}

// NewCmdRotate returns the rotate command. runF, when not nil, receives the
// parsed options instead of rotateRun (for tests).
func NewCmdRotate(f *cmdutil.Factory, runF func(*RotateOptions) error) *cobra.Command {
	opts := &RotateOptions{
		IO: f.IO,
		Service: func() (Rotator, error) {
			s, err := f.Fleet()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
	var grace, olderThan string
	cmd := &cobra.Command{
		Use:   "rotate NAME [--postgres] [--redis] [--grace D | --no-revoke]",
		Short: "Rotate a tenant's credentials without a refused login",
		Long: `Rotate a tenant's PostgreSQL and Redis credentials (both unless --postgres
or --redis says which) in two phases, so that the application never sees a
refused login:

  add      a new password from crypto/rand is made valid beside the old one:
           PostgreSQL on the tenant's other login role (tenant_<id> and
           tenant_<id>-2 take turns; both have the same grants on every
           tier, the same search_path and limits, and the same tenant for
           row-level security), Redis as a second password of its ACL user
  switch   the credentials Secret in the tenant's namespace and the stack's
           credentials name the new login (PGUSER may change with the
           password), and the workload's pods roll onto it
  revoke   after --grace (default 5m) the old login can no longer log in,
           has no password, and its open sessions are ended (PgBouncer's
           pooled ones too); the old Redis password is removed

--no-revoke stops after the switch; "rotate NAME --finish" revokes later.
Each phase is recorded in the tenant's stack: a rotation interrupted
anywhere is completed by running the same command again. Passwords are kept
only as Pulumi secrets. "tenantctl get NAME" shows when each credential was
rotated; "tenantctl verify NAME" then proves the revoked credential is
refused directly, through PgBouncer and by Redis, and the new one works.

--all --older-than 30d rotates every active tenant whose credentials are
older than that (safe from cron): all switch first, one grace passes, then
all are revoked. A suspended tenant is refused (and skipped by --all).

Revoking ends the sessions still open on the old login: --grace 0, --finish
and --all ask first on a terminal and need --yes otherwise.`,
		Example: `  tenantctl rotate acme
  tenantctl rotate acme --redis --grace 10m
  tenantctl rotate acme --no-revoke && tenantctl rotate acme --finish --yes
  tenantctl rotate --all --older-than 30d --yes`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.All {
				if len(args) > 0 {
					return cmdutil.Usagef("--all rotates every tenant older than --older-than; it takes no tenant name")
				}
				return nil
			}
			return shared.ExactlyOneName(cmd, args)
		},
		ValidArgsFunction: shared.CompleteName(shared.FleetLister(f)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !opts.All {
				opts.Rotate.Name = args[0]
			}
			if err := complete(opts, grace, cmd.Flags().Changed("grace"), olderThan); err != nil {
				return err
			}
			if opts.revokesAtOnce() && !opts.Yes && !opts.IO.InTerminal {
				return cmdutil.Usagef("refusing to %s without confirmation: stdin is not a terminal; pass --yes", opts.describe())
			}
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return rotateRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Rotate.Postgres, "postgres", false, "rotate the PostgreSQL login (with --redis, or neither: both)")
	fl.BoolVar(&opts.Rotate.Redis, "redis", false, "rotate the Redis password (with --postgres, or neither: both)")
	fl.StringVar(&grace, "grace", "", "how long the old credential stays valid after the switch (default 5m; 0 revokes right away)")
	fl.BoolVar(&opts.Rotate.NoRevoke, "no-revoke", false, "leave the old credential valid until \"rotate NAME --finish\"")
	fl.BoolVar(&opts.Rotate.Finish, "finish", false, "revoke the old credential of the rotation under way now")
	fl.BoolVar(&opts.All, "all", false, "rotate every active tenant whose credentials are older than --older-than")
	fl.StringVar(&olderThan, "older-than", "", "with --all: the age of credentials to rotate (e.g. 30d, 12h)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "revoke without asking (required when stdin is not a terminal)")
	return cmd
}

// complete parses the durations and refuses flags that say two things.
func complete(opts *RotateOptions, grace string, graceSet bool, olderThan string) error {
	o := &opts.Rotate
	o.Grace = tenantspec.DefaultRotationGrace
	if graceSet {
		d, err := tenantspec.ParseAge(grace, true)
		if err != nil {
			return cmdutil.Usagef("--grace: %v", err)
		}
		o.Grace = d
	}
	if olderThan != "" {
		d, err := tenantspec.ParseAge(olderThan, false)
		if err != nil {
			return cmdutil.Usagef("--older-than: %v", err)
		}
		opts.OlderThan = d
	}
	switch {
	case graceSet && o.NoRevoke:
		return cmdutil.Usagef("--grace revokes the old credential after a while, --no-revoke never: choose one")
	case o.Finish && (graceSet || o.NoRevoke || o.Postgres || o.Redis):
		return cmdutil.Usagef("--finish revokes the old credential of the rotation under way; it takes no --grace, --no-revoke, --postgres or --redis")
	case opts.All && o.Finish:
		return cmdutil.Usagef("--finish works on one tenant: tenantctl rotate NAME --finish")
	case opts.All && opts.OlderThan == 0:
		return cmdutil.Usagef("--all needs --older-than, such as --older-than 30d")
	case !opts.All && olderThan != "":
		return cmdutil.Usagef("--older-than goes with --all: tenantctl rotate --all --older-than %s", olderThan)
	}
	return nil
}

// revokesAtOnce reports whether the command revokes a credential without a
// grace in which the application can move: the destructive cases.
func (opts *RotateOptions) revokesAtOnce() bool {
	o := opts.Rotate
	return opts.All && !o.NoRevoke || o.Finish || (!o.NoRevoke && o.Grace == 0)
}

func (opts *RotateOptions) describe() string {
	switch {
	case opts.All:
		return "rotate and revoke the credentials of every tenant older than " + opts.OlderThan.String()
	case opts.Rotate.Finish:
		return fmt.Sprintf("revoke the old credential of tenant %q", opts.Rotate.Name)
	}
	return fmt.Sprintf("rotate tenant %q and revoke its old credential at once", opts.Rotate.Name)
}

func rotateRun(ctx context.Context, opts *RotateOptions) error {
	if opts.revokesAtOnce() && !opts.Yes {
		ok, err := shared.Confirm(opts.IO, fmt.Sprintf("This will %s; sessions still using it are ended. Type %q to confirm:", opts.describe(), "yes"), "yes")
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("rotate %w: what was typed is not \"yes\"; nothing was changed", cmdutil.ErrCancelled)
		}
	}
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	p := shared.Printer(opts.IO, opts.Format)
	if opts.All {
		rep, err := svc.RotateDue(ctx, fleet.RotateDueOptions{
			OlderThan: opts.OlderThan, Postgres: opts.Rotate.Postgres, Redis: opts.Rotate.Redis,
			Grace: opts.Rotate.Grace, NoRevoke: opts.Rotate.NoRevoke,
		}, opts.IO.ErrOut)
		if err != nil {
			return err
		}
		if err := p.Print(rep, reportHeader, rows(rep.Rotated...)); err != nil {
			return err
		}
		for _, name := range sortedKeys(rep.Skipped) {
			fmt.Fprintf(opts.IO.ErrOut, "%s: skipped (%s)\n", name, rep.Skipped[name])
		}
		for _, name := range sortedKeys(rep.Failed) {
			fmt.Fprintf(opts.IO.ErrOut, "%s: failed: %s\n", name, rep.Failed[name])
		}
		fmt.Fprintf(opts.IO.ErrOut, "Rotated %s.\n", shared.Count(len(rep.Rotated), "tenant"))
		if len(rep.Failed) > 0 {
			return fmt.Errorf("%s failed; run the same command again to complete them", shared.Count(len(rep.Failed), "rotation"))
		}
		return nil
	}
	rep, err := svc.Rotate(ctx, opts.Rotate, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	if err := p.Print(rep, reportHeader, rows(rep)); err != nil {
		return err
	}
	switch rep.Phase {
	case fleet.RotationRevoked:
		fmt.Fprintf(opts.IO.ErrOut, "Rotated %s of tenant %q; the old credential is refused. \"tenantctl verify %s\" proves it.\n",
			which(rep), rep.Tenant, rep.Tenant)
	default:
		fmt.Fprintf(opts.IO.ErrOut, "Switched tenant %q to its new credential; the old one stays valid until \"tenantctl rotate %s --finish\".\n",
			rep.Tenant, rep.Tenant)
	}
	return nil
}

var reportHeader = []string{"TENANT", "PHASE", "ROTATED", "OLD USER", "NEW USER", "SWITCHED", "REVOKED", "OLD SESSIONS"}

func rows(reps ...*fleet.RotateReport) [][]string {
	out := make([][]string, 0, len(reps))
	for _, r := range reps {
		out = append(out, []string{r.Tenant, r.Phase, which(r), shared.OrDash(r.OldUser), shared.OrDash(r.NewUser),
			shared.FormatTime(r.Switched), shared.FormatTime(r.Revoked), strconv.Itoa(r.OldSessions)})
	}
	return out
}

func which(r *fleet.RotateReport) string {
	switch {
	case r.Postgres && r.Redis:
		return "postgres,redis"
	case r.Postgres:
		return "postgres"
	}
	return "redis"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
