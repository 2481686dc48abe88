package dev

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/devplatform"
)

// UpOptions are the parsed flags and dependencies of "dev up".
type UpOptions struct {
	Deps
	Ports devplatform.Ports
}

// NewCmdUp returns "dev up". runF, if not nil, replaces upRun (tests).
func NewCmdUp(deps Deps, runF func(context.Context, *UpOptions) error) *cobra.Command {
	opts := &UpOptions{Deps: deps}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the local platform, or check that it runs",
		Long: `Start every service of the local platform that is not running and wait
until each answers (an SQL query, Redis AUTH and PING, the API server's
/readyz), then print their status. Services that run are only checked, so
running up again is safe; after a crash or a reboot it starts what is missing.

Ports default to free ones picked on the first up and kept in the state file;
set them with the flags below on the first up only.`,
		Example: `  tenantctl dev up
  tenantctl dev up --postgres-port 15432 --redis-port 16379
  TENANTSTACK_HOME=$(mktemp -d) tenantctl dev up   # a second, separate platform`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.Ports.Validate(); err != nil {
				return &cmdutil.UsageError{Err: err}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return upRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.Ports.Postgres, "postgres-port", 0, "PostgreSQL port (default: a free port, picked on the first up)")
	fl.IntVar(&opts.Ports.PgBouncer, "pgbouncer-port", 0, "PgBouncer port")
	fl.IntVar(&opts.Ports.Redis, "redis-port", 0, "Redis port")
	fl.IntVar(&opts.Ports.Etcd, "etcd-port", 0, "etcd client port")
	fl.IntVar(&opts.Ports.EtcdPeer, "etcd-peer-port", 0, "etcd peer port")
	fl.IntVar(&opts.Ports.APIServer, "apiserver-port", 0, "kube-apiserver port")
	fl.IntVar(&opts.Ports.ControllerManager, "controller-manager-port", 0, "kube-controller-manager health port")
	return cmd
}

func upRun(ctx context.Context, opts *UpOptions) error {
	pf, err := opts.Platform()
	if err != nil {
		return err
	}
	st, err := pf.Up(ctx, devplatform.UpOptions{Ports: opts.Ports})
	if err != nil {
		return mapError(err)
	}
	return printStatus(opts.Printer(), st)
}
