package probe

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// The PostgreSQL catalog, read as the admin: what the tenant's role can
// reach through memberships, and how the shared tables are protected.

type reachedRole struct {
	name                                                string
	super, bypassRLS, createRole, createDB, replication bool
}

// reach lists the roles role can reach through memberships, itself first.
// Without INHERIT a member still reaches a role with SET ROLE, so every
// membership counts.
func (s *pgSuite) reach(ctx context.Context, role string) ([]reachedRole, error) {
	admin, err := s.platform(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := admin.Query(ctx, `
		WITH RECURSIVE reach(oid, depth) AS (
			SELECT oid, 0 FROM pg_catalog.pg_roles WHERE rolname = $1
			UNION
			SELECT m.roleid, r.depth + 1 FROM pg_catalog.pg_auth_members m JOIN reach r ON m.member = r.oid WHERE r.depth < 64)
		SELECT r.rolname::text, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb, r.rolreplication
		FROM (SELECT oid, min(depth) AS depth FROM reach GROUP BY oid) x JOIN pg_catalog.pg_roles r ON r.oid = x.oid
		ORDER BY x.depth, r.rolname`, role)
	if err != nil {
		return nil, err
	}
	roles, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (reachedRole, error) {
		var r reachedRole
		err := row.Scan(&r.name, &r.super, &r.bypassRLS, &r.createRole, &r.createDB, &r.replication)
		return r, err
	})
	if err != nil {
		return nil, err
	}
	if len(roles) == 0 {
		return nil, fmt.Errorf("role %q does not exist", role)
	}
	return roles, nil
}

func (s *pgSuite) roleAttributes(ctx context.Context, self tenantspec.Credentials) (string, error) {
	roles, err := s.reach(ctx, self.Postgres.User)
	if err != nil {
		return "", err
	}
	var found []string
	for _, r := range roles {
		var attrs []string
		for _, a := range []struct {
			set  bool
			name string
		}{{r.super, "SUPERUSER"}, {r.bypassRLS, "BYPASSRLS"}, {r.createRole, "CREATEROLE"}, {r.createDB, "CREATEDB"}, {r.replication, "REPLICATION"}} {
			if a.set {
				attrs = append(attrs, a.name)
			}
		}
		if len(attrs) == 0 {
			continue
		}
		if r.name == self.Postgres.User {
			found = append(found, fmt.Sprintf("%s has %s", r.name, strings.Join(attrs, ", ")))
		} else {
			found = append(found, fmt.Sprintf("%s can reach %s, which has %s", self.Postgres.User, r.name, strings.Join(attrs, ", ")))
		}
	}
	if len(found) > 0 {
		return "", leakf("%s", strings.Join(found, "; "))
	}
	return fmt.Sprintf("none of %s reaches (%s) has SUPERUSER, BYPASSRLS, CREATEROLE, CREATEDB or REPLICATION", self.Postgres.User, roleNames(roles)), nil
}

func roleNames(roles []reachedRole) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.name
	}
	return strings.Join(names, ", ")
}

func (s *pgSuite) privilegedMembership(ctx context.Context, self tenantspec.Credentials) (string, error) {
	roles, err := s.reach(ctx, self.Postgres.User)
	if err != nil {
		return "", err
	}
	admin, err := s.platform(ctx)
	if err != nil {
		return "", err
	}
	why := map[string]string{}
	for _, r := range dangerousPredefinedRoles {
		why[r] = "a predefined role that bypasses privileges"
	}
	// Owners of the shared tables can disable or drop row-level security.
	rows, err := admin.Query(ctx, `
		SELECT pg_catalog.pg_get_userbyid(c.relowner), n.nspname || '.' || c.relname
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('app', $1) AND c.relkind IN ('r', 'p')
		UNION ALL
		SELECT pg_catalog.pg_get_userbyid(nspowner), 'schema ' || nspname FROM pg_catalog.pg_namespace WHERE nspname IN ('app', $1)`, s.tableNS)
	if err != nil {
		return "", err
	}
	owned, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Owner, What string }])
	if err != nil {
		return "", err
	}
	for _, o := range owned {
		if _, ok := why[o.Owner]; !ok {
			why[o.Owner] = "the owner of " + o.What + ", who can turn off its row-level security"
		}
	}
	var registry bool
	if err := admin.QueryRow(ctx, `SELECT to_regclass('tenantstack.tenants') IS NOT NULL`).Scan(&registry); err != nil {
		return "", err
	}
	if registry {
		rows, err := admin.Query(ctx, `SELECT role_name::text, tenant_id::text FROM tenantstack.tenants WHERE role_name::text <> $1`, self.Postgres.User)
		if err != nil {
			return "", err
		}
		tenants, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Role, Tenant string }])
		if err != nil {
			return "", err
		}
		for _, t := range tenants {
			why[t.Role] = fmt.Sprintf("the login role of tenant %q", t.Tenant)
		}
	}
	var found []string
	for _, r := range roles {
		if reason, ok := why[r.name]; ok {
			if r.name == self.Postgres.User {
				found = append(found, fmt.Sprintf("%s is %s", r.name, reason))
			} else {
				found = append(found, fmt.Sprintf("%s can reach %s, %s", self.Postgres.User, r.name, reason))
			}
		}
	}
	if len(found) > 0 {
		return "", leakf("%s", strings.Join(found, "; "))
	}
	return fmt.Sprintf("%s reaches only %s: no predefined data role, no owner of the shared tables, no other tenant's login", self.Postgres.User, roleNames(roles)), nil
}

func (s *pgSuite) otherMembership(ctx context.Context, self, b tenantspec.Credentials) (string, error) {
	roles, err := s.reach(ctx, self.Postgres.User)
	if err != nil {
		return "", err
	}
	owners, err := s.otherRoles(ctx, b)
	if err != nil {
		return "", err
	}
	theirs := append([]string{b.Postgres.User}, owners...)
	var found []string
	for _, r := range roles {
		if slices.Contains(theirs, r.name) {
			found = append(found, r.name)
		}
	}
	if len(found) > 0 {
		return "", leakf("%s is a member of %s, role(s) of tenant %q, and can act as it with SET ROLE", self.Postgres.User, strings.Join(found, ", "), b.Tenant)
	}
	return fmt.Sprintf("%s reaches none of %s", self.Postgres.User, strings.Join(theirs, ", ")), nil
}

type tablePolicy struct {
	Name       string
	Permissive bool
	Cmd        string
	Qual       string
	Check      string
}

// sharedTableSecurity checks the shared table under probe and every table
// in schema app with a tenant_id column (but the registry): row-level
// security enabled and forced, a policy keyed on app.current_tenant(), and
// no permissive policy that lets other rows through.
func (s *pgSuite) sharedTableSecurity(ctx context.Context) (string, error) {
	admin, err := s.platform(ctx)
	if err != nil {
		return "", err
	}
	rows, err := admin.Query(ctx, `
		SELECT c.oid::regclass::text, c.relrowsecurity, c.relforcerowsecurity,
		       COALESCE((SELECT json_agg(json_build_object(
		                   'Name', p.polname, 'Permissive', p.polpermissive, 'Cmd', p.polcmd::text,
		                   'Qual', COALESCE(pg_catalog.pg_get_expr(p.polqual, p.polrelid), ''),
		                   'Check', COALESCE(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '')))
		                 FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid), '[]'::json)
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND (
		      c.oid = to_regclass($1)
		   OR (n.nspname = 'app' AND c.relname <> 'tenants' AND EXISTS (
		          SELECT 1 FROM pg_catalog.pg_attribute a
		          WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)))
		ORDER BY 1`, s.tableSQL)
	if err != nil {
		return "", err
	}
	type tableSecurity struct {
		Name            string
		Enabled, Forced bool
		Policies        []tablePolicy
	}
	tables, err := pgx.CollectRows(rows, pgx.RowToStructByPos[tableSecurity])
	if err != nil {
		return "", err
	}
	var found, names []string
	for _, t := range tables {
		names = append(names, t.Name)
		found = append(found, policyProblems(t.Name, t.Enabled, t.Forced, t.Policies)...)
	}
	if len(found) > 0 {
		return "", leakf("%s", strings.Join(found, "; "))
	}
	return "row-level security enabled, forced and keyed on app.current_tenant() on " + strings.Join(names, ", "), nil
}

// policyProblems lists what lets rows of one tenant reach another in a
// shared table with the given row-level security settings and policies.
func policyProblems(table string, enabled, forced bool, policies []tablePolicy) []string {
	var found []string
	if !enabled {
		found = append(found, table+": row-level security is disabled, so every tenant sees every row")
	}
	if !forced {
		found = append(found, table+": row-level security is not forced, so its owner bypasses it")
	}
	keyed := func(expr string) bool { return strings.Contains(expr, "current_tenant()") }
	var tenantPolicy bool
	for _, p := range policies {
		if !p.Permissive {
			continue // restrictive policies only narrow
		}
		if p.Cmd == "*" && keyed(p.Qual) && (p.Check == "" || keyed(p.Check)) {
			tenantPolicy = true
		}
		if p.Qual != "" && !keyed(p.Qual) {
			found = append(found, fmt.Sprintf("%s: permissive policy %s lets rows through with USING %s, not keyed on app.current_tenant()", table, p.Name, p.Qual))
		}
		if p.Check != "" && !keyed(p.Check) {
			found = append(found, fmt.Sprintf("%s: permissive policy %s accepts rows WITH CHECK %s, not keyed on app.current_tenant()", table, p.Name, p.Check))
		}
		if p.Check == "" && p.Qual == "" {
			found = append(found, fmt.Sprintf("%s: permissive policy %s has no condition, so it admits any row", table, p.Name))
		}
	}
	if !tenantPolicy && enabled {
		found = append(found, table+": no policy for all commands keyed on app.current_tenant(), so tenants cannot use it (is the tenant policy dropped?)")
	}
	return found
}
