package migrate

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// tenantCheck is the CHECK constraint that pins the tenant column of a
// tenant's own tables to its id.
const tenantCheck = "tenantstack_tenant"

// platformTableSQL matches tables of the target's schema that are the
// platform's, not the application's: the probes' fixtures and the shared
// tier's probe table.
const platformTableSQL = `(c.relname LIKE 'tenantstack\_%' OR (n.nspname = 'app' AND c.relname = 'isolation_probe'))`

// table is one application table as the catalogue has it.
type table struct {
	Name       string // SCHEMA.TABLE, quoted
	Rel        string
	Tenant     bool // has the tenant column
	RLS, Force bool
	Policy     bool
	Default    string
	Checked    bool
	Readable   bool
	Writable   bool // INSERT, UPDATE or DELETE or TRUNCATE
	CRUD       bool // SELECT, INSERT, UPDATE and DELETE
}

// tables lists the application's tables of t's schema.
func tables(ctx context.Context, tx pgx.Tx, t Target) ([]table, error) {
	rows, err := tx.Query(ctx, `
		SELECT format('%I.%I', n.nspname, c.relname), c.relname::text,
		       a.attnum IS NOT NULL,
		       c.relrowsecurity, c.relforcerowsecurity,
		       EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation'),
		       coalesce((SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d
		                 WHERE d.adrelid = c.oid AND d.adnum = a.attnum), ''),
		       EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid AND k.conname = $3),
		       pg_catalog.has_table_privilege($2, c.oid, 'SELECT'),
		       pg_catalog.has_table_privilege($2, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'),
		       pg_catalog.has_table_privilege($2, c.oid, 'SELECT') AND pg_catalog.has_table_privilege($2, c.oid, 'INSERT')
		         AND pg_catalog.has_table_privilege($2, c.oid, 'UPDATE') AND pg_catalog.has_table_privilege($2, c.oid, 'DELETE')
		FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = '`+TenantColumn+`' AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT `+platformTableSQL+`
		ORDER BY 1`, t.Schema, t.Grantee, tenantCheck)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
		var x table
		err := r.Scan(&x.Name, &x.Rel, &x.Tenant, &x.RLS, &x.Force, &x.Policy, &x.Default, &x.Checked, &x.Readable, &x.Writable, &x.CRUD)
		return x, err
	})
}

// fitTier makes the tables of t fit its tier (see the package doc). It
// changes only what is not so yet, so a table already fitted takes no lock.
func fitTier(ctx context.Context, tx pgx.Tx, t Target) error {
	list, err := tables(ctx, tx, t)
	if err != nil {
		return err
	}
	grantee := pgx.Identifier{t.Grantee}.Sanitize()
	lit := quoteLiteral(t.Tenant)
	for _, x := range list {
		var stmts []string
		switch {
		case x.Tenant && t.shared():
			if !x.RLS || !x.Force || !x.Policy {
				stmts = append(stmts, `SELECT app.enable_tenant_isolation('`+strings.ReplaceAll(x.Name, "'", "''")+`'::regclass)`)
			}
		case x.Tenant:
			if x.Default != lit+"::text" && x.Default != lit {
				stmts = append(stmts, `ALTER TABLE `+x.Name+` ALTER COLUMN `+TenantColumn+` SET DEFAULT `+lit)
			}
			if !x.Checked {
				stmts = append(stmts, `ALTER TABLE `+x.Name+` ADD CONSTRAINT `+tenantCheck+` CHECK (`+TenantColumn+` = `+lit+`)`)
			}
		}
		if x.Tenant && !x.CRUD {
			stmts = append(stmts, `GRANT SELECT, INSERT, UPDATE, DELETE ON `+x.Name+` TO `+grantee)
		}
		if !x.Tenant && x.Writable {
			stmts = append(stmts, `REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON `+x.Name+` FROM `+grantee)
		}
		if !x.Tenant && !x.Readable {
			stmts = append(stmts, `GRANT SELECT ON `+x.Name+` TO `+grantee)
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
	}
	return nil
}

// checkTarget refuses what would weaken isolation, whatever the lint saw:
// a tenant table of the shared schema without forced row-level security, a
// SECURITY DEFINER function without a pinned search_path, a privilege on
// the schema's objects granted to PUBLIC, a policy that is not the
// platform's.
func checkTarget(ctx context.Context, tx pgx.Tx, t Target) error {
	var problems []string
	list, err := tables(ctx, tx, t)
	if err != nil {
		return err
	}
	for _, x := range list {
		if x.Tenant && t.shared() && (!x.RLS || !x.Force || !x.Policy) {
			problems = append(problems, fmt.Sprintf("table %s has the tenant column but not forced row-level security with the tenant policy", x.Name))
		}
		if !x.Tenant && x.Writable {
			problems = append(problems, fmt.Sprintf("reference table %s is writable by %s", x.Name, t.Grantee))
		}
	}
	rows, err := tx.Query(ctx, `
		SELECT 'function ' || p.oid::regprocedure::text || ' is SECURITY DEFINER without SET search_path'
		FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = $1 AND p.prosecdef
		  AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}')) c WHERE c LIKE 'search\_path=%')
		UNION ALL
		SELECT format('%s %I.%I is granted to PUBLIC', CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'relation' END, n.nspname, c.relname)
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND EXISTS (SELECT 1 FROM aclexplode(c.relacl) x WHERE x.grantee = 0)
		UNION ALL
		SELECT format('policy %s on %I.%I is not the platform''s (only tenant_isolation is)', p.polname, n.nspname, c.relname)
		FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND p.polname <> 'tenant_isolation'
		UNION ALL
		SELECT format('schema %I is usable by PUBLIC', n.nspname)
		FROM pg_catalog.pg_namespace n WHERE n.nspname IN ($1, 'tenantstack') AND n.nspname <> 'public' AND EXISTS (SELECT 1 FROM aclexplode(n.nspacl) x WHERE x.grantee = 0)
		UNION ALL
		SELECT format('schema tenantstack is usable by %s', $2::text)
		WHERE to_regnamespace('tenantstack') IS NOT NULL AND pg_catalog.has_schema_privilege($2, 'tenantstack', 'USAGE')
		ORDER BY 1`, t.Schema, t.Grantee)
	if err != nil {
		return err
	}
	more, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	problems = append(problems, more...)
	if len(problems) > 0 {
		return fmt.Errorf("the migration would weaken tenant isolation: %s", strings.Join(problems, "; "))
	}
	return nil
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
