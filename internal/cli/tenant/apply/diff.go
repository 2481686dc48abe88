package apply

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/output"
)

// NewCmdDiff returns the diff command: apply's plan, written for a pull
// request. runF, when not nil, receives the parsed options instead of
// diffRun (for tests).
func NewCmdDiff(f *cmdutil.Factory, runF func(*ApplyOptions) error) *cobra.Command {
	opts := &ApplyOptions{
		IO: f.IO,
		Service: func() (Applier, error) {
			s, err := f.Fleet()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
		DryRun: true,
	}
	cmd := &cobra.Command{
		Use:   "diff -f FILE",
		Short: "Show what applying a fleet file would change, for a pull request",
		Long: `Preview "tenantctl apply -f FILE" for every tenant: a Pulumi preview of
each tenant stack the file changes, with the policy pack's checks, and
nothing changed. The table format is Markdown (a summary table, then each
tenant's resource changes in a diff block), ready to paste or post as a
pull request comment; -o json and -o yaml give the plans as data.

Exits 1 when a tenant cannot be planned (the report says why), 0 otherwise.`,
		Example: `  tenantctl diff -f tenants.yaml > plan.md
  tenantctl diff -f tenants.yaml --prune
  tenantctl diff -f tenants.yaml -o json | jq '.[] | select(.changes | length > 0)'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("%q takes no arguments; give the fleet file with -f FILE", cmd.CommandPath())
			}
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := loadFleet(opts); err != nil {
				return err
			}
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return diffRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "filename", "f", "", "fleet file, YAML or JSON (- for stdin)")
	fl.BoolVar(&opts.Prune, "prune", false, "include the deletions \"apply --prune\" would make")
	fl.IntVar(&opts.Parallel, "parallel", defaultParallel, "how many tenants to preview at once")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	return cmd
}

func diffRun(ctx context.Context, opts *ApplyOptions) error {
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	plans, err := svc.PlanApply(ctx, opts.Fleet, opts.Prune, opts.Parallel, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	if opts.Format == output.Table {
		title := fmt.Sprintf("tenantctl apply -f %s", opts.File)
		if opts.Prune {
			title += " --prune"
		}
		if err := shared.WritePlanMarkdown(opts.IO.Out, title, plans); err != nil {
			return err
		}
	} else if err := shared.Printer(opts.IO, opts.Format).Print(plans, nil, nil); err != nil {
		return err
	}
	return planErrors(plans)
}
