//go:build integration

package attacks_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	test_structure "github.com/gruntwork-io/terratest/modules/test-structure"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tenantstack/tenantstack/components/tenant"
	"github.com/tenantstack/tenantstack/internal/devplatform"
	"github.com/tenantstack/tenantstack/internal/fleet"
	"github.com/tenantstack/tenantstack/internal/testenv"
)

// SQLSTATEs that mean PostgreSQL refused what was asked.
const (
	codeInsufficientPrivilege = "42501"
	codeFeatureNotSupported   = "0A000"
	codeInvalidAuthorization  = "28000"
	codeInvalidPassword       = "28P01"
)

// spoofSettings are custom settings an application might wrongly key
// tenant isolation on; setting them to B's id must not show A B's rows.
var spoofSettings = []string{
	"app.tenant_id", "app.tenant", "app.current_tenant", "app.current_tenant_id", "tenant.id", "rls.tenant_id",
}

// TestPostgresIsolation attacks PostgreSQL with A's login, directly and
// through PgBouncer, on every tier.
func TestPostgresIsolation(t *testing.T) {
	t.Parallel()
	env := testenv.Platform(t)
	dir := workDir("postgres")

	defer test_structure.RunTestStage(t, "teardown", func() {
		// The suite's objects go first: a tenant owning one (a weakening
		// cut short) could not be dropped.
		if s := loadPGSuite(t, env, dir); s != nil {
			s.dropObjects(t)
		}
		teardownPairs(t, dir, allTiers)
	})
	test_structure.RunTestStage(t, "setup", func() {
		setupPairs(t, dir, "pg", allTiers)
	})
	test_structure.RunTestStage(t, "validate", func() {
		pairs := loadPairs(t, dir, allTiers)
		test_structure.SaveString(t, dir, "platform-db", pairs[0].ca.Postgres.Database)
		s := loadPGSuite(t, env, dir)
		s.createObjects(t)
		for _, p := range pairs {
			t.Run(p.tier, func(t *testing.T) {
				s.seed(t, p)
				for _, pooled := range []bool{false, true} {
					target := &pgTarget{s: s, tier: p.tier, pooled: pooled, a: p.ca, b: p.cb}
					t.Run(target.mode(), func(t *testing.T) {
						for _, a := range pgAttacks() {
							if !a.appliesTo(p.tier, pooled) {
								continue
							}
							t.Run(a.name, func(t *testing.T) { prove(t, target, a.attack) })
						}
					})
				}
			})
		}
	})
}

// pgSuite is what the PostgreSQL attacks share: the admin's connection and
// the objects the suite makes for them, named after the shared pair's A so
// that teardown finds them again.
type pgSuite struct {
	env        devplatform.Env
	adminUser  string
	platformDB string
	// table is a shared table in app keyed on the column "tenant": the
	// table weakenings change it, and tenantctl verify and delete, which
	// check every app table with a tenant_id column, must not see those
	// changes while another suite runs them.
	table string
	// view is a security_invoker view of app.isolation_probe, owned by
	// app_owner and readable by app_tenant.
	view string
	// decoy is a database nobody has CONNECT on.
	decoy string
}

// loadPGSuite returns the suite whose names setup saved, or nil before
// setup ran.
func loadPGSuite(t *testing.T, env devplatform.Env, dir string) *pgSuite {
	t.Helper()
	ka, _ := pairKeys(tierShared)
	if !test_structure.IsTestDataPresent(t, test_structure.FormatTestDataPath(dir, ka+".json")) {
		return nil
	}
	cfg, err := pgx.ParseConfig(env.Postgres.AdminURL)
	if err != nil {
		t.Fatalf("the platform's admin PostgreSQL URL does not parse: %v", err)
	}
	db := tenant.DefaultPlatformDatabase
	if test_structure.IsTestDataPresent(t, test_structure.FormatTestDataPath(dir, "platform-db.json")) {
		db = test_structure.LoadString(t, dir, "platform-db")
	}
	base := "attack_" + pgIdent(test_structure.LoadString(t, dir, ka))
	return &pgSuite{
		env: env, adminUser: cfg.User, platformDB: db,
		table: "app." + base, view: "app." + base + "_view", decoy: base + "_decoy",
	}
}

func pgIdent(name string) string { return strings.ReplaceAll(name, "-", "_") }

func ident(parts ...string) string { return pgx.Identifier(parts).Sanitize() }

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func markerFor(name string) string { return "attack-marker-" + name }

// pgConnect logs in with url, to database instead of the URL's if set.
func pgConnect(ctx context.Context, url, database string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, errors.New("a PostgreSQL URL does not parse (not repeated here: it holds a password)")
	}
	if database != "" {
		cfg.Database = database
	}
	cfg.ConnectTimeout = 10 * time.Second
	// PgBouncer in transaction mode keeps no prepared statement from one
	// transaction to the next.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	return pgx.ConnectConfig(ctx, cfg)
}

func (s *pgSuite) admin(ctx context.Context, database string) (*pgx.Conn, error) {
	c, err := pgConnect(ctx, s.env.Postgres.AdminURL, database)
	if err != nil {
		return nil, fmt.Errorf("connecting to database %q as the admin: %w", database, err)
	}
	return c, nil
}

// adminExec runs statements as the admin in database, in order.
func (s *pgSuite) adminExec(ctx context.Context, database string, stmts ...string) error {
	c, err := s.admin(ctx, database)
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	for _, st := range stmts {
		if _, err := c.Exec(ctx, st); err != nil {
			return fmt.Errorf("as the admin in %s: %s: %w", database, st, err)
		}
	}
	return nil
}

func (s *pgSuite) createObjects(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	err := s.adminExec(ctx, s.platformDB,
		"CREATE TABLE IF NOT EXISTS "+s.table+" (tenant text NOT NULL, marker text NOT NULL)",
		"ALTER TABLE "+s.table+" OWNER TO app_owner",
		"SELECT app.enable_tenant_isolation("+literal(s.table)+"::regclass, 'tenant')",
		"GRANT SELECT, INSERT, UPDATE, DELETE ON "+s.table+" TO app_tenant",
		"CREATE OR REPLACE VIEW "+s.view+" WITH (security_invoker = true) AS SELECT tenant_id, marker FROM app.isolation_probe",
		"ALTER VIEW "+s.view+" OWNER TO app_owner",
		"ALTER VIEW "+s.view+" SET (security_invoker = true)",
		"GRANT SELECT ON "+s.view+" TO app_tenant",
	)
	if err != nil {
		t.Fatalf("creating the suite's shared table and view: %v", err)
	}
	c, err := s.admin(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var exists bool
	if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", s.decoy).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if !exists {
		if _, err := c.Exec(ctx, "CREATE DATABASE "+ident(s.decoy)); err != nil {
			t.Fatalf("creating the decoy database: %v", err)
		}
	}
	if _, err := c.Exec(ctx, "REVOKE CONNECT, TEMPORARY ON DATABASE "+ident(s.decoy)+" FROM PUBLIC"); err != nil {
		t.Fatal(err)
	}
}

func (s *pgSuite) dropObjects(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	stmts := []string{"DROP VIEW IF EXISTS " + s.view, "DROP TABLE IF EXISTS " + s.table}
	if err := s.adminExec(ctx, s.platformDB, stmts...); err != nil {
		t.Errorf("dropping the suite's shared table and view: %v", err)
	}
	if err := s.adminExec(ctx, "postgres", "DROP DATABASE IF EXISTS "+ident(s.decoy)+" WITH (FORCE)"); err != nil {
		t.Errorf("dropping the decoy database: %v", err)
	}
	// The tables seeded in the schema tier's schemas: the provider drops a
	// schema only when it is empty.
	ka, kb := pairKeys(tierSchema)
	dir := workDir("postgres")
	for _, k := range []string{ka, kb} {
		if !test_structure.IsTestDataPresent(t, test_structure.FormatTestDataPath(dir, k+".json")) {
			continue
		}
		schema := tenant.SchemaName(test_structure.LoadString(t, dir, k))
		if err := s.adminExec(ctx, s.platformDB, "DROP TABLE IF EXISTS "+ident(schema, "attack_secret")); err != nil &&
			sqlState(err) != "3F000" {
			t.Errorf("dropping the table seeded in %s: %v", schema, err)
		}
	}
}

// seed gives A and B something to protect: a marker row each in the shared
// tables (shared tier), or a table with a marker in their own schema or
// database, created by their owner role as a migration would. Each tenant
// must then read its own marker, or no refusal later proves anything.
func (s *pgSuite) seed(t *testing.T, p *pair) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []struct{ name, url, db, schema, user string }{
		{p.a, p.ca.Postgres.URL, p.ca.Postgres.Database, p.ca.Postgres.Schema, p.ca.Postgres.User},
		{p.b, p.cb.Postgres.URL, p.cb.Postgres.Database, p.cb.Postgres.Schema, p.cb.Postgres.User},
	} {
		marker := markerFor(c.name)
		switch p.tier {
		case tierShared:
			conn, err := pgConnect(ctx, c.url, "")
			if err != nil {
				t.Fatalf("%s cannot log in: %v", c.name, err)
			}
			for _, table := range []string{"app.isolation_probe", s.table} {
				if _, err := conn.Exec(ctx, "INSERT INTO "+table+" (marker) SELECT $1::text WHERE NOT EXISTS (SELECT 1 FROM "+table+" WHERE marker = $1::text)", marker); err != nil {
					t.Fatalf("%s cannot write its own row into %s: %v", c.name, table, err)
				}
			}
			conn.Close(ctx)
		default:
			owner := ident(tenant.OwnerRoleName(c.name))
			table := ident(c.schema, "attack_secret")
			err := s.adminExec(ctx, c.db,
				"SET ROLE "+owner,
				"CREATE TABLE IF NOT EXISTS "+table+" (marker text NOT NULL)",
				"INSERT INTO "+table+" (marker) SELECT "+literal(marker)+" WHERE NOT EXISTS (SELECT 1 FROM "+table+")",
			)
			if err != nil {
				t.Fatalf("seeding %s as its owner role, as a migration would: %v", table, err)
			}
			conn, err := pgConnect(ctx, c.url, "")
			if err != nil {
				t.Fatalf("%s cannot log in: %v", c.name, err)
			}
			var got string
			err = conn.QueryRow(ctx, "SELECT marker FROM "+table).Scan(&got)
			conn.Close(ctx)
			if err != nil || got != marker {
				t.Fatalf("%s cannot read its own table %s (got %q, %v): its grants are broken, and no refusal would prove anything", c.name, table, got, err)
			}
		}
	}
}

// pgTarget is one pair attacked in one mode.
type pgTarget struct {
	s      *pgSuite
	tier   string
	pooled bool
	a, b   fleet.Credentials
}

func (p *pgTarget) mode() string {
	if p.pooled {
		return "pgbouncer"
	}
	return "direct"
}

func (p *pgTarget) url(c fleet.Credentials) string {
	if p.pooled {
		return c.Postgres.PoolerURL
	}
	return c.Postgres.URL
}

// connA logs in as A, to its own database or to database if set.
func (p *pgTarget) connA(ctx context.Context, database string) (*pgx.Conn, error) {
	c, err := pgConnect(ctx, p.url(p.a), database)
	if err != nil {
		return nil, fmt.Errorf("%s cannot log in (%s): %w", p.a.Tenant, p.mode(), err)
	}
	return c, nil
}

func (p *pgTarget) roleA() string { return ident(p.a.Postgres.User) }
func (p *pgTarget) roleB() string { return ident(p.b.Postgres.User) }

// endSessionsA ends A's server sessions, so that PgBouncer's pooled server
// connections log in again and pick up a changed role.
func (p *pgTarget) endSessionsA(ctx context.Context) error {
	return p.s.adminExec(ctx, "postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = "+literal(p.a.Postgres.User))
}

// change runs do as the admin in database and returns the undo, which runs
// undo there. A's sessions end after both.
func (p *pgTarget) change(ctx context.Context, database string, do, undo []string) (undoFunc, error) {
	undoFn := func(ctx context.Context) error {
		return errors.Join(p.s.adminExec(ctx, database, undo...), p.endSessionsA(ctx))
	}
	if err := p.s.adminExec(ctx, database, do...); err != nil {
		return nil, errors.Join(err, undoFn(ctx))
	}
	return undoFn, p.endSessionsA(ctx)
}

// resetPool drops PgBouncer's pools of database. A pool that once logged in
// keeps its welcome message and holds new clients waiting for a server
// login PostgreSQL now refuses; a fresh pool reports the refusal.
func (p *pgTarget) resetPool(ctx context.Context, database string) error {
	return resetPool(ctx, p.s.env, database)
}

func resetPool(ctx context.Context, env devplatform.Env, database string) error {
	c, err := pgConnect(ctx, env.Postgres.PoolerURL, "pgbouncer")
	if err != nil {
		return fmt.Errorf("connecting to the PgBouncer console: %w", err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	for _, cmd := range []string{"KILL " + database, "RESUME " + database} {
		if _, err := c.Exec(ctx, cmd); err != nil {
			return fmt.Errorf("PgBouncer console: %s: %w", cmd, err)
		}
	}
	return nil
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// refusal makes a blocked outcome of an error with one of codes; any other
// error is returned as it is: a typo or a lost connection proves nothing.
func refusal(err error, codes ...string) (outcome, error) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && slices.Contains(codes, pe.Code) {
		return blockedf("refused: %s (SQLSTATE %s)", pe.Message, pe.Code), nil
	}
	return outcome{}, err
}

// loginRefusal is refusal for a login: PostgreSQL refuses with 42501 or
// 28xxx; PgBouncer passes the server's message on as its own error.
func loginRefusal(err error) (outcome, error) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == codeInsufficientPrivilege, pe.Code == codeInvalidAuthorization, pe.Code == codeInvalidPassword,
			strings.Contains(pe.Message, "permission denied for database"),
			strings.Contains(pe.Message, "server login has been failing"):
			return blockedf("login refused: %s (SQLSTATE %s)", pe.Message, pe.Code), nil
		}
	}
	return outcome{}, err
}

// querier is a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// tenantRow is a row of a shared table: its tenant column and marker.
type tenantRow struct{ tenant, marker string }

func tenantRows(ctx context.Context, q querier, sql string, args ...any) ([]tenantRow, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenantRow, error) {
		var tr tenantRow
		err := r.Scan(&tr.tenant, &tr.marker)
		return tr, err
	})
}

func strs(ctx context.Context, q querier, sql string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// judge says whether rows A read hold any of B's, and insists that A saw
// its own: seeing nothing at all proves nothing.
func (p *pgTarget) judge(rows []tenantRow, where string) (outcome, error) {
	own := false
	var leaked []tenantRow
	for _, r := range rows {
		if r.marker == markerFor(p.a.Tenant) {
			own = true
		}
		if r.tenant == p.b.Tenant || r.marker == markerFor(p.b.Tenant) {
			leaked = append(leaked, r)
		}
	}
	if len(leaked) > 0 {
		return throughf("read %d of %s's rows in %s (tenant %q, marker %q)", len(leaked), p.b.Tenant, where, leaked[0].tenant, leaked[0].marker), nil
	}
	if !own {
		return outcome{}, fmt.Errorf("%s does not see its own row (marker %q) in %s, so not seeing %s's proves nothing",
			p.a.Tenant, markerFor(p.a.Tenant), where, p.b.Tenant)
	}
	return blockedf("%s sees %d rows in %s, none of %s's", p.a.Tenant, len(rows), where, p.b.Tenant), nil
}

// inTx runs fn in a transaction of A's that is always rolled back, so a
// write that gets through changes nothing and no setting outlives it on a
// pooled server connection.
func (p *pgTarget) inTx(ctx context.Context, fn func(tx pgx.Tx) (outcome, error)) (outcome, error) {
	c, err := p.connA(ctx, "")
	if err != nil {
		return outcome{}, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	tx, err := c.Begin(ctx)
	if err != nil {
		return outcome{}, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	return fn(tx)
}

// pgAttack is an attack on PostgreSQL and where it applies.
type pgAttack struct {
	attack[*pgTarget]
	tiers      []string // every tier if empty
	pooledOnly bool
}

func (a pgAttack) appliesTo(tier string, pooled bool) bool {
	if a.pooledOnly && !pooled {
		return false
	}
	return len(a.tiers) == 0 || slices.Contains(a.tiers, tier)
}

// Weakenings used by several attacks.
var (
	weakenBypassRLS = func(ctx context.Context, p *pgTarget) (undoFunc, error) {
		return p.change(ctx, p.s.platformDB,
			[]string{"ALTER ROLE " + p.roleA() + " BYPASSRLS"},
			[]string{"ALTER ROLE " + p.roleA() + " NOBYPASSRLS"})
	}
	// weakenSettingPolicy keys the suite table's policy on a setting, as an
	// application that trusts the client's SET would.
	weakenSettingPolicy = func(ctx context.Context, p *pgTarget) (undoFunc, error) {
		key := "COALESCE(NULLIF(current_setting('app.tenant_id', true), ''), app.current_tenant())"
		return p.change(ctx, p.s.platformDB,
			[]string{
				"DROP POLICY IF EXISTS tenant_isolation ON " + p.s.table,
				"CREATE POLICY tenant_isolation ON " + p.s.table + " FOR ALL TO PUBLIC USING (tenant = " + key + ") WITH CHECK (tenant = " + key + ")",
			},
			[]string{"SELECT app.enable_tenant_isolation(" + literal(p.s.table) + "::regclass, 'tenant')"})
	}
	weakenReadAllStats = func(ctx context.Context, p *pgTarget) (undoFunc, error) {
		return p.change(ctx, "postgres",
			[]string{"GRANT pg_read_all_stats TO " + p.roleA()},
			[]string{"REVOKE pg_read_all_stats FROM " + p.roleA()})
	}
)

const (
	bypassRLS     = "ALTER ROLE A BYPASSRLS"
	settingPolicy = "the table's policy keyed on current_setting('app.tenant_id')"
	readAllStats  = "GRANT pg_read_all_stats TO A"
)

func pgAttacks() []pgAttack {
	shared := []string{tierShared}
	return []pgAttack{
		{tiers: shared, attack: attack[*pgTarget]{
			name:     "read B's rows",
			weakness: bypassRLS, weaken: weakenBypassRLS,
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				c, err := p.connA(ctx, "")
				if err != nil {
					return outcome{}, err
				}
				defer c.Close(ctx)
				rows, err := tenantRows(ctx, c, "SELECT tenant_id, marker FROM app.isolation_probe")
				if err != nil {
					return refusal(err, codeInsufficientPrivilege)
				}
				return p.judge(rows, "app.isolation_probe")
			},
		}},
		{tiers: shared, attack: attack[*pgTarget]{
			name:     "insert a row with B's tenant_id",
			weakness: bypassRLS, weaken: weakenBypassRLS,
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				return p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
					_, err := tx.Exec(ctx, "INSERT INTO app.isolation_probe (tenant_id, marker) VALUES ($1, $2)", p.b.Tenant, "attack-insert-"+p.a.Tenant)
					if err != nil {
						return refusal(err, codeInsufficientPrivilege)
					}
					return throughf("inserted a row with tenant_id %q", p.b.Tenant), nil
				})
			},
		}},
		{tiers: shared, attack: attack[*pgTarget]{
			name:     "move its own row to B",
			weakness: bypassRLS, weaken: weakenBypassRLS,
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				return p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
					m := "attack-move-" + p.a.Tenant
					if _, err := tx.Exec(ctx, "INSERT INTO app.isolation_probe (marker) VALUES ($1)", m); err != nil {
						return outcome{}, fmt.Errorf("%s cannot insert its own row: %w", p.a.Tenant, err)
					}
					tag, err := tx.Exec(ctx, "UPDATE app.isolation_probe SET tenant_id = $1 WHERE marker = $2", p.b.Tenant, m)
					if err != nil {
						return refusal(err, codeInsufficientPrivilege)
					}
					if tag.RowsAffected() == 0 {
						return outcome{}, fmt.Errorf("the UPDATE matched none of %s's own rows", p.a.Tenant)
					}
					return throughf("set tenant_id to %q on its own row", p.b.Tenant), nil
				})
			},
		}},
		{tiers: shared, attack: attack[*pgTarget]{
			name:     "update B's rows",
			weakness: bypassRLS, weaken: weakenBypassRLS,
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				return p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
					tag, err := tx.Exec(ctx, "UPDATE app.isolation_probe SET marker = marker || '-changed' WHERE tenant_id = $1", p.b.Tenant)
					if err != nil {
						return refusal(err, codeInsufficientPrivilege)
					}
					if n := tag.RowsAffected(); n > 0 {
						return throughf("changed %d of %s's rows", n, p.b.Tenant), nil
					}
					return blockedf("the UPDATE matched none of %s's rows", p.b.Tenant), nil
				})
			},
		}},
		{tiers: shared, attack: attack[*pgTarget]{
			name:     "delete B's rows",
			weakness: bypassRLS, weaken: weakenBypassRLS,
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				return p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
					tag, err := tx.Exec(ctx, "DELETE FROM app.isolation_probe WHERE tenant_id = $1", p.b.Tenant)
					if err != nil {
						return refusal(err, codeInsufficientPrivilege)
					}
					if n := tag.RowsAffected(); n > 0 {
						return throughf("deleted %d of %s's rows", n, p.b.Tenant), nil
					}
					return blockedf("the DELETE matched none of %s's rows", p.b.Tenant), nil
				})
			},
		}},
		{tiers: shared, attack: attack[*pgTarget]{
			name:     "spoof the tenant with SET",
			weakness: settingPolicy, weaken: weakenSettingPolicy,
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				return p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
					for _, name := range spoofSettings {
						if _, err := tx.Exec(ctx, "SET "+name+" = "+literal(p.b.Tenant)); err != nil {
							return outcome{}, fmt.Errorf("SET %s: %w", name, err)
						}
					}
					return p.spoofed(ctx, tx)
				})
			},
		}},
		{tiers: shared, attack: attack[*pgTarget]{
			name:     "spoof the tenant with set_config",
			weakness: settingPolicy, weaken: weakenSettingPolicy,
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				return p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
					for _, name := range spoofSettings {
						if _, err := tx.Exec(ctx, "SELECT set_config($1, $2, false)", name, p.b.Tenant); err != nil {
							return outcome{}, fmt.Errorf("set_config(%s): %w", name, err)
						}
					}
					return p.spoofed(ctx, tx)
				})
			},
		}},
		{tiers: shared, pooledOnly: true, attack: attack[*pgTarget]{
			name:     "tenant identity across pooled sessions",
			weakness: settingPolicy, weaken: weakenSettingPolicy,
			run: runPooledIdentity,
		}},
		{attack: attack[*pgTarget]{
			name:     "SET ROLE to B's and the platform's roles",
			weakness: "GRANT B's role TO A",
			weaken: func(ctx context.Context, p *pgTarget) (undoFunc, error) {
				return p.change(ctx, "postgres",
					[]string{"GRANT " + p.roleB() + " TO " + p.roleA()},
					[]string{"REVOKE " + p.roleB() + " FROM " + p.roleA()})
			},
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				targets := []string{p.b.Postgres.User, "app_owner", p.s.adminUser}
				if p.tier != tierShared {
					targets = append(targets, tenant.OwnerRoleName(p.b.Tenant))
				}
				var reached, refused []string
				for _, role := range targets {
					o, err := p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
						if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+ident(role)); err != nil {
							return refusal(err, codeInsufficientPrivilege)
						}
						return throughf("became %s", role), nil
					})
					if err != nil {
						return outcome{}, fmt.Errorf("SET ROLE %s: %w", role, err)
					}
					if o.through {
						reached = append(reached, role)
					} else {
						refused = append(refused, role)
					}
				}
				if len(reached) > 0 {
					return throughf("SET ROLE succeeded for %s", strings.Join(reached, ", ")), nil
				}
				return blockedf("SET ROLE refused for %s", strings.Join(refused, ", ")), nil
			},
		}},
		{attack: attack[*pgTarget]{
			name: "SET SESSION AUTHORIZATION to B",
			// Only a superuser may; a fresh login picks the attribute up.
			weakness: "ALTER ROLE A SUPERUSER",
			weaken: func(ctx context.Context, p *pgTarget) (undoFunc, error) {
				return p.change(ctx, "postgres",
					[]string{"ALTER ROLE " + p.roleA() + " SUPERUSER"},
					[]string{"ALTER ROLE " + p.roleA() + " NOSUPERUSER"})
			},
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				return p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
					if _, err := tx.Exec(ctx, "SET LOCAL SESSION AUTHORIZATION "+p.roleB()); err != nil {
						return refusal(err, codeInsufficientPrivilege)
					}
					var who string
					if err := tx.QueryRow(ctx, "SELECT session_user::text").Scan(&who); err != nil {
						return outcome{}, err
					}
					return throughf("session_user is now %q", who), nil
				})
			},
		}},
		{tiers: shared, attack: attack[*pgTarget]{
			name:     "SET row_security = off",
			weakness: bypassRLS, weaken: weakenBypassRLS,
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				return p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
					if _, err := tx.Exec(ctx, "SET LOCAL row_security = off"); err != nil {
						return outcome{}, err
					}
					rows, err := tenantRows(ctx, tx, "SELECT tenant_id, marker FROM app.isolation_probe")
					if err != nil {
						return refusal(err, codeInsufficientPrivilege)
					}
					return p.judge(rows, "app.isolation_probe with row_security off")
				})
			},
		}},
		{tiers: shared, attack: attack[*pgTarget]{
			name:     "become the owner of a shared table",
			weakness: "GRANT app_owner TO A",
			weaken: func(ctx context.Context, p *pgTarget) (undoFunc, error) {
				return p.change(ctx, "postgres",
					[]string{"GRANT app_owner TO " + p.roleA()},
					[]string{"REVOKE app_owner FROM " + p.roleA()})
			},
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				return p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
					if _, err := tx.Exec(ctx, "ALTER TABLE "+p.s.table+" OWNER TO "+p.roleA()); err != nil {
						return refusal(err, codeInsufficientPrivilege)
					}
					return throughf("%s now owns %s", p.a.Tenant, p.s.table), nil
				})
			},
		}},
		{tiers: shared, attack: attack[*pgTarget]{
			name:     "disable row-level security",
			weakness: "ALTER TABLE ... OWNER TO A",
			weaken: func(ctx context.Context, p *pgTarget) (undoFunc, error) {
				return p.change(ctx, p.s.platformDB,
					[]string{"ALTER TABLE " + p.s.table + " OWNER TO " + p.roleA()},
					[]string{"ALTER TABLE " + p.s.table + " OWNER TO app_owner"})
			},
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				return p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
					for _, st := range []string{"NO FORCE ROW LEVEL SECURITY", "DISABLE ROW LEVEL SECURITY"} {
						if _, err := tx.Exec(ctx, "ALTER TABLE "+p.s.table+" "+st); err != nil {
							return refusal(err, codeInsufficientPrivilege)
						}
					}
					rows, err := tenantRows(ctx, tx, "SELECT tenant, marker FROM "+p.s.table)
					if err != nil {
						return outcome{}, err
					}
					return p.judge(rows, p.s.table+" with row-level security disabled")
				})
			},
		}},
		{tiers: shared, attack: attack[*pgTarget]{
			name:     "create a view in schema app",
			weakness: "GRANT CREATE ON SCHEMA app TO A",
			weaken: func(ctx context.Context, p *pgTarget) (undoFunc, error) {
				return p.change(ctx, p.s.platformDB,
					[]string{"GRANT CREATE ON SCHEMA app TO " + p.roleA()},
					[]string{"REVOKE CREATE ON SCHEMA app FROM " + p.roleA()})
			},
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				return p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
					v := ident("app", "attack_intruder_"+pgIdent(p.a.Tenant))
					if _, err := tx.Exec(ctx, "CREATE VIEW "+v+" AS SELECT tenant_id, marker FROM app.isolation_probe"); err != nil {
						return refusal(err, codeInsufficientPrivilege)
					}
					return throughf("created view %s", v), nil
				})
			},
		}},
		{tiers: shared, attack: attack[*pgTarget]{
			name:     "read B's rows through a view",
			weakness: "the view made security_invoker = false and owned by the admin",
			weaken: func(ctx context.Context, p *pgTarget) (undoFunc, error) {
				return p.change(ctx, p.s.platformDB,
					[]string{"ALTER VIEW " + p.s.view + " SET (security_invoker = false)", "ALTER VIEW " + p.s.view + " OWNER TO " + ident(p.s.adminUser)},
					[]string{"ALTER VIEW " + p.s.view + " OWNER TO app_owner", "ALTER VIEW " + p.s.view + " SET (security_invoker = true)"})
			},
			run: runViews,
		}},
		{tiers: shared, attack: attack[*pgTarget]{
			name:     "TRUNCATE a shared table",
			weakness: "GRANT TRUNCATE ON the table TO A",
			weaken: func(ctx context.Context, p *pgTarget) (undoFunc, error) {
				return p.change(ctx, p.s.platformDB,
					[]string{"GRANT TRUNCATE ON " + p.s.table + " TO " + p.roleA()},
					[]string{"REVOKE TRUNCATE ON " + p.s.table + " FROM " + p.roleA()})
			},
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				return p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
					if _, err := tx.Exec(ctx, "TRUNCATE "+p.s.table); err != nil {
						return refusal(err, codeInsufficientPrivilege)
					}
					return throughf("truncated %s, every tenant's rows", p.s.table), nil
				})
			},
		}},
		{tiers: shared, attack: attack[*pgTarget]{
			name:     "COPY a shared table TO STDOUT",
			weakness: bypassRLS, weaken: weakenBypassRLS,
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				c, err := p.connA(ctx, "")
				if err != nil {
					return outcome{}, err
				}
				defer c.Close(ctx)
				var buf bytes.Buffer
				if _, err := c.PgConn().CopyTo(ctx, &buf, "COPY app.isolation_probe (tenant_id, marker) TO STDOUT"); err != nil {
					return refusal(err, codeInsufficientPrivilege)
				}
				var rows []tenantRow
				for line := range strings.Lines(buf.String()) {
					tn, m, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
					rows = append(rows, tenantRow{tn, m})
				}
				return p.judge(rows, "COPY app.isolation_probe TO STDOUT")
			},
		}},
		{tiers: shared, attack: attack[*pgTarget]{
			name:     "COPY rows with B's tenant_id FROM STDIN",
			weakness: bypassRLS, weaken: weakenBypassRLS,
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				return p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
					data := strings.NewReader(p.b.Tenant + "\tattack-copy-" + p.a.Tenant + "\n")
					if _, err := tx.Conn().PgConn().CopyFrom(ctx, data, "COPY app.isolation_probe (tenant_id, marker) FROM STDIN"); err != nil {
						return refusal(err, codeFeatureNotSupported, codeInsufficientPrivilege)
					}
					return throughf("copied a row with tenant_id %q in", p.b.Tenant), nil
				})
			},
		}},
		{tiers: []string{tierShared, tierSchema}, attack: attack[*pgTarget]{
			name:     "read the tenant registry tenantstack.tenants",
			weakness: "GRANT USAGE ON SCHEMA tenantstack, SELECT ON tenantstack.tenants TO A",
			weaken: func(ctx context.Context, p *pgTarget) (undoFunc, error) {
				return p.change(ctx, p.s.platformDB,
					[]string{"GRANT USAGE ON SCHEMA tenantstack TO " + p.roleA(), "GRANT SELECT ON tenantstack.tenants TO " + p.roleA()},
					[]string{"REVOKE SELECT ON tenantstack.tenants FROM " + p.roleA(), "REVOKE USAGE ON SCHEMA tenantstack FROM " + p.roleA()})
			},
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				c, err := p.connA(ctx, "")
				if err != nil {
					return outcome{}, err
				}
				defer c.Close(ctx)
				ids, err := strs(ctx, c, "SELECT tenant_id FROM tenantstack.tenants")
				if err != nil {
					return refusal(err, codeInsufficientPrivilege)
				}
				return throughf("read %d registry rows (B's included: %v)", len(ids), slices.Contains(ids, p.b.Tenant)), nil
			},
		}},
		{tiers: []string{tierSchema}, attack: attack[*pgTarget]{
			name:     "read B's schema",
			weakness: "GRANT USAGE ON B's schema, SELECT ON its table TO A",
			weaken: func(ctx context.Context, p *pgTarget) (undoFunc, error) {
				s := ident(p.b.Postgres.Schema)
				return p.change(ctx, p.s.platformDB,
					[]string{"GRANT USAGE ON SCHEMA " + s + " TO " + p.roleA(), "GRANT SELECT ON " + ident(p.b.Postgres.Schema, "attack_secret") + " TO " + p.roleA()},
					[]string{"REVOKE SELECT ON " + ident(p.b.Postgres.Schema, "attack_secret") + " FROM " + p.roleA(), "REVOKE USAGE ON SCHEMA " + s + " FROM " + p.roleA()})
			},
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				c, err := p.connA(ctx, "")
				if err != nil {
					return outcome{}, err
				}
				defer c.Close(ctx)
				// Unqualified, "$user" first on the search_path finds A's own
				// table: the tier's design, and the proof A can read at all.
				own, err := strs(ctx, c, "SELECT marker FROM attack_secret")
				if err != nil || !slices.Contains(own, markerFor(p.a.Tenant)) {
					return outcome{}, fmt.Errorf("%s cannot read its own attack_secret unqualified (got %v, %v)", p.a.Tenant, own, err)
				}
				got, err := strs(ctx, c, "SELECT marker FROM "+ident(p.b.Postgres.Schema, "attack_secret"))
				if err != nil {
					return refusal(err, codeInsufficientPrivilege)
				}
				return throughf("read %v from %s's schema", got, p.b.Tenant), nil
			},
		}},
		{tiers: []string{tierSchema}, attack: attack[*pgTarget]{
			name:     "write into B's schema",
			weakness: "GRANT USAGE ON B's schema, INSERT ON its table TO A",
			weaken: func(ctx context.Context, p *pgTarget) (undoFunc, error) {
				s := ident(p.b.Postgres.Schema)
				tbl := ident(p.b.Postgres.Schema, "attack_secret")
				return p.change(ctx, p.s.platformDB,
					[]string{"GRANT USAGE ON SCHEMA " + s + " TO " + p.roleA(), "GRANT INSERT ON " + tbl + " TO " + p.roleA()},
					[]string{"REVOKE INSERT ON " + tbl + " FROM " + p.roleA(), "REVOKE USAGE ON SCHEMA " + s + " FROM " + p.roleA()})
			},
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				return p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
					tbl := ident(p.b.Postgres.Schema, "attack_secret")
					if _, err := tx.Exec(ctx, "INSERT INTO "+tbl+" (marker) VALUES ($1)", "attack-write-"+p.a.Tenant); err != nil {
						return refusal(err, codeInsufficientPrivilege)
					}
					return throughf("inserted a row into %s", tbl), nil
				})
			},
		}},
		{tiers: []string{tierSchema}, attack: attack[*pgTarget]{
			name:     "create a table in B's schema",
			weakness: "GRANT USAGE, CREATE ON B's schema TO A",
			weaken: func(ctx context.Context, p *pgTarget) (undoFunc, error) {
				s := ident(p.b.Postgres.Schema)
				return p.change(ctx, p.s.platformDB,
					[]string{"GRANT USAGE, CREATE ON SCHEMA " + s + " TO " + p.roleA()},
					[]string{"REVOKE USAGE, CREATE ON SCHEMA " + s + " FROM " + p.roleA()})
			},
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				return p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
					tbl := ident(p.b.Postgres.Schema, "attack_intruder")
					if _, err := tx.Exec(ctx, "CREATE TABLE "+tbl+" (x int)"); err != nil {
						return refusal(err, codeInsufficientPrivilege)
					}
					return throughf("created %s", tbl), nil
				})
			},
		}},
		{tiers: []string{tierDatabase}, attack: attack[*pgTarget]{
			name:     "connect to B's database",
			weakness: "GRANT CONNECT ON B's database TO A",
			weaken: func(ctx context.Context, p *pgTarget) (undoFunc, error) {
				db := ident(p.b.Postgres.Database)
				undo, err := p.change(ctx, "postgres",
					[]string{"GRANT CONNECT ON DATABASE " + db + " TO " + p.roleA()},
					[]string{"REVOKE CONNECT ON DATABASE " + db + " FROM " + p.roleA()})
				if err != nil || !p.pooled {
					return undo, err
				}
				return func(ctx context.Context) error {
					return errors.Join(undo(ctx), p.resetPool(ctx, p.b.Postgres.Database))
				}, nil
			},
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				c, err := pgConnect(ctx, p.url(p.a), p.b.Postgres.Database)
				if err != nil {
					return loginRefusal(err)
				}
				defer c.Close(ctx)
				var db string
				if err := c.QueryRow(ctx, "SELECT current_database()::text").Scan(&db); err != nil {
					return loginRefusal(err)
				}
				return throughf("connected to %s's database %q", p.b.Tenant, db), nil
			},
		}},
		{attack: attack[*pgTarget]{
			name:     "databases other than its own it may connect to",
			weakness: "GRANT CONNECT ON a decoy database TO A",
			weaken: func(ctx context.Context, p *pgTarget) (undoFunc, error) {
				return p.change(ctx, "postgres",
					[]string{"GRANT CONNECT ON DATABASE " + ident(p.s.decoy) + " TO " + p.roleA()},
					[]string{"REVOKE CONNECT ON DATABASE " + ident(p.s.decoy) + " FROM " + p.roleA()})
			},
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				c, err := p.connA(ctx, "")
				if err != nil {
					return outcome{}, err
				}
				defer c.Close(ctx)
				// The server's own answer for every database: connecting to
				// template1 for real would block concurrent CREATE DATABASE.
				dbs, err := strs(ctx, c, `SELECT datname::text FROM pg_database
					WHERE datallowconn AND datname <> current_database() AND has_database_privilege(datname, 'CONNECT') ORDER BY 1`)
				if err != nil {
					return outcome{}, err
				}
				if len(dbs) > 0 {
					return throughf("%s holds CONNECT on %s (its own: %s)", p.a.Tenant, strings.Join(dbs, ", "), p.a.Postgres.Database), nil
				}
				return blockedf("%s holds CONNECT on its own database %s only", p.a.Tenant, p.a.Postgres.Database), nil
			},
		}},
		{attack: attack[*pgTarget]{
			name:     "read B's query text in pg_stat_activity",
			weakness: readAllStats, weaken: weakenReadAllStats,
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				marker := "attack-stat-" + p.b.Tenant
				cb, err := pgConnect(ctx, p.b.Postgres.URL, "")
				if err != nil {
					return outcome{}, fmt.Errorf("%s cannot log in: %w", p.b.Tenant, err)
				}
				defer cb.Close(context.WithoutCancel(ctx))
				if _, err := cb.Exec(ctx, "SELECT "+literal(marker)); err != nil {
					return outcome{}, err
				}
				c, err := p.connA(ctx, "")
				if err != nil {
					return outcome{}, err
				}
				defer c.Close(ctx)
				queries, err := strs(ctx, c, "SELECT coalesce(query, '') FROM pg_stat_activity WHERE usename = $1", p.b.Postgres.User)
				if err != nil {
					return refusal(err, codeInsufficientPrivilege)
				}
				if len(queries) == 0 {
					return outcome{}, fmt.Errorf("%s's open session does not show in pg_stat_activity at all, so its query text not showing proves nothing", p.b.Tenant)
				}
				for _, q := range queries {
					if strings.Contains(q, marker) {
						return throughf("read %s's query %q", p.b.Tenant, q), nil
					}
				}
				return blockedf("%s's session shows, its query as %q", p.b.Tenant, queries[0]), nil
			},
		}},
		{attack: attack[*pgTarget]{
			name:     "read B's statements in pg_stat_statements",
			weakness: readAllStats, weaken: weakenReadAllStats,
			skip: func(ctx context.Context, p *pgTarget) (string, error) {
				c, err := p.connA(ctx, "")
				if err != nil {
					return "", err
				}
				defer c.Close(ctx)
				var present bool
				if err := c.QueryRow(ctx, "SELECT to_regclass('pg_stat_statements') IS NOT NULL").Scan(&present); err != nil {
					return "", err
				}
				if !present {
					return fmt.Sprintf("pg_stat_statements is not installed where %s can see it, so there is nothing to leak", p.a.Tenant), nil
				}
				return "", nil
			},
			run: func(ctx context.Context, p *pgTarget) (outcome, error) {
				marker := "attack-statements-" + p.b.Tenant
				cb, err := pgConnect(ctx, p.b.Postgres.URL, "")
				if err != nil {
					return outcome{}, err
				}
				_, err = cb.Exec(ctx, "SELECT "+literal(marker))
				cb.Close(ctx)
				if err != nil {
					return outcome{}, err
				}
				c, err := p.connA(ctx, "")
				if err != nil {
					return outcome{}, err
				}
				defer c.Close(ctx)
				texts, err := strs(ctx, c, "SELECT coalesce(query, '') FROM pg_stat_statements WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = $1)", p.b.Postgres.User)
				if err != nil {
					return refusal(err, codeInsufficientPrivilege)
				}
				if len(texts) == 0 {
					return outcome{}, fmt.Errorf("pg_stat_statements recorded none of %s's statements, so their text not showing proves nothing", p.b.Tenant)
				}
				for _, q := range texts {
					if q != "<insufficient privilege>" && q != "" {
						return throughf("read %s's statement %q", p.b.Tenant, q), nil
					}
				}
				return blockedf("%d statements of %s, no text readable", len(texts), p.b.Tenant), nil
			},
		}},
	}
}

// spoofed reads the suite's table after A set settings to B's id.
func (p *pgTarget) spoofed(ctx context.Context, tx pgx.Tx) (outcome, error) {
	var cur *string
	if err := tx.QueryRow(ctx, "SELECT app.current_tenant()").Scan(&cur); err != nil {
		return outcome{}, err
	}
	if cur == nil || *cur != p.a.Tenant {
		return throughf("app.current_tenant() says %v, not %q", deref(cur), p.a.Tenant), nil
	}
	rows, err := tenantRows(ctx, tx, "SELECT tenant, marker FROM "+p.s.table)
	if err != nil {
		return refusal(err, codeInsufficientPrivilege)
	}
	return p.judge(rows, p.s.table+" with the tenant settings set to "+p.b.Tenant)
}

func deref(s *string) string {
	if s == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *s)
}

// runPooledIdentity leaves settings naming B on PgBouncer's server
// connections of A's pool (transaction pooling keeps session state), then
// reads as a new client while B works through the pooler too: the new client
// must still be A and see only A's rows.
func runPooledIdentity(ctx context.Context, p *pgTarget) (outcome, error) {
	c1, err := p.connA(ctx, "")
	if err != nil {
		return outcome{}, err
	}
	for _, name := range spoofSettings {
		if _, err := c1.Exec(ctx, "SELECT set_config($1, $2, false)", name, p.b.Tenant); err != nil {
			c1.Close(ctx)
			return outcome{}, err
		}
	}
	c1.Close(ctx)

	var wg sync.WaitGroup
	var errB error
	wg.Go(func() {
		cb, err := pgConnect(ctx, p.b.Postgres.PoolerURL, "")
		if err != nil {
			errB = fmt.Errorf("%s cannot log in through PgBouncer: %w", p.b.Tenant, err)
			return
		}
		defer cb.Close(ctx)
		for range 20 {
			rows, err := tenantRows(ctx, cb, "SELECT tenant, marker FROM "+p.s.table)
			if err != nil {
				errB = err
				return
			}
			if !slices.ContainsFunc(rows, func(r tenantRow) bool { return r.marker == markerFor(p.b.Tenant) }) {
				errB = fmt.Errorf("%s, working concurrently through PgBouncer, lost sight of its own row", p.b.Tenant)
				return
			}
		}
	})
	defer wg.Wait()

	c2, err := p.connA(ctx, "")
	if err != nil {
		return outcome{}, err
	}
	defer c2.Close(ctx)
	carried := 0
	for range 5 {
		var who, setting string
		var cur *string
		if err := c2.QueryRow(ctx, "SELECT session_user::text, app.current_tenant(), coalesce(current_setting('app.tenant_id', true), '')").Scan(&who, &cur, &setting); err != nil {
			return outcome{}, err
		}
		if who != p.a.Postgres.User || cur == nil || *cur != p.a.Tenant {
			return throughf("a new client of %s's pool is session_user %q, app.current_tenant() %s", p.a.Tenant, who, deref(cur)), nil
		}
		if setting == p.b.Tenant {
			carried++
		}
		rows, err := tenantRows(ctx, c2, "SELECT tenant, marker FROM "+p.s.table)
		if err != nil {
			return outcome{}, err
		}
		o, err := p.judge(rows, p.s.table+" from a new pooled client")
		if err != nil || o.through {
			return o, err
		}
	}
	wg.Wait()
	if errB != nil {
		return outcome{}, errB
	}
	return blockedf("a new pooled client is still %s and sees only its rows (the spoofed setting carried over in %d of 5 transactions)", p.a.Tenant, carried), nil
}

// runViews reads app.isolation_probe through the platform's
// security_invoker view and through views A creates wherever it may.
func runViews(ctx context.Context, p *pgTarget) (outcome, error) {
	c, err := p.connA(ctx, "")
	if err != nil {
		return outcome{}, err
	}
	rows, err := tenantRows(ctx, c, "SELECT tenant_id, marker FROM "+p.s.view)
	c.Close(ctx)
	if err != nil {
		return outcome{}, fmt.Errorf("%s cannot read %s: %w", p.a.Tenant, p.s.view, err)
	}
	o, err := p.judge(rows, p.s.view)
	if err != nil || o.through {
		return o, err
	}
	notes := []string{o.detail}
	for _, schema := range []string{"pg_temp", "public"} {
		o, err := p.inTx(ctx, func(tx pgx.Tx) (outcome, error) {
			v := ident(schema, "attack_view")
			if _, err := tx.Exec(ctx, "CREATE VIEW "+v+" AS SELECT tenant_id, marker FROM app.isolation_probe"); err != nil {
				return refusal(err, codeInsufficientPrivilege)
			}
			rows, err := tenantRows(ctx, tx, "SELECT tenant_id, marker FROM "+v)
			if err != nil {
				return outcome{}, err
			}
			return p.judge(rows, "its own view "+v)
		})
		if err != nil || o.through {
			return o, err
		}
		notes = append(notes, schema+": "+o.detail)
	}
	return blockedf("%s", strings.Join(notes, "; ")), nil
}
