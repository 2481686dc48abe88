package fleet

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/tenantstack/tenantstack/internal/migrate"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// List returns every tenant of the platform, sorted by name. It reads the
// stack list once and the platform's tenant registry once, so its cost does
// not grow with a Pulumi call per tenant.
func (s *Service) List(ctx context.Context) ([]Tenant, error) {
	dir, err := s.scratchDir()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ws, err := auto.NewLocalWorkspace(ctx, s.wsOpts(dir)...)
	if err != nil {
		return nil, err
	}
	stacks, err := ws.ListStacks(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing tenant stacks: %w", err)
	}
	prefix := s.Platform + "-"
	byName := map[string]*Tenant{}
	for _, st := range stacks {
		name, ok := strings.CutPrefix(st.Name, prefix)
		if !ok {
			continue
		}
		t := &Tenant{Spec: Spec{Name: name}, Status: StatusIncomplete}
		if st.ResourceCount != nil {
			t.Resources = *st.ResourceCount
		}
		if u, err := time.Parse(time.RFC3339, st.LastUpdate); err == nil {
			t.Updated = u.UTC()
		}
		byName[name] = t
	}
	if len(byName) > 0 {
		plat, err := s.platform(ctx)
		if err != nil {
			return nil, err
		}
		// One connection for the registry and the schema versions.
		conn, err := platformConn(ctx, plat)
		if err != nil {
			return nil, fmt.Errorf("connecting to the platform database: %w", err)
		}
		defer conn.Close(context.WithoutCancel(ctx))
		regs, err := registry(ctx, conn)
		if err != nil {
			return nil, err
		}
		versions := map[string]migrate.TenantVersion{}
		if plat.Migrations != "" {
			if versions, err = migrate.Versions(ctx, conn); err != nil {
				return nil, fmt.Errorf("reading the tenants' schema versions: %w", err)
			}
		}
		for _, r := range regs {
			t, ok := byName[r.TenantID]
			if !ok {
				continue
			}
			t.Tier, t.Created, t.Status = r.Tier, r.Created, StatusActive
			if !r.CanLogin {
				t.Status = StatusSuspended
			}
			if v, ok := versions[r.TenantID]; ok {
				t.SchemaVersion, t.SchemaState = v.Version, v.State
			}
		}
	}
	out := make([]Tenant, 0, len(byName))
	for _, t := range byName {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// registration is one row of the platform's tenant registry.
type registration struct {
	TenantID string
	Role     string
	Tier     string
	Created  time.Time
	CanLogin bool
}

func registry(ctx context.Context, conn *pgx.Conn) ([]registration, error) {
	// A rotated tenant logs in with its second role (tenant_<id>-2) while
	// the registered first one cannot: it is active if either can.
	rows, err := conn.Query(ctx, `SELECT t.tenant_id, t.role_name::text, t.tier, t.created_at,
			coalesce(r.rolcanlogin, false) OR coalesce(a.rolcanlogin, false)
		FROM tenantstack.tenants t
		LEFT JOIN pg_roles r ON r.rolname = t.role_name
		LEFT JOIN pg_roles a ON a.rolname = t.role_name || '`+tenantspec.AltRoleSuffix+`'
		ORDER BY t.tenant_id`)
	if err != nil {
		return nil, fmt.Errorf("reading the tenant registry tenantstack.tenants: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (registration, error) {
		var r registration
		err := row.Scan(&r.TenantID, &r.Role, &r.Tier, &r.Created, &r.CanLogin)
		return r, err
	})
}
