package migrate

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// SharedTarget is the name of the shared schema's target.
const SharedTarget = "app"

// TenantColumn is the column that makes a table a tenant table.
const TenantColumn = "tenant_id"

// Target is one copy of the application's tables.
type Target struct {
	// Name is SharedTarget or the tenant's id.
	Name string `json:"name"`
	Tier string `json:"tier"`
	// Database and Schema hold the tables; Owner owns them; Grantee is the
	// role tenants reach them through (app_tenant on the shared schema, the
	// tenant's login role elsewhere).
	Database string `json:"database"`
	Schema   string `json:"schema"`
	Owner    string `json:"-"`
	Grantee  string `json:"-"`
	// Tenant is the tenant's id; empty for the shared schema.
	Tenant string `json:"tenant,omitempty"`
}

func (t Target) shared() bool { return t.Name == SharedTarget }

// sharedTarget is the shared schema of the platform database.
func sharedTarget(platformDB string) Target {
	return Target{Name: SharedTarget, Tier: string(tenantspec.TierShared), Database: platformDB,
		Schema: "app", Owner: "app_owner", Grantee: "app_tenant"}
}

// tenantTarget is a schema- or database-tier tenant's own target; ok is
// false for a shared-tier tenant, whose tables are the shared schema's.
func tenantTarget(platformDB, id string, tier tenantspec.Tier) (Target, bool) {
	t := Target{Name: id, Tier: string(tier), Tenant: id, Owner: tenantspec.OwnerRoleName(id), Grantee: tenantspec.RoleName(id)}
	switch tier {
	case tenantspec.TierSchema:
		t.Database, t.Schema = platformDB, tenantspec.SchemaName(id)
	case tenantspec.TierDatabase:
		t.Database, t.Schema = tenantspec.DatabaseName(id), "public"
	default:
		return Target{}, false
	}
	return t, true
}

// member is a registered tenant and the target that holds its tables.
type member struct {
	Tenant string
	Tier   string
	Target string
}

// fleet reads the registry: every target (the shared schema first, then
// the tenants' own in the order they were registered) and every tenant.
func (e *Engine) fleet(ctx context.Context, conn *pgx.Conn) ([]Target, []member, error) {
	rows, err := conn.Query(ctx, `SELECT tenant_id, tier FROM tenantstack.tenants ORDER BY created_at, tenant_id`)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the tenant registry tenantstack.tenants: %w", err)
	}
	type reg struct{ ID, Tier string }
	regs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[reg])
	if err != nil {
		return nil, nil, err
	}
	targets := []Target{sharedTarget(e.PlatformDB)}
	var members []member
	for _, r := range regs {
		t, own := tenantTarget(e.PlatformDB, r.ID, tenantspec.Tier(r.Tier))
		m := member{Tenant: r.ID, Tier: r.Tier, Target: SharedTarget}
		if own {
			targets = append(targets, t)
			m.Target = t.Name
		}
		members = append(members, m)
	}
	return targets, members, nil
}
