package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tenantstack/tenantstack/internal/migrate"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// switchLogin points the tenant's login role at its tables on tier to:
// the grants of that tier, its search_path, app_tenant membership on the
// shared tier, the tier in the registry. It runs in the cutover's write
// pause, and takes nothing away: sessions opened before it keep resolving
// names on the old tier (their writes there are refused by the move's
// gate, their reads see the copy as it was at the pause) until
// endOldSessions has ended them; then revokeOld takes the old tier's
// access away. Every statement may run again.
func switchLogin(ctx context.Context, p *Platform, id string, from, to tenantspec.Tier) error {
	roles, err := loginRoles(ctx, p, id)
	if err != nil {
		return err
	}
	for _, r := range roles {
		if err := switchLoginRole(ctx, p, id, r, from, to); err != nil {
			return err
		}
	}
	return nil
}

// loginRoles are the tenant's login roles that exist: tenant_<id>, and
// tenant_<id>-2 once a rotation made it.
func loginRoles(ctx context.Context, p *Platform, id string) ([]string, error) {
	conn, err := platformConn(ctx, p)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT rolname::text FROM pg_catalog.pg_roles WHERE rolname = ANY ($1) ORDER BY rolname`, tenantspec.LoginRoleNames(id))
	if err != nil {
		return nil, err
	}
	roles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err == nil && len(roles) == 0 {
		err = fmt.Errorf("tenant %q has no login role", id)
	}
	return roles, err
}

// switchLoginRole is switchLogin for one of the tenant's login roles.
func switchLoginRole(ctx context.Context, p *Platform, id, role string, from, to tenantspec.Tier) error {
	login := pgx.Identifier{role}.Sanitize()
	owner := pgx.Identifier{tenantspec.OwnerRoleName(id)}.Sanitize()
	platformDB := pgx.Identifier{p.Database}.Sanitize()
	crud := func(schema string) []string {
		sch := pgx.Identifier{schema}.Sanitize()
		return []string{
			// Table privileges are the tier's rules' (migrate.FitTarget):
			// reference data stays read-only.
			"GRANT USAGE ON SCHEMA " + sch + " TO " + login,
			"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA " + sch + " TO " + login,
			"ALTER DEFAULT PRIVILEGES FOR ROLE " + owner + " IN SCHEMA " + sch + " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO " + login,
			"ALTER DEFAULT PRIVILEGES FOR ROLE " + owner + " IN SCHEMA " + sch + " GRANT USAGE, SELECT ON SEQUENCES TO " + login,
		}
	}
	var stmts []string
	schema := tenantspec.SchemaName(id)
	switch to {
	case tenantspec.TierShared:
		schema = "app"
		stmts = append(stmts, "GRANT CONNECT ON DATABASE "+platformDB+" TO "+login, "GRANT app_tenant TO "+login)
	case tenantspec.TierSchema:
		stmts = append(stmts, "GRANT CONNECT ON DATABASE "+platformDB+" TO "+login)
		stmts = append(stmts, crud(schema)...)
	case tenantspec.TierDatabase:
		schema = "public"
		db := tenantspec.DatabaseName(id)
		if err := execIn(ctx, p, db, append([]string{"GRANT CONNECT ON DATABASE " + pgx.Identifier{db}.Sanitize() + " TO " + login}, crud(schema)...)); err != nil {
			return err
		}
	}
	if err := migrate.FitTarget(ctx, p.PostgresAdminURL, p.Database, id, to); err != nil {
		return err
	}
	if to == tenantspec.TierDatabase || from == tenantspec.TierDatabase {
		// A move to or from the database tier changes the database the
		// tenant logs in to. Sessions and logins through the old URL must
		// go on resolving names on the old copy (where the gate refuses
		// their writes with 40001) until revokeOld refuses them, so the
		// search_path is pinned per database: public in the tenant's
		// database, the role's own setting in the platform database.
		stmts = append(stmts, "ALTER ROLE "+login+" IN DATABASE "+pgx.Identifier{tenantspec.DatabaseName(id)}.Sanitize()+" SET search_path = public")
	}
	if to != tenantspec.TierDatabase {
		stmts = append(stmts, "ALTER ROLE "+login+" SET search_path = "+pgx.Identifier{schema}.Sanitize())
	}
	stmts = append(stmts,
		"UPDATE tenantstack.tenants SET tier = "+quoteLiteral(string(to))+" WHERE tenant_id = "+quoteLiteral(id))
	return execIn(ctx, p, p.Database, stmts)
}

// revokeOld takes away the tenant's access to its copy on tier from (now
// the other copy of a move to tier to). Every statement may run again.
func revokeOld(ctx context.Context, p *Platform, id string, from, to tenantspec.Tier) error {
	roles, err := loginRoles(ctx, p, id)
	if err != nil {
		return err
	}
	var stmts []string
	for _, r := range roles {
		stmts = append(stmts, revokeOldStatements(p, id, pgx.Identifier{r}.Sanitize(), from, to)...)
	}
	return execIn(ctx, p, p.Database, stmts)
}

// revokeOldStatements take the old copy away from one login role.
func revokeOldStatements(p *Platform, id, login string, from, to tenantspec.Tier) []string {
	var stmts []string
	switch from {
	case tenantspec.TierShared:
		stmts = append(stmts, "REVOKE app_tenant FROM "+login)
	case tenantspec.TierSchema:
		sch := pgx.Identifier{tenantspec.SchemaName(id)}.Sanitize()
		stmts = append(stmts,
			"REVOKE ALL ON ALL TABLES IN SCHEMA "+sch+" FROM "+login,
			"REVOKE ALL ON ALL SEQUENCES IN SCHEMA "+sch+" FROM "+login,
			"REVOKE USAGE ON SCHEMA "+sch+" FROM "+login)
	case tenantspec.TierDatabase:
		stmts = append(stmts, "REVOKE CONNECT ON DATABASE "+pgx.Identifier{tenantspec.DatabaseName(id)}.Sanitize()+" FROM "+login)
	}
	if to == tenantspec.TierDatabase {
		stmts = append(stmts, "REVOKE CONNECT ON DATABASE "+pgx.Identifier{p.Database}.Sanitize()+" FROM "+login)
	}
	return stmts
}

// execIn runs stmts in one transaction in database db, as the admin.
func execIn(ctx context.Context, p *Platform, db string, stmts []string) error {
	cfg, err := pgx.ParseConfig(p.PostgresAdminURL)
	if err != nil {
		return err
	}
	cfg.Database = db
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connecting to database %q: %w", db, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
}

// endOldSessions ends the sessions of login that began before since,
// which resolve names on the old tier. PgBouncer was asked to RECONNECT in
// the pause: it closes each pooled server connection once its transaction
// is over, so a pooled client never sees an error and its next transaction
// gets a new session. This waits for that; what is still there after a
// grace period (direct connections) is ended when idle, and after a longer
// one in any state.
// It returns how many sessions ended.
func endOldSessions(ctx context.Context, p *Platform, login string, since time.Time, progress io.Writer) (int, error) {
	conn, err := platformConn(ctx, p)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	count := func() (int, error) {
		var n int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE usename = $1 AND backend_start < $2`, login, since).Scan(&n)
		return n, err
	}
	before, err := count()
	if err != nil || before == 0 {
		return 0, err
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		n, err := count()
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return before, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, q := range []string{
		`SELECT count(*) FROM (SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity
			WHERE usename = $1 AND backend_start < $2 AND state = 'idle') x`,
		`SELECT count(*) FROM (SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity
			WHERE usename = $1 AND backend_start < $2) x`,
	} {
		var n int
		if err := conn.QueryRow(ctx, q, login, since).Scan(&n); err != nil {
			return 0, err
		}
		if left, err := count(); err != nil || left == 0 {
			return before, err
		}
		time.Sleep(2 * time.Second)
	}
	return before, nil
}

// pgbouncerReconnect sends RECONNECT to the platform's PgBouncer, whose
// admin console takes the platform admin (admin_users).
func pgbouncerReconnect(ctx context.Context, p *Platform) error {
	u, err := url.Parse(p.PostgresAdminURL)
	if err != nil {
		return err
	}
	pw, _ := u.User.Password()
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("host=%s port=%d dbname=pgbouncer sslmode=disable", p.PoolerHost, p.PoolerPort))
	if err != nil {
		return err
	}
	cfg.User, cfg.Password = u.User.Username(), pw
	cfg.RuntimeParams = map[string]string{}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := pgconn.ConnectConfig(cctx, cfg)
	if err != nil {
		return fmt.Errorf("connecting to PgBouncer's console at %s: %w", net.JoinHostPort(p.PoolerHost, strconv.Itoa(p.PoolerPort)), err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	_, err = c.Exec(cctx, "RECONNECT").ReadAll()
	return err
}

// isMissingDatabase says err is PostgreSQL's "database does not exist".
func isMissingDatabase(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "3D000"
}
