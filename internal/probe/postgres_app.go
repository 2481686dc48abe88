package probe

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// The application's own tables (the platform's migrations create them on
// every tier): tenant tables carry tenant_id, reference tables do not. The
// probes here attack the real tables, beside the probe table.

// appTable is one application table of a schema.
type appTable struct {
	Name   string // SCHEMA.TABLE, quoted
	Tenant bool   // has tenant_id
}

// appTables lists the application's tables of schema in conn's database:
// every table but the platform's own (the probe table, the probes'
// fixtures).
func appTables(ctx context.Context, conn *pgx.Conn, schema string) ([]appTable, error) {
	rows, err := conn.Query(ctx, `
		SELECT format('%I.%I', n.nspname, c.relname),
		       EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND a.attnum > 0 AND NOT a.attisdropped)
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
		  AND c.relname NOT LIKE 'tenantstack\_%' AND NOT (n.nspname = 'app' AND c.relname = 'isolation_probe')
		ORDER BY 1`, schema)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[appTable])
}

// appRows attacks b's rows in every tenant table of the shared schema: as
// self, none may be read, changed or deleted (in a transaction rolled
// back), and the admin's count says how many there were to find.
func (s *pgSuite) appRows(ctx context.Context, conn *pgx.Conn, self, b tenantspec.Credentials) (string, error) {
	admin, err := s.platform(ctx)
	if err != nil {
		return "", err
	}
	list, err := appTables(ctx, admin, "app")
	if err != nil {
		return "", err
	}
	var tried []string
	for _, t := range list {
		if !t.Tenant {
			continue
		}
		var there int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM `+t.Name+` WHERE tenant_id = $1`, b.Tenant).Scan(&there); err != nil {
			return "", fmt.Errorf("counting tenant %q's rows in %s as the admin: %w", b.Tenant, t.Name, err)
		}
		res, err := inTx(ctx, conn, func(tx pgx.Tx) (string, error) {
			var seen int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+t.Name+` WHERE tenant_id = $1`, b.Tenant).Scan(&seen); err != nil {
				if denied(err) {
					return "refused", nil
				}
				return "", err
			}
			if seen > 0 {
				return "", leakf("%s read %d of tenant %q's rows in %s", self.Postgres.User, seen, b.Tenant, t.Name)
			}
			for _, q := range []string{
				`UPDATE ` + t.Name + ` SET tenant_id = tenant_id WHERE tenant_id = $1`,
				`DELETE FROM ` + t.Name + ` WHERE tenant_id = $1`,
			} {
				tag, err := tx.Exec(ctx, q, b.Tenant)
				if denied(err) {
					return "refused", nil
				}
				if err != nil {
					return "", err
				}
				if tag.RowsAffected() > 0 {
					return "", leakf("%s changed %d of tenant %q's rows in %s with %q (rolled back)", self.Postgres.User, tag.RowsAffected(), b.Tenant, t.Name, strings.Fields(q)[0])
				}
			}
			return "none", nil
		})
		if err != nil {
			return "", err
		}
		tried = append(tried, fmt.Sprintf("%s (%d rows of %q there: %s)", t.Name, there, b.Tenant, res))
	}
	if len(tried) == 0 {
		return "the shared schema has no application tenant tables (the platform has no migrations)", nil
	}
	return "read, changed and deleted none of the other tenant's rows in " + strings.Join(tried, ", "), nil
}

// alterAppTables tries, as self, to change the application's tables it
// uses (its tier's schema): DDL, TRUNCATE, turning row-level security off,
// and writing reference tables. All are the owner's, never a tenant's.
func (s *pgSuite) alterAppTables(ctx context.Context, conns *tenantConns, self tenantspec.Credentials) (string, error) {
	conn, err := conns.get(ctx, self.Postgres.Database)
	if err != nil {
		return "", fmt.Errorf("%s cannot log in to its own database%s: %w", self.Postgres.User, conns.where(), err)
	}
	schema := self.Postgres.Schema
	if schema == "" {
		schema = "public"
	}
	if self.Tier == tierShared {
		schema = "app"
	}
	admin, err := s.adminConn(ctx, self.Postgres.Database)
	if err != nil {
		return "", err
	}
	list, err := appTables(ctx, admin, schema)
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		return "no application tables in schema " + schema + " (the platform has no migrations)", nil
	}
	var names []string
	for _, t := range list {
		attempts := []string{
			`ALTER TABLE ` + t.Name + ` ADD COLUMN tenantstack_probe_col integer`,
			`ALTER TABLE ` + t.Name + ` DISABLE ROW LEVEL SECURITY`,
			`TRUNCATE ` + t.Name,
			`DROP TABLE ` + t.Name,
		}
		if !t.Tenant {
			col := firstColumn(ctx, admin, t.Name)
			attempts = append(attempts, `DELETE FROM `+t.Name, `UPDATE `+t.Name+` SET `+col+` = `+col)
		}
		for _, q := range attempts {
			_, err := inTx(ctx, conn, func(tx pgx.Tx) (string, error) {
				_, err := tx.Exec(ctx, q)
				return "", err
			})
			switch {
			case err == nil:
				return "", leakf("%s ran %q (rolled back): a tenant can change the application's tables", self.Postgres.User, q)
			case denied(err):
			default:
				return "", fmt.Errorf("%s: %q failed in an unexpected way: %w", self.Postgres.User, q, err)
			}
		}
		names = append(names, t.Name)
	}
	return "refused DDL, TRUNCATE, RLS off and reference-table writes on " + strings.Join(names, ", "), nil
}

// firstColumn names a column of table, for an UPDATE that changes nothing.
func firstColumn(ctx context.Context, admin *pgx.Conn, table string) string {
	var col string
	if err := admin.QueryRow(ctx, `SELECT quote_ident(attname) FROM pg_catalog.pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum LIMIT 1`, table).Scan(&col); err != nil {
		return "ctid"
	}
	return col
}

// readVersions tries, as self, to read the control plane's schema version
// tables: the platform database's (which holds every shared- and
// schema-tier target's) and its own database's.
func (s *pgSuite) readVersions(ctx context.Context, conns *tenantConns, self tenantspec.Credentials) (string, error) {
	dbs := []string{s.platformDB}
	if self.Postgres.Database != "" && self.Postgres.Database != s.platformDB {
		dbs = append(dbs, self.Postgres.Database)
	}
	var out []string
	for _, db := range dbs {
		conn, err := conns.get(ctx, db)
		if err != nil {
			if connectRefused(err) {
				out = append(out, fmt.Sprintf("database %q: login refused", db))
				continue
			}
			return "", err
		}
		admin, err := s.adminConn(ctx, db)
		if err != nil {
			return "", err
		}
		var exists bool
		if err := admin.QueryRow(ctx, `SELECT to_regclass('tenantstack.schema_versions') IS NOT NULL`).Scan(&exists); err != nil {
			return "", err
		}
		if !exists {
			out = append(out, fmt.Sprintf("database %q: no version table yet", db))
			continue
		}
		res, err := inTx(ctx, conn, func(tx pgx.Tx) (string, error) {
			var n int
			err := tx.QueryRow(ctx, `SELECT count(*) FROM tenantstack.schema_versions`).Scan(&n)
			switch {
			case denied(err):
				return "refused: " + pgMessage(err), nil
			case err != nil:
				return "", err
			}
			return "", leakf("%s read tenantstack.schema_versions in database %q%s: %d rows of every target's versions", self.Postgres.User, db, conns.where(), n)
		})
		if err != nil {
			return "", err
		}
		out = append(out, fmt.Sprintf("database %q: %s", db, res))
	}
	return strings.Join(out, "; "), nil
}
