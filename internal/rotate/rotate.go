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
