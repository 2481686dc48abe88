// Package verify implements "tenantctl verify": live probes that a tenant
// cannot reach the data of others.
package verify

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

// Verifier is what verify needs of the fleet. *fleet.Service implements it.
type Verifier interface {
	Verify(ctx context.Context, name string, against []string) (*fleet.VerifyReport, error)
}

// VerifyOptions are the dependencies and parsed flags of verify.
type VerifyOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (Verifier, error)

	Name string
	// Against names the tenants whose data is probed for; empty means
	// every other tenant.
	Against []string
}

// NewCmdVerify returns the verify command. runF, when not nil, receives the
// parsed options instead of verifyRun (for tests).
func NewCmdVerify(f *cmdutil.Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{
		IO: f.IO,
		Service: func() (Verifier, error) {
			s, err := f.Fleet()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
	cmd := &cobra.Command{
		Use:   "verify NAME",
		Short: "Probe that a tenant cannot reach other tenants' data",
		Long: `Log in as the tenant and try to reach other tenants' data through every
layer: PostgreSQL (rows, schemas, databases, role changes), PgBouncer, Redis
(keys, channels, key-less commands) and Kubernetes (namespaces, secrets,
network). Prints one row per probe: LAYER NAME TARGET RESULT DETAIL.

Exits with 6 if any probe reached what it should not.`,
		Example: `  tenantctl verify acme
  tenantctl verify acme --against beta --against gamma
  tenantctl verify acme -o json`,
		Args:              shared.ExactlyOneName,
		ValidArgsFunction: shared.CompleteName(shared.FleetLister(f)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			for _, other := range opts.Against {
				if err := shared.ValidateName(other); err != nil {
					return &cmdutil.UsageError{Err: fmt.Errorf("--against: %w", err)}
				}
				if other == opts.Name {
					return cmdutil.Usagef("--against %s names the tenant being verified; name other tenants, or leave --against out for all of them", other)
				}
			}
			opts.Against = slices.Compact(slices.Sorted(slices.Values(opts.Against)))
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return verifyRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Against, "against", nil, "probe against this tenant only (repeatable; default: every other tenant)")
	_ = cmd.RegisterFlagCompletionFunc("against", shared.CompleteOtherNames(shared.FleetLister(f)))
	return cmd
}

func verifyRun(ctx context.Context, opts *VerifyOptions) error {
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	r, err := svc.Verify(ctx, opts.Name, opts.Against)
	if err != nil {
		return err
	}
	if err := printReport(shared.Printer(opts.IO, opts.Format), r); err != nil {
		return err
	}
	if err := shared.IsolationError(r); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Isolation verified: %s passed against %s.\n", shared.Count(len(r.Probes), "probe"), shared.Count(len(r.Against), "other tenant"))
	return nil
}

// printReport prints r, or in the table format one row per probe.
func printReport(p output.Printer, r *fleet.VerifyReport) error {
	rows := make([][]string, 0, len(r.Probes))
	for _, pr := range r.Probes {
		result := "pass"
		if !pr.Passed {
			result = "FAIL"
		}
		rows = append(rows, []string{pr.Layer, pr.Name, shared.OrDash(pr.Target), result, shared.OrDash(pr.Detail)})
	}
	out := *r // lists print as [] in JSON, never null
	if out.Against == nil {
		out.Against = []string{}
	}
	if out.Probes == nil {
		out.Probes = []fleet.Probe{}
	}
	return p.Print(out, []string{"LAYER", "NAME", "TARGET", "RESULT", "DETAIL"}, rows)
}
