// Package drift implements "tenantctl drift": what was changed by hand on
// the live services behind a tenant's stack.
package drift

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

// Drifter is what drift needs of the fleet. *fleet.Service implements it.
type Drifter interface {
	Drift(ctx context.Context, names []string, parallel int, progress io.Writer) ([]fleet.Plan, error)
}

// DriftOptions are the dependencies and parsed flags of drift.
type DriftOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (Drifter, error)

	// Names are the tenants to check; empty with All.
	Names    []string
	All      bool
	Parallel int
}

// NewCmdDrift returns the drift command. runF, when not nil, receives the
// parsed options instead of driftRun (for tests).
func NewCmdDrift(f *cmdutil.Factory, runF func(*DriftOptions) error) *cobra.Command {
	opts := &DriftOptions{
		IO: f.IO,
		Service: func() (Drifter, error) {
			s, err := f.Fleet()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
	cmd := &cobra.Command{
		Use:   "drift [NAME...] | --all",
		Short: "Report what was changed by hand behind tenants' stacks",
		Long: `Refresh tenant stacks in preview mode: every resource is read back from
PostgreSQL, Redis and Kubernetes and compared with what its stack recorded,
and nothing is written, the stacks' state included. A login role whose
connection limit, password, search_path or memberships were changed by hand,
a grant revoked, a Redis ACL user edited or a quota changed shows up as a
change; a resource removed by hand as a delete.

Exits 7 when any tenant drifted, so that a nightly job can page; 0 when
none did. "tenantctl update NAME --reconcile" puts a drifted tenant back.`,
		Example: `  tenantctl drift acme
  tenantctl drift --all
  tenantctl drift --all -o json`,
		ValidArgsFunction: shared.CompleteName(shared.FleetLister(f)),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case opts.All && len(args) > 0:
				return cmdutil.Usagef("--all checks every tenant; name tenants or pass --all, not both")
			case !opts.All && len(args) == 0:
				return cmdutil.Usagef("name the tenants to check, or pass --all for every tenant")
			}
			for _, n := range args {
				if err := shared.ValidateName(n); err != nil {
					return &cmdutil.UsageError{Err: err}
				}
			}
			if opts.Parallel < 1 {
				return cmdutil.Usagef("--parallel is %d; use at least 1", opts.Parallel)
			}
			opts.Names = args
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return driftRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "check every tenant of the platform")
	cmd.Flags().IntVar(&opts.Parallel, "parallel", 4, "how many tenants to check at once")
	return cmd
}

func driftRun(ctx context.Context, opts *DriftOptions) error {
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	plans, err := svc.Drift(ctx, opts.Names, opts.Parallel, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	if err := shared.PrintPlans(shared.Printer(opts.IO, opts.Format), opts.IO.ErrOut, plans); err != nil {
		return err
	}
	return Result(plans)
}

// Result is the error drift exits with: fleet.ErrDrift (exit 7) when any
// tenant drifted, a plain error when one could not be checked.
func Result(plans []fleet.Plan) error {
	var drifted, failed []string
	for _, p := range plans {
		switch {
		case p.Error != "":
			failed = append(failed, p.Tenant)
		case len(p.Changes) > 0:
			drifted = append(drifted, p.Tenant)
		}
	}
	switch {
	case len(drifted) > 0:
		return fmt.Errorf("%w: %s changed outside tenantstack (%s); \"tenantctl update NAME --reconcile\" puts one back",
			fleet.ErrDrift, shared.Count(len(drifted), "tenant"), strings.Join(drifted, ", "))
	case len(failed) > 0:
		return fmt.Errorf("%s could not be checked (%s); the report says why", shared.Count(len(failed), "tenant"), strings.Join(failed, ", "))
	}
	return nil
}
