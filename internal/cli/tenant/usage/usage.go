// Package usage implements "tenantctl usage": what each tenant uses of
// PostgreSQL, Redis and its Kubernetes quota, as a table, JSON, CSV or
// Prometheus exposition text.
package usage

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/output"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
	"github.com/tenantstack/tenantstack/internal/usage"
)

// Meter is what usage needs of the fleet. *fleet.Service implements it.
type Meter interface {
	Usage(ctx context.Context, names []string) ([]usage.Report, error)
}

// UsageOptions are the dependencies and arguments of usage.
type UsageOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (Meter, error)

	Names []string
}

// NewCmdUsage returns the usage command. runF, when not nil, receives the
// parsed options instead of usageRun (for tests).
func NewCmdUsage(f *cmdutil.Factory, runF func(*UsageOptions) error) *cobra.Command {
	opts := &UsageOptions{
		IO: f.IO,
		Service: func() (Meter, error) {
			s, err := f.Fleet()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
	return &cobra.Command{
		Use:   "usage [NAME...]",
		Short: "Show what tenants use of PostgreSQL, Redis and their quota",
		Long: `Measure, on the live services, what each tenant (every tenant without a
name) uses: PostgreSQL bytes and rows on its tier (shared tier: its own rows
of each shared table, measured; schema tier: its schema's relations; database
tier: its database), its open connections against its connection limit,
the statements its login roles ran and their execution time
(pg_stat_statements, when the server loads it; "-" otherwise), Redis keys and memory under its key prefix (SCAN and MEMORY USAGE), and its
namespace's quota used against hard.

-o prometheus writes Prometheus exposition text, one gauge per measure with
a tenant label (tenantstack_tenant_*), for a textfile collector or a scrape
job; -o csv writes one row per tenant.`,
		Example: `  tenantctl usage
  tenantctl usage acme -o json
  tenantctl usage -o prometheus > /var/lib/node_exporter/tenantstack.prom`,
		ValidArgsFunction: shared.CompleteName(shared.FleetLister(f)),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if err := tenantspec.ValidateTenantID(a); err != nil {
					return &cmdutil.UsageError{Err: err}
				}
			}
			opts.Names = args
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return usageRun(cmd.Context(), opts)
		},
	}
}

var header = []string{"TENANT", "TIER", "PG_BYTES", "PG_ROWS", "CONNECTIONS", "STATEMENTS", "EXEC_SECONDS", "REDIS_KEYS", "REDIS_BYTES", "QUOTA"}

func usageRun(ctx context.Context, opts *UsageOptions) error {
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	reps, err := svc.Usage(ctx, opts.Names)
	if err != nil {
		return err
	}
	if opts.Format == output.Prometheus {
		return usage.WritePrometheus(opts.IO.Out, reps)
	}
	rows := make([][]string, 0, len(reps))
	for _, r := range reps {
		var q []string
		for _, u := range r.Kubernetes {
			q = append(q, u.Resource+"="+u.Used+"/"+u.Hard)
		}
		rows = append(rows, []string{r.Tenant, r.Tier, strconv.FormatInt(r.Postgres.Bytes, 10), strconv.FormatInt(r.Postgres.Rows, 10),
			fmt.Sprintf("%d/%d", r.Postgres.Connections, r.Postgres.ConnectionLimit), statementsCell(r.Postgres.Statements), secondsCell(r.Postgres.ExecSeconds),
			strconv.FormatInt(r.Redis.Keys, 10), strconv.FormatInt(r.Redis.MemoryBytes, 10), shared.OrDash(strings.Join(q, ","))})
	}
	return shared.Printer(opts.IO, opts.Format).Print(reps, header, rows)
}

// statementsCell is a count, or "-" when pg_stat_statements is not loaded.
func statementsCell(n *int64) string {
	if n == nil {
		return "-"
	}
	return strconv.FormatInt(*n, 10)
}

func secondsCell(s *float64) string {
	if s == nil {
		return "-"
	}
	return strconv.FormatFloat(*s, 'f', 3, 64)
}
