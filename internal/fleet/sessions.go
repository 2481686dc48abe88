package fleet

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// endSessions ends every open PostgreSQL session and Redis connection of the
// tenant's logins: disabling a login keeps sessions already open.
func endSessions(ctx context.Context, p *Platform, c Credentials) error {
	conn, err := pgx.Connect(ctx, p.PostgresAdminURL)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	// Both login roles: a rotation may have left sessions on the other.
	roles := []string{c.Postgres.User}
	if c.Tenant != "" {
		roles = tenantspec.LoginRoleNames(c.Tenant)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY($1)`, roles); err != nil {
		return fmt.Errorf("ending PostgreSQL sessions of %s: %w", strings.Join(roles, ", "), err)
	}
	rdb, err := redisAdmin(p)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if err := rdb.Do(ctx, "CLIENT", "KILL", "USER", c.Redis.Username).Err(); err != nil && !strings.Contains(err.Error(), "No such user") {
		return fmt.Errorf("ending Redis connections of %s: %w", c.Redis.Username, err)
	}
	return nil
}

func redisAdmin(p *Platform) (*redis.Client, error) {
	opt, err := redis.ParseURL(p.RedisAdminURL)
	if err != nil {
		return nil, fmt.Errorf("the platform's Redis admin URL: %w", err)
	}
	return redis.NewClient(opt), nil
}

// platformConn connects as the admin to the platform database, where the
// shared tier, the registry and the tenant schemas live. The admin URL
// names the server's maintenance database.
func platformConn(ctx context.Context, p *Platform) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(p.PostgresAdminURL)
	if err != nil {
		return nil, fmt.Errorf("the platform's PostgreSQL admin URL: %w", err)
	}
	cfg.Database = p.Database
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the platform database %q: %w", p.Database, err)
	}
	return conn, nil
}
