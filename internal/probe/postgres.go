package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// PostgreSQL probes. The tenant logs in with its own URL (layer postgres)
// and its PgBouncer URL (layer pgbouncer) and attacks:
//
//   - shared tier: the other tenant's rows in the shared table (read, insert
//     as it, move its own row to it, read with row_security off, spoof the
//     tenant with custom settings);
//   - schema tier: a table seeded in the other tenant's schema;
//   - database tier: a connection to the other tenant's database;
//   - every tier: SET ROLE and SET SESSION AUTHORIZATION to the other
//     tenant's roles.
//
// As the admin it checks the catalog: no role the tenant can reach has a
// privileged attribute, a privileged predefined role, ownership of the
// shared tables or another tenant's role; the shared tables have
// row-level security enabled, forced and keyed on app.current_tenant().
//
// Every tenant statement runs in a transaction that is rolled back, so a
// write that leaks is undone and no setting outlives the probe on a pooled
// server connection.

// pooledConnectTimeout bounds a login through PgBouncer. After a server
// login for a role and database fails, PgBouncer holds further logins for
// that pair until server_login_retry (15 s by default) has passed, then
// tries again and relays the outcome: a probe repeated within that window
// must wait it out to learn the truth.
const pooledConnectTimeout = 30 * time.Second

// SQLSTATE codes the probes tell apart.
const (
	codeInsufficientPrivilege = "42501"
	codeInvalidAuthorization  = "28000"
)

// spoofSettings are custom settings an application might (wrongly) key
// tenant isolation on; setting them must not change what a tenant sees.
var spoofSettings = []string{
	"app.tenant", "app.tenant_id", "app.current_tenant", "app.current_tenant_id", "tenant.id", "rls.tenant_id",
}

// dangerousPredefinedRoles bypass privileges on data or files, or signal
// other sessions; no tenant may reach them.
var dangerousPredefinedRoles = []string{
	"pg_read_all_data", "pg_write_all_data", "pg_read_server_files", "pg_write_server_files",
	"pg_execute_server_program", "pg_signal_backend",
}

type pgMode struct {
	layer  string
	pooled bool
}

var pgModes = []pgMode{{LayerPostgres, false}, {LayerPgBouncer, true}}

type pgSuite struct {
	adminCfg   *pgx.ConnConfig
	platformDB string
	table      string // SCHEMA.TABLE, as given
	tableSQL   string // quoted
	tableNS    string
	runID      string

	adminConns map[string]*pgx.Conn // by database
	markers    map[string]string    // shared-table marker by tenant
	fixtures   map[string]*pgFixture
	owners     map[string][]string // other roles of a tenant, by tenant
}

// pgFixture is a table the admin seeded in a tenant's schema (schema tier)
// or database (database tier), owned by the tenant's owner role and granted
// to its login role as the TenantStack component grants.
type pgFixture struct {
	database, schema, table string
	marker                  string
	created                 bool
	err                     error // why seeding failed
}

func (f *pgFixture) sql() string { return pgx.Identifier{f.schema, f.table}.Sanitize() }

// name is the table's name for messages.
func (f *pgFixture) name() string { return f.schema + "." + f.table }

// postgresOpener connects as the admin to platformDB (PostgresURL's
// database when empty).
func postgresOpener(admin Admin, platformDB, table, runID string) opener {
	return func(ctx context.Context) (suite, error) {
		if admin.PostgresURL == "" {
			return nil, errors.New("no admin PostgreSQL URL given; pass the platform's admin_url (tenantctl dev env -o json)")
		}
		cfg, err := pgx.ParseConfig(admin.PostgresURL)
		if err != nil {
			return nil, fmt.Errorf("admin PostgreSQL URL: %w", redactURLError(err))
		}
		if cfg.ConnectTimeout == 0 {
			cfg.ConnectTimeout = 10 * time.Second
		}
		if platformDB == "" {
			platformDB = cfg.Database
		}
		ns, tbl, _ := strings.Cut(table, ".")
		s := &pgSuite{
			adminCfg: cfg, platformDB: platformDB, table: table,
			tableSQL: pgx.Identifier{ns, tbl}.Sanitize(), tableNS: ns, runID: runID,
			adminConns: map[string]*pgx.Conn{}, markers: map[string]string{},
			fixtures: map[string]*pgFixture{}, owners: map[string][]string{},
		}
		if _, err := s.adminConn(ctx, platformDB); err != nil {
			return nil, fmt.Errorf("connecting to the platform's PostgreSQL as the admin (%s@%s:%d/%s): %w; is the platform up?",
				cfg.User, cfg.Host, cfg.Port, platformDB, err)
		}
		return s, nil
	}
}

// redactURLError keeps a connection string's password out of messages:
// pgx's parse errors quote the string.
func redactURLError(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("cannot parse it (check its syntax; the URL is not repeated here since it holds a password)")
	}
	return err
}

func (s *pgSuite) adminConn(ctx context.Context, db string) (*pgx.Conn, error) {
	if c, ok := s.adminConns[db]; ok && !c.IsClosed() {
		return c, nil
	}
	cfg := s.adminCfg.Copy()
	cfg.Database = db
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.adminConns[db] = c
	return c, nil
}

func (s *pgSuite) platform(ctx context.Context) (*pgx.Conn, error) {
	return s.adminConn(ctx, s.platformDB)
}

func (s *pgSuite) probe(ctx context.Context, rec *recorder, self tenantspec.Credentials, others []tenantspec.Credentials) error {
	anyShared := self.Tier == tierShared || slices.ContainsFunc(others, func(c tenantspec.Credentials) bool { return c.Tier == tierShared })
	if anyShared {
		admin, err := s.platform(ctx)
		if err != nil {
			return err
		}
		var exists bool
		if err := admin.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, s.tableSQL).Scan(&exists); err != nil {
			return fmt.Errorf("looking up %s: %w", s.table, err)
		}
		if !exists {
			return fmt.Errorf("table %s does not exist in database %q: the platform's shared-tier contract creates it "+
				"(app.isolation_probe); bring the platform stack up to date", s.table, s.platformDB)
		}
	}

	// The admin's view of the catalog first: it explains what the live
	// probes below may find.
	rec.check(ctx, LayerPostgres, "role attributes", "", func(ctx context.Context) (string, error) {
		return s.roleAttributes(ctx, self)
	})
	rec.check(ctx, LayerPostgres, "privileged role membership", "", func(ctx context.Context) (string, error) {
		return s.privilegedMembership(ctx, self)
	})
	if anyShared {
		rec.check(ctx, LayerPostgres, "row-level security on shared tables", "", s.sharedTableSecurity)
	}
	for _, b := range others {
		rec.check(ctx, LayerPostgres, "membership in other tenant's roles", b.Tenant, func(ctx context.Context) (string, error) {
			return s.otherMembership(ctx, self, b)
		})
	}

	for _, m := range pgModes {
		if m.pooled && self.Postgres.PoolerURL == "" {
			rec.fail(m.layer, "use own data", "", "the tenant's credentials have no postgres.pooler_url, so nothing was probed "+
				"through PgBouncer; the platform puts PgBouncer in front of PostgreSQL and tenant credentials name it")
			continue
		}
		s.probeAs(ctx, rec, m, self, others)
	}
	return nil
}

// probeAs runs the live probes with self's own login, in one mode.
func (s *pgSuite) probeAs(ctx context.Context, rec *recorder, m pgMode, self tenantspec.Credentials, others []tenantspec.Credentials) {
	conns := &tenantConns{creds: self.Postgres, pooled: m.pooled, conns: map[string]connResult{}}
	defer conns.close(context.WithoutCancel(ctx))
	rec.check(ctx, m.layer, "use own data", "", func(ctx context.Context) (string, error) {
		return s.ownData(ctx, conns, self)
	})
	rec.check(ctx, m.layer, "read the tenant registry", "", func(ctx context.Context) (string, error) {
		return s.readRegistry(ctx, conns, self)
	})
	rec.check(ctx, m.layer, "read the schema version tables", "", func(ctx context.Context) (string, error) {
		return s.readVersions(ctx, conns, self)
	})
	rec.check(ctx, m.layer, "alter the application's tables", "", func(ctx context.Context) (string, error) {
		return s.alterAppTables(ctx, conns, self)
	})
	for _, b := range others {
		rec.check(ctx, m.layer, "set role to other tenant", b.Tenant, func(ctx context.Context) (string, error) {
			return s.setRole(ctx, conns, self, b)
		})
		rec.check(ctx, m.layer, "set session authorization to other tenant", b.Tenant, func(ctx context.Context) (string, error) {
			return s.setSessionAuthorization(ctx, conns, self, b)
		})
		switch b.Tier {
		case tierShared:
			for _, p := range []struct {
				name string
				fn   func(context.Context, *pgx.Conn, tenantspec.Credentials, tenantspec.Credentials) (string, error)
			}{
				{"read other tenant's rows", s.readRows},
				{"insert row as other tenant", s.insertAs},
				{"move own row to other tenant", s.moveRow},
				{"read with row_security off", s.rowSecurityOff},
				{"spoof tenant with settings", s.spoofSettings},
				{"reach other tenant's rows in application tables", s.appRows},
			} {
				rec.check(ctx, m.layer, p.name, b.Tenant, func(ctx context.Context) (string, error) {
					conn, refused, err := s.attackConn(ctx, conns, self, b)
					if conn == nil {
						return refused, err
					}
					return p.fn(ctx, conn, self, b)
				})
			}
		case tierSchema:
			rec.check(ctx, m.layer, "use other tenant's schema", b.Tenant, func(ctx context.Context) (string, error) {
				return s.otherSchema(ctx, conns, self, b)
			})
		case tierDatabase:
			rec.check(ctx, m.layer, "connect to other tenant's database", b.Tenant, func(ctx context.Context) (string, error) {
				return s.otherDatabase(ctx, conns, self, b)
			})
		}
	}
}

// tenantConns holds one tenant's connections in one mode, by database.
type tenantConns struct {
	creds  tenantspec.PostgresCredentials
	pooled bool
	conns  map[string]connResult
}

type connResult struct {
	conn *pgx.Conn
	err  error
}

// config is the tenant's login for database db (its own when empty).
func (c *tenantConns) config(db string) (*pgx.ConnConfig, error) {
	raw := c.creds.URL
	if c.pooled {
		raw = c.creds.PoolerURL
	}
	if raw == "" && !c.pooled {
		u := url.URL{Scheme: "postgres", User: url.UserPassword(c.creds.User, c.creds.Password),
			Host: net.JoinHostPort(c.creds.Host, strconv.Itoa(c.creds.Port)), Path: "/" + c.creds.Database}
		raw = u.String()
	}
	if raw == "" {
		return nil, errors.New("the tenant's credentials have no PostgreSQL URL")
	}
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("the tenant's PostgreSQL URL: %w", redactURLError(err))
	}
	if db != "" {
		cfg.Database = db
	}
	// PgBouncer in transaction mode cannot keep prepared statements.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	switch {
	case c.pooled:
		cfg.ConnectTimeout = pooledConnectTimeout
	case cfg.ConnectTimeout == 0:
		cfg.ConnectTimeout = 10 * time.Second
	}
	cfg.RuntimeParams["application_name"] = "tenantstack-probe"
	return cfg, nil
}

// get returns the tenant's connection to db, connecting once.
func (c *tenantConns) get(ctx context.Context, db string) (*pgx.Conn, error) {
	if r, ok := c.conns[db]; ok && (r.err != nil || !r.conn.IsClosed()) {
		return r.conn, r.err
	}
	cfg, err := c.config(db)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil && c.pooled {
		// PgBouncer may accept the client before it logs in to the server
		// (its pool for the role and database is warm): the server's
		// refusal only comes with the first statement. Ask for it now, so
		// a refused login reads as one.
		if _, perr := conn.Exec(ctx, "SELECT 1"); perr != nil && connectRefused(perr) {
			conn.Close(ctx)
			conn, err = nil, perr
		}
	}
	c.conns[db] = connResult{conn, err}
	return conn, err
}

func (c *tenantConns) close(ctx context.Context) {
	for _, r := range c.conns {
		if r.conn != nil {
			r.conn.Close(ctx)
		}
	}
}

func (c *tenantConns) where() string {
	if c.pooled {
		return " through PgBouncer"
	}
	return ""
}

// attackConn is self's connection to the database holding b's data. When
// PostgreSQL refuses it, the attacks through it are refused too: conn is
// nil and refused says so.
func (s *pgSuite) attackConn(ctx context.Context, conns *tenantConns, self, b tenantspec.Credentials) (conn *pgx.Conn, refused string, err error) {
	conn, err = conns.get(ctx, b.Postgres.Database)
	if err == nil {
		return conn, "", nil
	}
	if connectRefused(err) {
		return nil, fmt.Sprintf("refused when %s connected to database %q: %s", self.Postgres.User, b.Postgres.Database, pgMessage(err)), nil
	}
	return nil, "", fmt.Errorf("connecting as %s to database %q%s: %w", self.Postgres.User, b.Postgres.Database, conns.where(), err)
}

// inTx runs fn in a transaction that is always rolled back.
func inTx(ctx context.Context, conn *pgx.Conn, fn func(tx pgx.Tx) (string, error)) (string, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer rollback(ctx, tx)
	return fn(tx)
}

// rollback ends tx even when the probe's time is up, within bounds: an
// error here leaves nothing behind, since the server rolls back a
// transaction whose connection closes.
func rollback(ctx context.Context, tx pgx.Tx) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = tx.Rollback(rctx)
}

func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// pgMessage is the server's message for err, without pgx's prefixes.
func pgMessage(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if pgErr.Detail != "" {
			return pgErr.Message + " (" + pgErr.Detail + ")"
		}
		return pgErr.Message
	}
	return err.Error()
}

// denied reports whether PostgreSQL refused err's statement for want of a
// privilege (which includes row-level security refusing a row).
func denied(err error) bool { return pgCode(err) == codeInsufficientPrivilege }

// connectRefused reports whether a login was refused for want of the right
// to connect, directly or as PgBouncer relays it. PgBouncer relays the
// server's message (not always its code), and for some seconds after a
// refused server login it refuses that role's logins to that database with
// server_login_retry.
func connectRefused(err error) bool {
	switch pgCode(err) {
	case codeInsufficientPrivilege, codeInvalidAuthorization:
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "permission denied for database") || strings.Contains(msg, "server_login_retry") ||
		strings.Contains(msg, "no pg_hba.conf entry")
}

// marker is the text of a row or key this run seeds for tenant.
func (s *pgSuite) marker(tenant, what string) string {
	return "tenantstack-probe-" + s.runID + "-" + tenant + "-" + what
}

// sharedMarker seeds, as the admin, a row of tenant in the shared table,
// once, and returns its marker.
func (s *pgSuite) sharedMarker(ctx context.Context, tenant string) (string, error) {
	if m, ok := s.markers[tenant]; ok {
		return m, nil
	}
	admin, err := s.platform(ctx)
	if err != nil {
		return "", err
	}
	m := s.marker(tenant, "row")
	if _, err := admin.Exec(ctx, `INSERT INTO `+s.tableSQL+` (tenant_id, marker) VALUES ($1, $2)`, tenant, m); err != nil {
		return "", fmt.Errorf("seeding a row of tenant %q in %s as the admin: %w", tenant, s.table, err)
	}
	s.markers[tenant] = m
	return m, nil
}

// fixture seeds, as the admin, a table with one marker row in c's schema
// (schema tier) or in schema public or c's schema of c's database
// (database tier), owned by the owner of that schema or database and
// granted to c's login role.
func (s *pgSuite) fixture(ctx context.Context, c tenantspec.Credentials) (*pgFixture, error) {
	if f, ok := s.fixtures[c.Tenant]; ok {
		return f, f.err
	}
	schema := c.Postgres.Schema
	if schema == "" {
		schema = "public"
	}
	f := &pgFixture{database: c.Postgres.Database, schema: schema,
		table: "tenantstack_probe_" + s.runID, marker: s.marker(c.Tenant, "table")}
	s.fixtures[c.Tenant] = f
	f.err = s.seedFixture(ctx, c, f)
	if f.err != nil {
		return nil, f.err
	}
	f.created = true
	return f, nil
}

func (s *pgSuite) seedFixture(ctx context.Context, c tenantspec.Credentials, f *pgFixture) error {
	admin, err := s.adminConn(ctx, f.database)
	if err != nil {
		return fmt.Errorf("connecting as the admin to database %q of tenant %q: %w", f.database, c.Tenant, err)
	}
	var owner string
	switch c.Tier {
	case tierSchema:
		err = admin.QueryRow(ctx, `SELECT pg_catalog.pg_get_userbyid(nspowner) FROM pg_catalog.pg_namespace WHERE nspname = $1`, f.schema).Scan(&owner)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("schema %q of tenant %q does not exist in database %q", f.schema, c.Tenant, f.database)
		}
	default:
		err = admin.QueryRow(ctx, `SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_catalog.pg_database WHERE datname = current_database()`).Scan(&owner)
	}
	if err != nil {
		return fmt.Errorf("looking up the owner of tenant %q's %s: %w", c.Tenant, c.Tier, err)
	}
	_, err = inTxCommit(ctx, admin, []string{
		`SET LOCAL ROLE ` + pgx.Identifier{owner}.Sanitize(),
		`CREATE TABLE ` + f.sql() + ` (marker text NOT NULL)`,
		`INSERT INTO ` + f.sql() + ` (marker) VALUES (` + quoteLiteral(f.marker) + `)`,
		`RESET ROLE`,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ` + f.sql() + ` TO ` + pgx.Identifier{c.Postgres.User}.Sanitize(),
	})
	if err != nil {
		return fmt.Errorf("seeding table %s in database %q as its owner %s: %w", f.sql(), f.database, owner, err)
	}
	return nil
}

// inTxCommit runs stmts in one committed transaction.
func inTxCommit(ctx context.Context, conn *pgx.Conn, stmts []string) (pgconn.CommandTag, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer rollback(ctx, tx) // a no-op after Commit
	var tag pgconn.CommandTag
	for _, q := range stmts {
		if tag, err = tx.Exec(ctx, q); err != nil {
			return tag, err
		}
	}
	return tag, tx.Commit(ctx)
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// otherRoles are c's roles besides its login: the owner of its schema or
// database, which it may hold its data through.
func (s *pgSuite) otherRoles(ctx context.Context, c tenantspec.Credentials) ([]string, error) {
	if r, ok := s.owners[c.Tenant]; ok {
		return r, nil
	}
	var roles []string
	switch c.Tier {
	case tierSchema:
		admin, err := s.adminConn(ctx, c.Postgres.Database)
		if err != nil {
			return nil, err
		}
		var owner string
		err = admin.QueryRow(ctx, `SELECT pg_catalog.pg_get_userbyid(nspowner) FROM pg_catalog.pg_namespace WHERE nspname = $1`, c.Postgres.Schema).Scan(&owner)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, err
		}
		if owner != "" {
			roles = append(roles, owner)
		}
	case tierDatabase:
		admin, err := s.platform(ctx)
		if err != nil {
			return nil, err
		}
		var owner string
		err = admin.QueryRow(ctx, `SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_catalog.pg_database WHERE datname = $1`, c.Postgres.Database).Scan(&owner)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, err
		}
		if owner != "" {
			roles = append(roles, owner)
		}
	}
	// The admin may own a tenant's database on a misconfigured platform;
	// that is a finding of its own, not one of the tenant's roles.
	roles = slices.DeleteFunc(roles, func(r string) bool { return r == s.adminCfg.User || r == c.Postgres.User })
	s.owners[c.Tenant] = roles
	return roles, nil
}

// ---- self checks ----

// ownData checks that self logs in as its own role and can read and write
// its own data: its row in the shared table (shared tier) or a table in its
// schema or database.
func (s *pgSuite) ownData(ctx context.Context, conns *tenantConns, self tenantspec.Credentials) (string, error) {
	var seeded, table, name string
	if self.Tier == tierShared {
		m, err := s.sharedMarker(ctx, self.Tenant)
		if err != nil {
			return "", err
		}
		seeded, table, name = m, s.tableSQL, s.table
	} else {
		f, err := s.fixture(ctx, self)
		if err != nil {
			return "", err
		}
		seeded, table, name = f.marker, f.sql(), f.name()
	}
	conn, err := conns.get(ctx, self.Postgres.Database)
	if err != nil {
		return "", brokenf("%s cannot log in to its own database %q%s: %s", self.Postgres.User, self.Postgres.Database, conns.where(), pgMessage(err))
	}
	return inTx(ctx, conn, func(tx pgx.Tx) (string, error) {
		var user string
		if err := tx.QueryRow(ctx, `SELECT current_user::text`).Scan(&user); err != nil {
			return "", err
		}
		if user != self.Postgres.User {
			return "", brokenf("the tenant's credentials log in as %q, not as its role %q", user, self.Postgres.User)
		}
		if self.Tier == tierShared {
			var current *string
			if err := tx.QueryRow(ctx, `SELECT app.current_tenant()`).Scan(&current); err != nil {
				return "", brokenf("%s cannot call app.current_tenant(): %s", user, pgMessage(err))
			}
			if current == nil || *current != self.Tenant {
				return "", brokenf("app.current_tenant() is %s for %s, not %q: the role is not registered for the tenant in tenantstack.tenants",
					describeNullable(current), user, self.Tenant)
			}
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE marker = $1`, seeded).Scan(&n); err != nil {
			return "", brokenf("%s cannot read its own rows in %s: %s", user, name, pgMessage(err))
		}
		if n != 1 {
			return "", brokenf("%s sees %d of its own rows in %s instead of 1 (is the row-level security policy missing?)", user, n, name)
		}
		written := s.marker(self.Tenant, "write")
		if self.Tier == tierShared {
			var tenant string
			err := tx.QueryRow(ctx, `INSERT INTO `+table+` (marker) VALUES ($1) RETURNING tenant_id`, written).Scan(&tenant)
			if err != nil {
				return "", brokenf("%s cannot write its own row in %s: %s", user, name, pgMessage(err))
			}
			if tenant != self.Tenant {
				return "", brokenf("a row %s wrote in %s got tenant_id %q, not %q", user, name, tenant, self.Tenant)
			}
		} else if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (marker) VALUES ($1)`, written); err != nil {
			return "", brokenf("%s cannot write to its own table %s: %s", user, name, pgMessage(err))
		}
		return fmt.Sprintf("%s read its row and wrote one in %s%s", user, name, conns.where()), nil
	})
}

func describeNullable(s *string) string {
	if s == nil {
		return "NULL"
	}
	return strconv.Quote(*s)
}

// readRegistry checks that self cannot read tenantstack.tenants, which lists every
// tenant and its login role.
func (s *pgSuite) readRegistry(ctx context.Context, conns *tenantConns, self tenantspec.Credentials) (string, error) {
	conn, err := conns.get(ctx, s.platformDB)
	if err != nil {
		if connectRefused(err) {
			return fmt.Sprintf("refused when %s connected to the platform database %q: %s", self.Postgres.User, s.platformDB, pgMessage(err)), nil
		}
		return "", fmt.Errorf("connecting as %s to the platform database %q%s: %w", self.Postgres.User, s.platformDB, conns.where(), err)
	}
	return inTx(ctx, conn, func(tx pgx.Tx) (string, error) {
		var n int
		err := tx.QueryRow(ctx, `SELECT count(*) FROM tenantstack.tenants`).Scan(&n)
		switch {
		case denied(err):
			return "refused: " + pgMessage(err), nil
		case err != nil:
			return "", err
		}
		return "", leakf("%s read tenantstack.tenants%s: %d tenants and their login roles", self.Postgres.User, conns.where(), n)
	})
}

// ---- attacks through SET ----

func (s *pgSuite) setRole(ctx context.Context, conns *tenantConns, self, b tenantspec.Credentials) (string, error) {
	conn, err := conns.get(ctx, self.Postgres.Database)
	if err != nil {
		return "", fmt.Errorf("%s cannot log in%s: %w", self.Postgres.User, conns.where(), err)
	}
	owners, err := s.otherRoles(ctx, b)
	if err != nil {
		return "", err
	}
	roles := append([]string{b.Postgres.User}, owners...)
	var refusals []string
	for _, role := range roles {
		detail, err := inTx(ctx, conn, func(tx pgx.Tx) (string, error) {
			_, err := tx.Exec(ctx, `SET LOCAL ROLE `+pgx.Identifier{role}.Sanitize())
			switch {
			case err == nil:
				return "", leakf("%s can SET ROLE %s, a role of tenant %q%s", self.Postgres.User, role, b.Tenant, conns.where())
			case denied(err):
				return role + ": " + pgMessage(err), nil
			default:
				return "", fmt.Errorf("SET ROLE %s: %w", role, err)
			}
		})
		if err != nil {
			return "", err
		}
		refusals = append(refusals, detail)
	}
	return "refused: " + strings.Join(refusals, "; "), nil
}

func (s *pgSuite) setSessionAuthorization(ctx context.Context, conns *tenantConns, self, b tenantspec.Credentials) (string, error) {
	conn, err := conns.get(ctx, self.Postgres.Database)
	if err != nil {
		return "", fmt.Errorf("%s cannot log in%s: %w", self.Postgres.User, conns.where(), err)
	}
	return inTx(ctx, conn, func(tx pgx.Tx) (string, error) {
		_, err := tx.Exec(ctx, `SET LOCAL SESSION AUTHORIZATION `+pgx.Identifier{b.Postgres.User}.Sanitize())
		switch {
		case err == nil:
			return "", leakf("%s can SET SESSION AUTHORIZATION %s, the login of tenant %q%s", self.Postgres.User, b.Postgres.User, b.Tenant, conns.where())
		case denied(err):
			return "refused: " + pgMessage(err), nil
		default:
			return "", err
		}
	})
}

// ---- attacks on the shared table ----

// countOf counts, in tx, the rows of b in the shared table: by tenant_id,
// or by the marker the admin seeded for b.
func (s *pgSuite) countOf(ctx context.Context, tx pgx.Tx, b tenantspec.Credentials, marker string) (n int, sample string, err error) {
	rows, err := tx.Query(ctx, `SELECT marker FROM `+s.tableSQL+` WHERE tenant_id = $1 OR marker = $2`, b.Tenant, marker)
	if err != nil {
		return 0, "", err
	}
	markers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, "", err
	}
	if len(markers) > 0 {
		sample = markers[0]
	}
	return len(markers), sample, nil
}

func (s *pgSuite) readRows(ctx context.Context, conn *pgx.Conn, self, b tenantspec.Credentials) (string, error) {
	marker, err := s.sharedMarker(ctx, b.Tenant)
	if err != nil {
		return "", err
	}
	return inTx(ctx, conn, func(tx pgx.Tx) (string, error) {
		n, sample, err := s.countOf(ctx, tx, b, marker)
		switch {
		case denied(err):
			return "refused: " + pgMessage(err), nil
		case err != nil:
			return "", err
		case n > 0:
			return "", leakf("%s read %d rows of tenant %q in %s (one has marker %q)", self.Postgres.User, n, b.Tenant, s.table, sample)
		}
		return fmt.Sprintf("saw none of tenant %q's rows in %s", b.Tenant, s.table), nil
	})
}

func (s *pgSuite) insertAs(ctx context.Context, conn *pgx.Conn, self, b tenantspec.Credentials) (string, error) {
	return inTx(ctx, conn, func(tx pgx.Tx) (string, error) {
		_, err := tx.Exec(ctx, `INSERT INTO `+s.tableSQL+` (tenant_id, marker) VALUES ($1, $2)`, b.Tenant, s.marker(self.Tenant, "forged"))
		switch {
		case err == nil:
			return "", leakf("%s inserted a row with tenant_id %q into %s (rolled back)", self.Postgres.User, b.Tenant, s.table)
		case denied(err):
			return "refused: " + pgMessage(err), nil
		default:
			return "", err
		}
	})
}

func (s *pgSuite) moveRow(ctx context.Context, conn *pgx.Conn, self, b tenantspec.Credentials) (string, error) {
	own, err := s.sharedMarker(ctx, self.Tenant)
	if err != nil {
		return "", err
	}
	return inTx(ctx, conn, func(tx pgx.Tx) (string, error) {
		tag, err := tx.Exec(ctx, `UPDATE `+s.tableSQL+` SET tenant_id = $1 WHERE marker = $2`, b.Tenant, own)
		switch {
		case denied(err):
			return "refused: " + pgMessage(err), nil
		case err != nil:
			return "", err
		case tag.RowsAffected() > 0:
			return "", leakf("%s changed the tenant_id of its row in %s to %q (rolled back)", self.Postgres.User, s.table, b.Tenant)
		}
		return "no row changed (the tenant does not see its row here)", nil
	})
}

func (s *pgSuite) rowSecurityOff(ctx context.Context, conn *pgx.Conn, self, b tenantspec.Credentials) (string, error) {
	marker, err := s.sharedMarker(ctx, b.Tenant)
	if err != nil {
		return "", err
	}
	return inTx(ctx, conn, func(tx pgx.Tx) (string, error) {
		if _, err := tx.Exec(ctx, `SET LOCAL row_security = off`); err != nil {
			if denied(err) {
				return "refused: " + pgMessage(err), nil
			}
			return "", err
		}
		n, sample, err := s.countOf(ctx, tx, b, marker)
		switch {
		case denied(err):
			return "refused: " + pgMessage(err), nil
		case err != nil:
			return "", err
		case n > 0:
			return "", leakf("with row_security off, %s read %d rows of tenant %q in %s (one has marker %q)", self.Postgres.User, n, b.Tenant, s.table, sample)
		}
		return fmt.Sprintf("with row_security off, saw none of tenant %q's rows", b.Tenant), nil
	})
}

func (s *pgSuite) spoofSettings(ctx context.Context, conn *pgx.Conn, self, b tenantspec.Credentials) (string, error) {
	marker, err := s.sharedMarker(ctx, b.Tenant)
	if err != nil {
		return "", err
	}
	return inTx(ctx, conn, func(tx pgx.Tx) (string, error) {
		for _, name := range spoofSettings {
			// is_local false: a session setting, undone by the rollback.
			if _, err := tx.Exec(ctx, `SELECT set_config($1, $2, false)`, name, b.Tenant); err != nil {
				return "", fmt.Errorf("set_config(%q): %w", name, err)
			}
		}
		set := strings.Join(spoofSettings, ", ")
		var current *string
		err := tx.QueryRow(ctx, `SELECT app.current_tenant()`).Scan(&current)
		switch {
		case denied(err):
			return "refused: " + pgMessage(err), nil
		case err != nil:
			return "", err
		case current != nil && *current == b.Tenant:
			return "", leakf("after setting %s to %q, app.current_tenant() returned %q for %s", set, b.Tenant, b.Tenant, self.Postgres.User)
		}
		n, sample, err := s.countOf(ctx, tx, b, marker)
		switch {
		case denied(err):
			return "refused: " + pgMessage(err), nil
		case err != nil:
			return "", err
		case n > 0:
			return "", leakf("after setting %s to %q, %s read %d rows of tenant %q (one has marker %q)", set, b.Tenant, self.Postgres.User, n, b.Tenant, sample)
		}
		return fmt.Sprintf("after setting %s to %q, app.current_tenant() stayed %s and no row of %q was visible",
			set, b.Tenant, describeNullable(current), b.Tenant), nil
	})
}

// ---- attacks on schema and database tiers ----

func (s *pgSuite) otherSchema(ctx context.Context, conns *tenantConns, self, b tenantspec.Credentials) (string, error) {
	f, err := s.fixture(ctx, b)
	if err != nil {
		return "", err
	}
	conn, refused, err := s.attackConn(ctx, conns, self, b)
	if conn == nil {
		return refused, err
	}
	read, err := inTx(ctx, conn, func(tx pgx.Tx) (string, error) {
		rows, err := tx.Query(ctx, `SELECT marker FROM `+f.sql())
		if err == nil {
			var markers []string
			markers, err = pgx.CollectRows(rows, pgx.RowTo[string])
			if err == nil {
				return "", leakf("%s read %d rows of tenant %q's table %s%s (marker %q)", self.Postgres.User, len(markers), b.Tenant, f.name(), conns.where(), strings.Join(markers, ", "))
			}
		}
		if denied(err) {
			return "read refused: " + pgMessage(err), nil
		}
		return "", err
	})
	if err != nil {
		return "", err
	}
	write, err := inTx(ctx, conn, func(tx pgx.Tx) (string, error) {
		_, err := tx.Exec(ctx, `INSERT INTO `+f.sql()+` (marker) VALUES ($1)`, s.marker(self.Tenant, "forged"))
		switch {
		case err == nil:
			return "", leakf("%s inserted a row into tenant %q's table %s%s (rolled back)", self.Postgres.User, b.Tenant, f.name(), conns.where())
		case denied(err):
			return "write refused: " + pgMessage(err), nil
		default:
			return "", err
		}
	})
	if err != nil {
		return "", err
	}
	return read + "; " + write, nil
}

func (s *pgSuite) otherDatabase(ctx context.Context, conns *tenantConns, self, b tenantspec.Credentials) (string, error) {
	cfg, err := conns.config(b.Postgres.Database)
	if err != nil {
		return "", err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		conn.Close(ctx)
		return "", leakf("%s connected to database %q of tenant %q%s", self.Postgres.User, b.Postgres.Database, b.Tenant, conns.where())
	}
	if connectRefused(err) {
		return "refused: " + pgMessage(err), nil
	}
	return "", err
}

func (s *pgSuite) close(ctx context.Context) error {
	var errs []error
	if len(s.markers) > 0 {
		if admin, err := s.platform(ctx); err != nil {
			errs = append(errs, err)
		} else if _, err := admin.Exec(ctx, `DELETE FROM `+s.tableSQL+` WHERE marker LIKE $1`, "tenantstack-probe-"+s.runID+"-%"); err != nil {
			errs = append(errs, fmt.Errorf("removing the probe's rows from %s: %w", s.table, err))
		}
	}
	for tenant, f := range s.fixtures {
		if !f.created {
			continue
		}
		admin, err := s.adminConn(ctx, f.database)
		if err == nil {
			_, err = admin.Exec(ctx, `DROP TABLE IF EXISTS `+f.sql())
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("dropping the probe's table %s of tenant %q: %w", f.sql(), tenant, err))
		}
	}
	for _, c := range s.adminConns {
		c.Close(ctx)
	}
	return errors.Join(errs...)
}
