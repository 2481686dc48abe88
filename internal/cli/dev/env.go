package dev

import (
	"context"

	"github.com/spf13/cobra"
)

// EnvOptions are the dependencies of "dev env".
type EnvOptions struct {
	Deps
}

// NewCmdEnv returns "dev env". runF, if not nil, replaces envRun.
func NewCmdEnv(deps Deps, runF func(context.Context, *EnvOptions) error) *cobra.Command {
	opts := &EnvOptions{Deps: deps}
	return &cobra.Command{
		Use:   "env",
		Short: "Print the admin endpoints and credentials of the running local platform",
		Long: `Print the admin endpoints of the running local platform, passwords
included: this is the one command that shows them. Integration tests read
the JSON form from the file named by TENANTSTACK_DEV_ENV.`,
		Example: `  tenantctl dev env -o json > /tmp/platform.json
  export TENANTSTACK_DEV_ENV=/tmp/platform.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return envRun(cmd.Context(), opts)
		},
	}
}

func envRun(ctx context.Context, opts *EnvOptions) error {
	pf, err := opts.Platform()
	if err != nil {
		return err
	}
	env, err := pf.Env(ctx)
	if err != nil {
		return mapError(err)
	}
	return opts.Printer().Print(env, []string{"KEY", "VALUE"}, [][]string{
		{"POSTGRES_ADMIN_URL", env.Postgres.AdminURL},
		{"POSTGRES_POOLER_URL", env.Postgres.PoolerURL},
		{"REDIS_ADMIN_URL", env.Redis.AdminURL},
		{"KUBECONFIG", env.Kubernetes.Kubeconfig},
	})
}
