package probe

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// Revoked proves, after a credential rotation, that the credential it
// revoked is refused on every path a client has (PostgreSQL directly,
// through PgBouncer, Redis) and that the current one works on each. A
// refusal counts only when the server says so: a network error is a failed
// probe, never a pass. Only the fields of revoked that changed are probed:
// a rotation of Redis alone leaves the PostgreSQL login as it was.
func Revoked(ctx context.Context, current, revoked tenantspec.Credentials) []Result {
	var out []Result
	add := func(layer, name string, detail string) {
		out = append(out, Result{Layer: layer, Name: name, Target: "", Passed: detail == "", Detail: detail})
	}
	if revoked.Postgres.Password != "" && revoked.Postgres.URL != "" {
		add(LayerPostgres, "revoked login refused", refusedLogin(ctx, revoked.Postgres.URL, revoked.Postgres.User))
		add(LayerPgBouncer, "revoked login refused", refusedLogin(ctx, revoked.Postgres.PoolerURL, revoked.Postgres.User))
		add(LayerPostgres, "current login works", workingLogin(ctx, current.Postgres.URL, current.Postgres.User))
		add(LayerPgBouncer, "current login works", workingLogin(ctx, current.Postgres.PoolerURL, current.Postgres.User))
	}
	if revoked.Redis.Password != "" && revoked.Redis.Password != current.Redis.Password {
		add(LayerRedis, "revoked password refused", redisAuth(ctx, current.Redis.Host, current.Redis.Port, revoked.Redis.Username, revoked.Redis.Password, false))
		add(LayerRedis, "current password works", redisAuth(ctx, current.Redis.Host, current.Redis.Port, current.Redis.Username, current.Redis.Password, true))
	}
	return out
}

// refusedLogin returns "" when the server refuses to log in with url, and
// otherwise what happened instead.
func refusedLogin(ctx context.Context, url, user string) string {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Sprintf("the revoked URL does not parse: %v", redactURLError(err))
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		// PgBouncer may accept the client and refuse at the server login.
		defer conn.Close(context.WithoutCancel(ctx))
		var who string
		err = conn.QueryRow(ctx, `SELECT session_user`).Scan(&who)
		if err == nil {
			return fmt.Sprintf("logged in and ran a query as %s with the revoked password", who)
		}
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return ""
	}
	return fmt.Sprintf("no answer from the server, so the refusal is unproven: %v", redactURLError(err))
}

// workingLogin returns "" when url logs in as user and runs a query.
func workingLogin(ctx context.Context, url, user string) string {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Sprintf("the current URL does not parse: %v", redactURLError(err))
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Sprintf("the current login was refused: %v", redactURLError(err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var who string
	if err := conn.QueryRow(ctx, `SELECT session_user`).Scan(&who); err != nil {
		return fmt.Sprintf("the current login cannot run a query: %v", err)
	}
	if who != user {
		return fmt.Sprintf("logged in as %s, not %s", who, user)
	}
	return ""
}

// redisAuth returns "" when AUTH user password succeeds (want) or is
// refused with WRONGPASS (!want).
func redisAuth(ctx context.Context, host string, port int, user, password string, want bool) string {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("%s:%d", host, port), Username: user, Password: password,
		MaxRetries: -1, DisableIdentity: true, Protocol: 2})
	defer rdb.Close()
	err := rdb.Ping(ctx).Err()
	switch {
	case want && err == nil, !want && err != nil && strings.HasPrefix(err.Error(), "WRONGPASS"):
		return ""
	case want:
		return fmt.Sprintf("the current password was refused: %v", err)
	case err == nil:
		return "authenticated with the revoked password"
	}
	return fmt.Sprintf("no refusal from Redis, so it is unproven: %v", err)
}
