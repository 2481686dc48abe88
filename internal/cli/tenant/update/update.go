// Package update implements "tenantctl update": change a tenant's quota,
// flags, workload or connection limit.
package update

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// Updater is what update needs of the fleet. *fleet.Service implements it.
type Updater interface {
	Get(ctx context.Context, name string) (*fleet.Tenant, error)
	Update(ctx context.Context, spec fleet.Spec, progress io.Writer) (*fleet.Tenant, error)
	PlanUpdate(ctx context.Context, spec fleet.Spec, progress io.Writer) (*fleet.Plan, error)
}

// UpdateOptions are the dependencies and parsed flags of update. Zero
// values mean "keep what the tenant has".
type UpdateOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (Updater, error)

	Name string
	// Tier is only compared with the current tier: changing it is refused.
	Tier            string
	Quota           fleet.Quota
	SetFlags        map[string]string
	UnsetFlags      []string
	Image           string
	Replicas        int
	Host            string
	ConnectionLimit int
	// Plan switches the tenant to another plan: its limits replace the
	// connection limit and per-role limits the tenant had (Limits and
	// ConnectionLimit given with it are applied on top).
	Plan   string
	Limits []string
	// Reconcile asks for no change of spec: the tenant's stack is run
	// again, so that it gets what a newer tenantstack adds.
	Reconcile bool
	// DryRun previews the update: nothing is changed.
	DryRun bool
}

// NewCmdUpdate returns the update command. runF, when not nil, receives the
// parsed options instead of updateRun (for tests).
func NewCmdUpdate(f *cmdutil.Factory, runF func(*UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{
		IO: f.IO,
		Service: func() (Updater, error) {
			s, err := f.Fleet()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
	var quota, flags []string
	fl0 := &opts.Limits
	cmd := &cobra.Command{
		Use:   "update NAME",
		Short: "Change a tenant's quota, flags, workload or connection limit",
		Long: `Change a tenant. Only what you pass changes: --quota cpu=4 keeps the other
quota keys, --flag beta=true keeps the other flags, and --flag beta- removes
one. The tier cannot be changed in place. --reconcile changes nothing of the
tenant's spec and runs its stack again, reading every resource back first:
it puts back what was changed by hand (see tenantctl drift), and after
upgrading tenantstack it gives an existing tenant what the new version adds
(grants, role settings).`,
		Example: `  tenantctl update acme --quota cpu=4,memory=8Gi
  tenantctl update acme --flag beta=true --flag legacy-
  tenantctl update acme --image nginx:1.28 --replicas 3
  tenantctl update acme --reconcile`,
		Args:              shared.ExactlyOneName,
		ValidArgsFunction: shared.CompleteName(shared.FleetLister(f)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			fl := cmd.Flags()
			if !slices.ContainsFunc(changeFlags, fl.Changed) {
				return cmdutil.Usagef("nothing to update; pass at least one of --plan, --limit, --quota, --flag, --image, --replicas, --host, --connection-limit, or --reconcile to run the tenant's stack again as it is")
			}
			if fl.Changed("tier") {
				if err := shared.ValidateTier(opts.Tier); err != nil {
					return err
				}
			}
			var err error
			if opts.Quota, err = shared.ParseQuota(quota); err != nil {
				return err
			}
			if opts.SetFlags, opts.UnsetFlags, err = shared.ParseFlags(flags, true); err != nil {
				return err
			}
			if fl.Changed("image") {
				if err := shared.ValidateImage(opts.Image); err != nil {
					return &cmdutil.UsageError{Err: fmt.Errorf("--image: %w", err)}
				}
			}
			if fl.Changed("replicas") && opts.Replicas < 1 {
				return cmdutil.Usagef("--replicas is %d; use at least 1 (suspend a tenant to stop its workload)", opts.Replicas)
			}
			if fl.Changed("host") {
				if err := shared.ValidateHost(opts.Host); err != nil {
					return &cmdutil.UsageError{Err: fmt.Errorf("--host: %w", err)}
				}
			}
			if err := shared.ValidatePlan(opts.Plan); err != nil {
				return err
			}
			if err := shared.ApplyLimits(&fleet.Spec{}, opts.Limits); err != nil {
				return err
			}
			if fl.Changed("connection-limit") && opts.ConnectionLimit < 1 {
				return cmdutil.Usagef("--connection-limit is %d; use at least 1", opts.ConnectionLimit)
			}
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return updateRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Tier, "tier", "", "the tenant's current tier; any other is refused, as tiers cannot change in place")
	fl.StringArrayVar(&quota, "quota", nil, "quota keys to change, e.g. cpu=4,memory=8Gi (keys: cpu, memory, pods, services, pvcs, storage)")
	fl.StringArrayVar(&flags, "flag", nil, "feature flag to set as key=value, or to remove as key- (repeatable)")
	fl.StringVar(&opts.Image, "image", "", "new container image of the workload (adds a workload if it has none)")
	fl.IntVar(&opts.Replicas, "replicas", 0, "new number of workload replicas")
	fl.StringVar(&opts.Host, "host", "", "new host name the workload is served on")
	fl.IntVar(&opts.ConnectionLimit, "connection-limit", 0, "new limit on the tenant's PostgreSQL connections")
	fl.StringVar(&opts.Plan, "plan", "", "switch to another plan (basic, standard, premium): its connection limit and per-role limits replace the tenant's; the tier stays")
	fl.StringArrayVar(fl0, "limit", nil, shared.LimitHelp)
	fl.BoolVar(&opts.DryRun, "dry-run", false, "show what would change (a Pulumi preview, policy checks included); change nothing")
	fl.BoolVar(&opts.Reconcile, "reconcile", false, "change nothing of the spec; refresh and run the tenant's stack again (puts back changes made by hand; gives what a newer tenantstack adds)")
	_ = cmd.RegisterFlagCompletionFunc("tier", cobra.FixedCompletions(shared.Tiers(), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// changeFlags are the flags that ask for a change; the global ones do not.
var changeFlags = []string{"tier", "quota", "flag", "image", "replicas", "host", "connection-limit", "plan", "limit", "reconcile"}

func updateRun(ctx context.Context, opts *UpdateOptions) error {
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	cur, err := svc.Get(ctx, opts.Name)
	if err != nil {
		return err
	}
	spec, err := merge(cur.Spec, opts)
	if err != nil {
		return err
	}
	if opts.DryRun {
		pl, err := svc.PlanUpdate(ctx, spec, opts.IO.ErrOut)
		if err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "Dry run, nothing was changed. %s\n", shared.PlanSummary(*pl))
		return shared.PrintPlans(shared.Printer(opts.IO, opts.Format), opts.IO.ErrOut, []fleet.Plan{*pl})
	}
	t, err := svc.Update(ctx, spec, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	if err := shared.PrintTenant(shared.Printer(opts.IO, opts.Format), t); err != nil {
		return err
	}
	if p, err := tenantspec.LookupPlan(spec.Plan); err == nil && opts.Plan != "" && string(p.Tier) != spec.Tier {
		fmt.Fprintf(opts.IO.ErrOut, "Plan %s is on the %s tier; tenant %q stays on %s (move it with \"tenantctl move %s --tier %s\").\n",
			p.Name, p.Tier, spec.Name, spec.Tier, spec.Name, p.Tier)
	}
	if later := tenantspec.SessionLimits(cur.Spec.Effective(), spec.Effective()); len(later) > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "The connection limit and quota apply now; %s apply to sessions that start from now: "+
			"open sessions keep their values until they reconnect (PgBouncer recycles idle server connections after its server_idle_timeout).\n",
			strings.Join(later, ", "))
	}
	return nil
}

// merge returns cur changed by what opts ask for. It never modifies cur.
func merge(cur fleet.Spec, opts *UpdateOptions) (fleet.Spec, error) {
	if opts.Tier != "" && opts.Tier != cur.Tier {
		return fleet.Spec{}, cmdutil.Usagef("update does not change the tier of %q (%s to %s): move the live tenant with \"tenantctl move %s --tier %s\"",
			cur.Name, cur.Tier, opts.Tier, cur.Name, opts.Tier)
	}
	spec := cur
	spec.Quota = shared.MergeQuota(cur.Quota, opts.Quota)
	if len(opts.SetFlags) > 0 || len(opts.UnsetFlags) > 0 {
		spec.Flags = maps.Clone(cur.Flags)
		if spec.Flags == nil {
			spec.Flags = map[string]string{}
		}
		maps.Copy(spec.Flags, opts.SetFlags)
		for _, k := range opts.UnsetFlags {
			delete(spec.Flags, k)
		}
		if len(spec.Flags) == 0 {
			spec.Flags = nil
		}
	}
	if opts.Image != "" || opts.Replicas != 0 || opts.Host != "" {
		var w fleet.Workload
		switch {
		case cur.Workload != nil:
			w = *cur.Workload
		case opts.Image == "":
			return fleet.Spec{}, cmdutil.Usagef("tenant %q has no workload to change; pass --image to add one", cur.Name)
		}
		if opts.Image != "" {
			w.Image = opts.Image
		}
		if opts.Replicas != 0 {
			w.Replicas = opts.Replicas
		}
		if opts.Host != "" {
			w.Host = opts.Host
		}
		spec.Workload = &w
	}
	if opts.Plan != "" {
		spec.Plan, spec.ConnectionLimit, spec.Limits = opts.Plan, 0, tenantspec.Limits{}
	}
	if err := shared.ApplyLimits(&spec, opts.Limits); err != nil {
		return fleet.Spec{}, err
	}
	if opts.ConnectionLimit != 0 {
		spec.ConnectionLimit = opts.ConnectionLimit
	}
	return spec, nil
}
