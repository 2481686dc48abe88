// Package create implements "tenantctl create": onboard a tenant.
package create

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

// Creator is what create needs of the fleet. *fleet.Service implements it.
type Creator interface {
	Create(ctx context.Context, spec fleet.Spec, progress io.Writer) (*fleet.Tenant, error)
	Verify(ctx context.Context, name string, against []string) (*fleet.VerifyReport, error)
	PlanCreate(ctx context.Context, spec fleet.Spec, progress io.Writer) (*fleet.Plan, error)
}

// CreateOptions are the dependencies and parsed flags of create.
type CreateOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (Creator, error)

	// Spec is the tenant to create, complete and validated.
	Spec fleet.Spec
	// Verify runs the isolation probes against every other tenant once
	// the tenant exists.
	Verify bool
	// DryRun previews the create: nothing is changed.
	DryRun bool
}

// NewCmdCreate returns the create command. runF, when not nil, receives
// the parsed options instead of createRun (for tests).
func NewCmdCreate(f *cmdutil.Factory, runF func(*CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{
		IO: f.IO,
		Service: func() (Creator, error) {
			s, err := f.Fleet()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
	var (
		quota    []string
		flags    []string
		image    string
		host     string
		replicas int
		connLim  int
		limits   []string
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Onboard a tenant",
		Long: `Create a tenant: its PostgreSQL login and, depending on the tier, its
schema or database; its Redis ACL user; and its Kubernetes namespace with
quota, limits and network policy. Progress goes to stderr; the tenant is
printed on stdout.

Running create again after an interruption completes the tenant.

Tiers, from the least to the most isolated:
  shared    rows in the platform's shared tables, separated by row-level security
  schema    a schema of its own in the platform database
  database  a database of its own

A plan (--plan basic|standard|premium) names a tier and limits that the
services enforce: each login role's CONNECTION LIMIT, statement_timeout,
idle_in_transaction_session_timeout, work_mem and temp_file_limit
(ALTER ROLE ... SET), and the namespace's quota. --tier, --connection-limit,
--limit and --quota override one value each.`,
		Example: `  tenantctl create acme
  tenantctl create acme --tier schema --quota cpu=2,memory=4Gi,pods=20
  tenantctl create acme --plan basic --limit statement_timeout=2s
  tenantctl create acme --image nginx:1.27 --replicas 2 --host acme.example.com --verify
  tenantctl create acme -o json`,
		Args: shared.ExactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Spec.Name = args[0]
			if err := shared.ValidatePlan(opts.Spec.Plan); err != nil {
				return err
			}
			if opts.Spec.Plan != "" && !cmd.Flags().Changed("tier") {
				opts.Spec.Tier = "" // the plan's
			} else if err := shared.ValidateTier(opts.Spec.Tier); err != nil {
				return err
			}
			if err := shared.ApplyLimits(&opts.Spec, limits); err != nil {
				return err
			}
			q, err := shared.ParseQuota(quota)
			if err != nil {
				return err
			}
			opts.Spec.Quota = q
			if opts.Spec.Flags, _, err = shared.ParseFlags(flags, false); err != nil {
				return err
			}
			changed := cmd.Flags().Changed
			if changed("connection-limit") && connLim < 1 {
				return cmdutil.Usagef("--connection-limit is %d; use at least 1, or leave it out for the default", connLim)
			}
			if changed("connection-limit") {
				opts.Spec.ConnectionLimit = connLim
			}
			switch {
			case changed("image"):
				if err := shared.ValidateImage(image); err != nil {
					return &cmdutil.UsageError{Err: fmt.Errorf("--image: %w", err)}
				}
				w := &fleet.Workload{Image: image, Host: host, Replicas: replicas}
				if changed("replicas") && replicas < 1 {
					return cmdutil.Usagef("--replicas is %d; use at least 1 (suspend a tenant to stop its workload)", replicas)
				}
				if changed("host") {
					if err := shared.ValidateHost(host); err != nil {
						return &cmdutil.UsageError{Err: fmt.Errorf("--host: %w", err)}
					}
				}
				opts.Spec.Workload = w
			case changed("replicas"), changed("host"):
				return cmdutil.Usagef("--replicas and --host describe a workload; pass --image too")
			}
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return createRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Spec.Tier, "tier", "shared", "isolation tier: shared, schema or database")
	fl.StringVar(&opts.Spec.Plan, "plan", "", shared.PlanHelp)
	fl.StringArrayVar(&limits, "limit", nil, shared.LimitHelp)
	fl.StringArrayVar(&quota, "quota", nil, "namespace quota as key=value pairs: "+quotaHelp)
	fl.StringArrayVar(&flags, "flag", nil, "feature flag as key=value (repeatable)")
	fl.StringVar(&image, "image", "", "container image of the tenant's workload (none by default)")
	fl.IntVar(&replicas, "replicas", 0, "replicas of the workload (default: the component's)")
	fl.StringVar(&host, "host", "", "host name the workload is served on")
	fl.IntVar(&connLim, "connection-limit", 0, "most PostgreSQL connections the tenant may hold (default: the component's)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "show what would be created (a Pulumi preview, policy checks included); change nothing")
	fl.BoolVar(&opts.Verify, "verify", false, "after creating, probe isolation against every other tenant; exit 6 if a probe fails")
	_ = cmd.RegisterFlagCompletionFunc("tier", cobra.FixedCompletions(shared.Tiers(), cobra.ShellCompDirectiveNoFileComp))
	cmd.ValidArgsFunction = cobra.NoFileCompletions
	return cmd
}

const quotaHelp = "cpu, memory, pods, services, pvcs, storage, e.g. cpu=2,memory=4Gi,pods=20,services=10,pvcs=5,storage=20Gi"

func createRun(ctx context.Context, opts *CreateOptions) error {
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	if opts.DryRun {
		pl, err := svc.PlanCreate(ctx, opts.Spec, opts.IO.ErrOut)
		if err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "Dry run, nothing was changed. %s\n", shared.PlanSummary(*pl))
		return shared.PrintPlans(shared.Printer(opts.IO, opts.Format), opts.IO.ErrOut, []fleet.Plan{*pl})
	}
	t, err := svc.Create(ctx, opts.Spec, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	if err := shared.PrintTenant(shared.Printer(opts.IO, opts.Format), t); err != nil {
		return err
	}
	if !opts.Verify {
		return nil
	}
	fmt.Fprintf(opts.IO.ErrOut, "Verifying that tenant %q is isolated from every other tenant...\n", t.Name)
	r, err := svc.Verify(ctx, t.Name, nil)
	if err != nil {
		return fmt.Errorf("tenant %q was created, but its isolation could not be verified: %w; run \"tenantctl verify %s\" to try again", t.Name, err, t.Name)
	}
	if err := shared.IsolationError(r); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Isolation verified: %s passed against %s.\n", shared.Count(len(r.Probes), "probe"), shared.Count(len(r.Against), "other tenant"))
	return nil
}
