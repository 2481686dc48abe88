// Package get implements "tenantctl get": one tenant in detail.
package get

import (
	"context"
	"maps"
	"slices"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tenantstack/tenantstack/internal/cli/cmdutil"
	"github.com/tenantstack/tenantstack/internal/cli/tenant/shared"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/output"
)

// Getter is what get needs of the fleet. *fleet.Service implements it.
type Getter interface {
	Get(ctx context.Context, name string) (*fleet.Tenant, error)
}

// GetOptions are the dependencies and arguments of get.
type GetOptions struct {
	IO      *cmdutil.IOStreams
	Format  output.Format
	Service func() (Getter, error)

	Name string
}

// NewCmdGet returns the get command. runF, when not nil, receives the
// parsed options instead of getRun (for tests).
func NewCmdGet(f *cmdutil.Factory, runF func(*GetOptions) error) *cobra.Command {
	opts := &GetOptions{
		IO: f.IO,
		Service: func() (Getter, error) {
			s, err := f.Fleet()
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
	return &cobra.Command{
		Use:   "get NAME",
		Short: "Show one tenant in detail",
		Long: `Show a tenant: its tier, status, times, quota, flags and workload, one
FIELD VALUE pair per line (the field names follow the JSON keys). Use
-o json or -o yaml for the tenant as one document.`,
		Example: `  tenantctl get acme
  tenantctl get acme -o json`,
		Args:              shared.ExactlyOneName,
		ValidArgsFunction: shared.CompleteName(shared.FleetLister(f)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.Format = f.Format()
			if runF != nil {
				return runF(opts)
			}
			return getRun(cmd.Context(), opts)
		},
	}
}

func getRun(ctx context.Context, opts *GetOptions) error {
	svc, err := opts.Service()
	if err != nil {
		return err
	}
	t, err := svc.Get(ctx, opts.Name)
	if err != nil {
		return err
	}
	return shared.Printer(opts.IO, opts.Format).Print(t, []string{"FIELD", "VALUE"}, details(t))
}

// details lists t's fields as FIELD VALUE rows, leaving out what is unset
// so the defaults are not mistaken for values.
func details(t *fleet.Tenant) [][]string {
	rows := [][]string{
		{"name", t.Name},
		{"tier", t.Tier},
		{"status", string(t.Status)},
		{"created", shared.FormatTime(t.Created)},
		{"updated", shared.FormatTime(t.Updated)},
		{"resources", strconv.Itoa(t.Resources)},
	}
	if t.SchemaState != "" {
		rows = append(rows, []string{"schema", shared.SchemaCell(*t)})
	}
	addInt := func(k string, v int) {
		if v != 0 {
			rows = append(rows, []string{k, strconv.Itoa(v)})
		}
	}
	addStr := func(k, v string) {
		if v != "" {
			rows = append(rows, []string{k, v})
		}
	}
	addStr("plan", t.Plan)
	addInt("connection_limit", t.ConnectionLimit)
	addStr("limits.statement_timeout", t.Limits.StatementTimeout)
	addStr("limits.idle_in_transaction_session_timeout", t.Limits.IdleInTransactionTimeout)
	addStr("limits.work_mem", t.Limits.WorkMem)
	addStr("limits.temp_file_limit", t.Limits.TempFileLimit)
	addStr("quota.cpu", t.Quota.CPU)
	addStr("quota.memory", t.Quota.Memory)
	addInt("quota.pods", t.Quota.Pods)
	addInt("quota.services", t.Quota.Services)
	addInt("quota.pvcs", t.Quota.PVCs)
	addStr("quota.storage", t.Quota.Storage)
	for _, k := range slices.Sorted(maps.Keys(t.Flags)) {
		rows = append(rows, []string{"flags." + k, t.Flags[k]})
	}
	if w := t.Workload; w != nil {
		addStr("workload.image", w.Image)
		addInt("workload.replicas", w.Replicas)
		addStr("workload.host", w.Host)
		addInt("workload.port", w.Port)
	}
	if r := t.Rotation; r != nil {
		addStr("rotation.postgres_user", r.PostgresUser)
		if !r.PostgresRotated.IsZero() {
			addStr("rotation.postgres_rotated", shared.FormatTime(r.PostgresRotated))
		}
		if !r.RedisRotated.IsZero() {
			addStr("rotation.redis_rotated", shared.FormatTime(r.RedisRotated))
		}
		addStr("rotation.phase", r.Phase)
		if r.Phase != "" {
			revoke := "on \"tenantctl rotate " + t.Name + " --finish\""
			if !r.RevokeAfter.IsZero() {
				revoke = shared.FormatTime(r.RevokeAfter)
			}
			addStr("rotation.revoke_after", revoke)
		}
	}
	return rows
}
