package dev

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// StatusOptions are the dependencies of "dev status".
type StatusOptions struct {
	Deps
}

// NewCmdStatus returns "dev status". runF, if not nil, replaces statusRun.
func NewCmdStatus(deps Deps, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{Deps: deps}
	return &cobra.Command{
		Use:   "status",
		Short: "Show the health of each service of the local platform",
		Long: `Check each service of the local platform for real (an SQL query, Redis AUTH
and PING, the API server's /readyz) and print the result. Exits non-zero
when any service is not healthy.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return statusRun(cmd.Context(), opts)
		},
	}
}

func statusRun(ctx context.Context, opts *StatusOptions) error {
	pf, err := opts.Platform()
	if err != nil {
		return err
	}
	st, err := pf.Status(ctx)
	if err != nil {
		return mapError(err)
	}
	if err := printStatus(opts.Printer(), st); err != nil {
		return err
	}
	if bad := st.NotHealthy(); len(bad) > 0 {
		return fmt.Errorf("%d of %d services are not healthy (%s); run \"tenantctl dev up\" to start them; logs are in %s",
			len(bad), len(st.Services), strings.Join(bad, ", "), filepath.Join(st.StateDir, "logs"))
	}
	return nil
}
