package shared

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/fleet"
)

// completionTimeout bounds the listing behind a completion, so a slow or
// unreachable backend never hangs the shell.
const completionTimeout = 5 * time.Second

// Lister lists tenants. *fleet.Service implements it.
type Lister interface {
	List(ctx context.Context) ([]fleet.Tenant, error)
}

// FleetLister adapts the factory's fleet service to Lister.
func FleetLister(f *cmdutil.Factory) func() (Lister, error) {
	return func() (Lister, error) {
		s, err := f.Fleet()
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// CompleteName completes the tenant name that is a verb's only argument.
// Completion must never get in the way, so any error means no suggestions.
func CompleteName(svc func() (Lister, error)) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return names(cmd, svc, toComplete, nil), cobra.ShellCompDirectiveNoFileComp
	}
}

// CompleteOtherNames completes a flag that names other tenants than the
// verb's argument, such as verify --against.
func CompleteOtherNames(svc func() (Lister, error)) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return names(cmd, svc, toComplete, args), cobra.ShellCompDirectiveNoFileComp
	}
}

func names(cmd *cobra.Command, svc func() (Lister, error), prefix string, exclude []string) []cobra.Completion {
	s, err := svc()
	if err != nil {
		return nil
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	ts, err := s.List(ctx)
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, t := range ts {
		if strings.HasPrefix(t.Name, prefix) && !slices.Contains(exclude, t.Name) {
			out = append(out, t.Name)
		}
	}
	return out
}
