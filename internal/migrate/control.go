package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Advisory lock keys (pairs of int4), all taken in the platform database
// except the per-target one, taken in the target's database.
const (
	lockSpace   = 0x74736d67 // "tsmg"
	lockRollout = 1          // session lock held by the one running rollout
	lockVersion = 2          // exclusive to change the fleet's version, shared to read it and bring a tenant to it
	lockControl = 3          // creating the control-plane tables
)

// targetLockSQL serialises everything that migrates one target.
const targetLockSQL = `SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('tenantstack.migrate.target'), pg_catalog.hashtext($1))`

// versionsDDL is the control plane of every database holding a target.
const versionsDDL = `
CREATE SCHEMA IF NOT EXISTS tenantstack;
REVOKE ALL ON SCHEMA tenantstack FROM PUBLIC;
CREATE TABLE IF NOT EXISTS tenantstack.schema_versions (
	target     text        NOT NULL,
	version    bigint      NOT NULL,
	name       text        NOT NULL,
	checksum   text        NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (target, version)
);
REVOKE ALL ON TABLE tenantstack.schema_versions FROM PUBLIC;
`

// fleetDDL is the rollout state, in the platform database only.
const fleetDDL = `
CREATE TABLE IF NOT EXISTS tenantstack.fleet_version (
	singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
	version    bigint      NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS tenantstack.target_versions (
	target     text        PRIMARY KEY,
	tier       text        NOT NULL,
	version    bigint      NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS tenantstack.migration_failures (
	target    text        PRIMARY KEY,
	version   bigint      NOT NULL,
	file      text        NOT NULL,
	line      integer     NOT NULL,
	statement text        NOT NULL,
	sqlstate  text        NOT NULL,
	message   text        NOT NULL,
	failed_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON TABLE tenantstack.fleet_version, tenantstack.target_versions, tenantstack.migration_failures FROM PUBLIC;
`

// connect logs in as the admin to database db.
func (e *Engine) connect(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(e.AdminURL)
	if err != nil {
		return nil, fmt.Errorf("the platform's PostgreSQL admin URL: %w", err)
	}
	cfg.Database = db
	cfg.RuntimeParams["application_name"] = "tenantctl migrate"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting as the admin to database %q: %w", db, err)
	}
	return conn, nil
}

// ensureControl creates the control-plane tables of conn's database; the
// platform database also gets the rollout state.
// Once they exist (every create and rollout after the first) it costs one
// catalogue lookup, no lock and no DDL.
func ensureControl(ctx context.Context, conn *pgx.Conn, platform bool) error {
	last := "tenantstack.schema_versions"
	if platform {
		last = "tenantstack.migration_failures" // the last table fleetDDL creates
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, last).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_catalog.pg_advisory_xact_lock($1, $2)`, lockSpace, lockControl); err != nil {
			return err
		}
		ddl := versionsDDL
		if platform {
			ddl += fleetDDL
		}
		if _, err := tx.Exec(ctx, ddl); err != nil {
			return fmt.Errorf("creating the control-plane tables in schema tenantstack: %w", err)
		}
		return nil
	})
}

// applied is what a target records: version -> checksum.
type applied map[int64]string

func (a applied) current() int64 {
	var v int64
	for k := range a {
		v = max(v, k)
	}
	return v
}

// readApplied reads the versions of target recorded in conn's database.
func readApplied(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, target string) (applied, error) {
	rows, err := q.Query(ctx, `SELECT version, checksum FROM tenantstack.schema_versions WHERE target = $1`, target)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := applied{}
	for rows.Next() {
		var v int64
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			return nil, err
		}
		out[v] = sum
	}
	return out, rows.Err()
}

// fleetVersion reads the version the last rollout aimed at; 0 before any.
func fleetVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int64, error) {
	var v int64
	err := q.QueryRow(ctx, `SELECT version FROM tenantstack.fleet_version`).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// FleetVersion reads the version the fleet is at (a new tenant is brought
// to it); 0 when no migration ever ran.
func FleetVersion(ctx context.Context, conn *pgx.Conn) (int64, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('tenantstack.fleet_version') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return 0, err
	}
	return fleetVersion(ctx, conn)
}

// Forget removes an offboarded tenant's records from the platform
// database's control plane: its versions (a tenant created again with the
// same name starts from nothing), its mirror and its last failure. A
// database-tier tenant's own records went with its database.
func Forget(ctx context.Context, adminURL, platformDB, tenant string) error {
	e := &Engine{AdminURL: adminURL, PlatformDB: platformDB}
	conn, err := e.connect(ctx, platformDB)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('tenantstack.target_versions') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return err
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, table := range []string{"schema_versions", "target_versions", "migration_failures"} {
			if _, err := tx.Exec(ctx, `DELETE FROM tenantstack.`+table+` WHERE target = $1`, tenant); err != nil {
				return err
			}
		}
		return nil
	})
}

// Records counts what the platform database's control plane still holds
// of target; 0 when it has no control plane yet.
func Records(ctx context.Context, conn *pgx.Conn, target string) (int, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('tenantstack.target_versions') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return 0, err
	}
	var n int
	err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM tenantstack.schema_versions WHERE target = $1)
		+ (SELECT count(*) FROM tenantstack.target_versions WHERE target = $1)
		+ (SELECT count(*) FROM tenantstack.migration_failures WHERE target = $1)`, target).Scan(&n)
	return n, err
}
