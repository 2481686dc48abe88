package provider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/redis/go-redis/v9"
)

// Config is the provider configuration, set under the `tenantstack:`
// namespace or on an explicit provider resource.
type Config struct {
	PostgresURL           string `pulumi:"postgresUrl,optional" provider:"secret"`
	RedisURL              string `pulumi:"redisUrl,optional" provider:"secret"`
	SSLMode               string `pulumi:"sslMode,optional"`
	ConnectTimeoutSeconds *int   `pulumi:"connectTimeoutSeconds,optional"`
	pg                    *pgx.ConnConfig
	redis                 *redis.Options
}

// defaultConnectTimeout applies when connectTimeoutSeconds is not set.
const defaultConnectTimeout = 10

// Annotate documents the configuration keys in the schema.
func (c *Config) Annotate(a infer.Annotator) {
	a.Describe(&c.PostgresURL, "Admin URL of the PostgreSQL server, e.g. "+
		"postgres://admin:PASSWORD@127.0.0.1:5432/postgres. Its database is the default for resources "+
		"that do not name one. Required only by tenantstack:postgres resources.")
	a.Describe(&c.RedisURL, "Admin URL of the Redis server, e.g. redis://admin:PASSWORD@127.0.0.1:6379. "+
		"Required only by tenantstack:redis resources.")
	a.Describe(&c.SSLMode, "PostgreSQL sslmode (disable, allow, prefer, require, verify-ca, verify-full); "+
		"overrides the one in postgresUrl.")
	a.Describe(&c.ConnectTimeoutSeconds, "Seconds to wait for a connection to either server.")
	a.SetDefault(&c.ConnectTimeoutSeconds, defaultConnectTimeout)
}

// Configure parses the URLs once, so a bad one fails before any resource
// operation, and without connecting: either server may be absent when the
// program does not use it.
func (c *Config) Configure(ctx context.Context) error {
	timeout := defaultConnectTimeout
	if c.ConnectTimeoutSeconds != nil {
		timeout = *c.ConnectTimeoutSeconds
	}
	if timeout <= 0 {
		return fmt.Errorf("tenantstack:connectTimeoutSeconds must be positive, got %d", timeout)
	}
	if c.PostgresURL != "" {
		connString := c.PostgresURL
		if c.SSLMode != "" {
			switch c.SSLMode {
			case "disable", "allow", "prefer", "require", "verify-ca", "verify-full":
			default:
				return fmt.Errorf("tenantstack:sslMode %q is not one of disable, allow, prefer, require, verify-ca, verify-full", c.SSLMode)
			}
			u, err := url.Parse(connString)
			if err != nil {
				return errors.New("tenantstack:postgresUrl is not a URL of the form postgres://USER:PASSWORD@HOST:PORT/DATABASE")
			}
			q := u.Query()
			q.Set("sslmode", c.SSLMode)
			u.RawQuery = q.Encode()
			connString = u.String()
		}
		cfg, err := pgx.ParseConfig(connString)
		if err != nil {
			// The parse error may quote the URL, password included.
			return errors.New("tenantstack:postgresUrl is not a valid PostgreSQL URL of the form postgres://USER:PASSWORD@HOST:PORT/DATABASE")
		}
		cfg.ConnectTimeout = time.Duration(timeout) * time.Second
		if cfg.Database == "" {
			cfg.Database = "postgres"
		}
		c.pg = cfg
	}
	if c.RedisURL != "" {
		opts, err := redis.ParseURL(c.RedisURL)
		if err != nil {
			return errors.New("tenantstack:redisUrl is not a valid Redis URL of the form redis://USER:PASSWORD@HOST:PORT")
		}
		opts.DialTimeout = time.Duration(timeout) * time.Second
		opts.Protocol = 2
		opts.DisableIdentity = true
		c.redis = opts
	}
	return nil
}

// Diff never replaces the provider. The configuration only says how to
// reach the servers; a replaced provider would make the engine replace every
// resource it manages, so rotating the admin password would drop and
// recreate databases. Changes are applied by configuring the provider anew.
func (c *Config) Diff(_ context.Context, req infer.DiffRequest[*Config, *Config]) (infer.DiffResponse, error) {
	return diffConfig(req.State, req.Inputs), nil
}

func diffConfig(old, new *Config) infer.DiffResponse {
	if old == nil {
		old = &Config{}
	}
	if new == nil {
		new = &Config{}
	}
	ch := newChanges()
	ch.update("postgresUrl", old.PostgresURL != new.PostgresURL)
	ch.update("redisUrl", old.RedisURL != new.RedisURL)
	ch.update("sslMode", old.SSLMode != new.SSLMode)
	ch.update("connectTimeoutSeconds", intOr(old.ConnectTimeoutSeconds, defaultConnectTimeout) != intOr(new.ConnectTimeoutSeconds, defaultConnectTimeout))
	return ch.response()
}

// errNoPostgres says how to give the provider a PostgreSQL URL.
var errNoPostgres = errors.New("tenantstack:postgresUrl is not set: set it with " +
	"\"pulumi config set --secret tenantstack:postgresUrl postgres://ADMIN:PASSWORD@HOST:PORT/postgres\" " +
	"or on an explicit tenantstack provider")

// errNoRedis says how to give the provider a Redis URL.
var errNoRedis = errors.New("tenantstack:redisUrl is not set: set it with " +
	"\"pulumi config set --secret tenantstack:redisUrl redis://ADMIN:PASSWORD@HOST:PORT\" " +
	"or on an explicit tenantstack provider")

// defaultDatabase is the database named in postgresUrl.
func (c Config) defaultDatabase() string {
	if c.pg == nil {
		return ""
	}
	return c.pg.Database
}

// database resolves a resource's optional database input.
func (c Config) database(db string) string {
	if db != "" {
		return db
	}
	return c.defaultDatabase()
}

// connect opens one admin connection to database db (the default database
// when empty). Connections are per operation: the provider runs for one
// deployment, and resources spread over several databases.
func (c Config) connect(ctx context.Context, db string) (*pgx.Conn, error) {
	if c.pg == nil {
		return nil, errNoPostgres
	}
	cfg := c.pg.Copy()
	cfg.Database = c.database(db)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL database %q at %s:%d: %w", cfg.Database, cfg.Host, cfg.Port, redactErr(err, cfg.Password))
	}
	return conn, nil
}

// withConn runs f on a fresh connection to db and closes it.
func (c Config) withConn(ctx context.Context, db string, f func(*pgx.Conn) error) error {
	conn, err := c.connect(ctx, db)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return f(conn)
}

// withTx runs f in one transaction on a fresh connection to db.
func (c Config) withTx(ctx context.Context, db string, f func(pgx.Tx) error) error {
	return c.withConn(ctx, db, func(conn *pgx.Conn) error {
		return pgx.BeginFunc(ctx, conn, f)
	})
}

// withRedis runs f with a client on the admin connection and closes it.
func (c Config) withRedis(ctx context.Context, f func(*redis.Client) error) error {
	if c.redis == nil {
		return errNoRedis
	}
	opts := *c.redis
	opts.PoolSize = 1
	client := redis.NewClient(&opts)
	defer client.Close()
	return f(client)
}

// redactErr keeps a secret out of an error that may quote a connection string.
func redactErr(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "REDACTED"))
}
