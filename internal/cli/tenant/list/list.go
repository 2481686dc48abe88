// Package list implements "tenantctl list": every tenant of the platform.
package list

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/output"
)

// ListOptions are the dependencies of list; it has no flags of its own.
type ListOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (shared.Lister, error)
}

// NewCmdList returns the list command. runF, when not nil, receives the
// parsed options instead of listRun (for tests).
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO, Service: shared.FleetLister(f)}
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List tenants",
		Long: `List every tenant of the platform, sorted by name: NAME, TIER, STATUS and
CREATED (UTC, RFC 3339). Use -o json or -o yaml for every field.`,
		Example: `  tenantctl list
  tenantctl list -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("%q takes no arguments; use \"tenantctl get NAME\" for one tenant", cmd.CommandPath())
			}
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
}

func listRun(ctx context.Context, opts *ListOptions) error {
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	ts, err := svc.List(ctx)
	if err != nil {
		return err
	}
	if len(ts) == 0 && opts.Format == output.Table {
		fmt.Fprintln(opts.IO.ErrOut, `No tenants yet; create one with "tenantctl create NAME".`)
	}
	return shared.PrintTenants(shared.Printer(opts.IO, opts.Format), ts)
}
