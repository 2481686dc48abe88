package rotate

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sessions counts the open PostgreSQL sessions of role, PgBouncer's server
// connections included (they log in as the client's role).
func Sessions(ctx context.Context, adminURL, role string) (int, error) {
	conn, err := connect(ctx, adminURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE usename = $1`, role).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting the sessions of %s: %w", role, err)
	}
	return n, nil
}

// EndSessions ends every open session of role and returns how many there
// were. Call it after the role's login was revoked: a role that cannot log
// in keeps the sessions it has, and PgBouncer would keep serving clients
// of the old credential on its pooled server connections. Those clients'
// next statement then fails on a new server login, which is refused.
func EndSessions(ctx context.Context, adminURL, role string) (int, error) {
	conn, err := connect(ctx, adminURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_catalog.pg_terminate_backend(pid))
		FROM pg_catalog.pg_stat_activity WHERE usename = $1`, role).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("ending the sessions of %s: %w", role, err)
	}
	return n, nil
}

// WaitGrace waits until deadline, counting role's open sessions
// every interval, and returns the sessions still open then. report, when not
// nil, hears the count at each poll.
func WaitGrace(ctx context.Context, adminURL, role string, deadline time.Time, interval time.Duration, report func(open int, left time.Duration)) (int, error) {
	for {
		n, err := Sessions(ctx, adminURL, role)
		if err != nil {
			return 0, err
		}
		left := time.Until(deadline)
		if report != nil {
			report(n, left)
		}
		if left <= 0 {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(min(interval, left)):
		}
	}
}

func connect(ctx context.Context, adminURL string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL as the platform's admin: %w", err)
	}
	return conn, nil
}

// SecondLoginReady reports whether the platform database's
// app.current_tenant() gives a tenant's second login role (tenant_<id>-2)
// the tenant's identity (contract step 9). On a platform whose contract is
// older, a shared-tier tenant rotated to its second role would see none
// of its rows.
func SecondLoginReady(ctx context.Context, adminURL, platformDB string) (bool, error) {
	cfg, err := pgx.ParseConfig(adminURL)
	if err != nil {
		return false, fmt.Errorf("the platform's PostgreSQL admin URL: %w", err)
	}
	cfg.Database = platformDB
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("connecting to the platform database %q: %w", platformDB, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var ok bool
	err = conn.QueryRow(ctx, `SELECT coalesce(bool_or(pg_catalog.pg_get_functiondef(p.oid) LIKE '%split_part%'), false)
		FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'app' AND p.proname = 'current_tenant'`).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("reading app.current_tenant(): %w", err)
	}
	return ok, nil
}
