// Package move copies a live tenant's rows from one isolation tier to
// another and keeps the copy in step with every write until the tenant
// switches to it, with a write pause of a fraction of a second.
//
// How: triggers on the source tables (capture.go) append the key of every
// row the tenant changes to a log in the source database, and a statement
// trigger (the gate) makes the tenant's writes wait while the mover holds
// the move's advisory lock. Prepare copies the tenant's rows from one
// snapshot, then replays the log: each logged key is read again from the
// source as it is now and written to the target (deleted there when it is
// gone), so the order and number of changes do not matter and a replay can
// be repeated. Cutover takes the lock (new writes wait, running ones
// finish), replays what is left, compares row counts and checksums of every
// table on both sides, advances the target's sequences, marks the source
// switched (a write that was waiting then fails with serialization_failure
// and is retried by the application on the new tier), switches the login
// role (done by the caller), and lets writes go.
//
// Why triggers and not logical replication: a publication's tables are
// matched to the subscriber's by schema-qualified name, so it cannot feed
// another schema of the same database (every move to or from the schema
// tier), it needs wal_level=logical (a server restart) and a replication
// slot per move, and a subscription's apply worker cannot pause one
// tenant's writes. Triggers work the same in every direction and database.
//
// Rows are written to the target with session_replication_role = replica:
// the application's own triggers (a balance kept by a trigger, say) and
// foreign keys do not fire for copied rows, which already carry their
// effects; CHECK constraints (the tenant's id on its own tiers) still do.
package move

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tenantstack/tenantstack/internal/migrate"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// Side is where a tenant's tables are on one tier.
type Side struct {
	Tier     tenantspec.Tier
	Database string
	Schema   string
}

// SideOf returns the tenant's tables on tier.
func SideOf(platformDB, tenant string, tier tenantspec.Tier) Side {
	t := migrate.TargetOn(platformDB, tenant, tier)
	return Side{Tier: tier, Database: t.Database, Schema: t.Schema}
}

func (s Side) shared() bool { return s.Tier == tenantspec.TierShared }

func (s Side) rel(table string) string { return pgx.Identifier{s.Schema, table}.Sanitize() }

// Mover moves one tenant's rows from From to To.
type Mover struct {
	AdminURL string
	Tenant   string
	// Logins are the tenant's login roles: the gate pauses their writes.
	Logins   []string
	From, To Side
	// PauseTimeout bounds the wait for the tenant's running writes when the
	// pause starts; the cutover gives up and resumes writes after it.
	PauseTimeout time.Duration
	Progress     io.Writer
}

// Table is one of the application's tenant tables.
type Table struct {
	Name    string
	Columns []string // every stored column, in order
	Key     []string // the primary key
	Serial  []string // columns fed by a sequence
}

func (m *Mover) printf(format string, a ...any) {
	if m.Progress != nil {
		fmt.Fprintf(m.Progress, m.Tenant+": "+format+"\n", a...)
	}
}

// connect opens an admin session to db.
func (m *Mover) connect(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(m.AdminURL)
	if err != nil {
		return nil, fmt.Errorf("the platform's PostgreSQL admin URL: %w", err)
	}
	cfg.Database = db
	cfg.RuntimeParams["application_name"] = "tenantctl move"
	// Checksums compare the rows' text, which depends on these.
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["extra_float_digits"] = "3"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting as the admin to database %q: %w", db, err)
	}
	return conn, nil
}

// tables lists the tenant tables of side's schema: those with the tenant
// column, less the platform's own.
func tables(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, side Side) ([]Table, error) {
	rows, err := q.Query(ctx, `
		SELECT c.relname::text,
		       array(SELECT a.attname::text FROM pg_catalog.pg_attribute a
		             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
		             ORDER BY a.attnum),
		       array(SELECT a.attname::text FROM pg_catalog.pg_index i
		             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
		             WHERE i.indrelid = c.oid AND i.indisprimary
		             ORDER BY array_position(i.indkey::int2[], a.attnum)),
		       array(SELECT a.attname::text FROM pg_catalog.pg_attribute a
		             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		               AND pg_catalog.pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) IS NOT NULL
		             ORDER BY a.attnum)
		FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
		  AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = $2 AND NOT a.attisdropped)
		  AND c.relname NOT LIKE 'tenantstack\_%' AND NOT (n.nspname = 'app' AND c.relname = 'isolation_probe')
		ORDER BY 1`, side.Schema, migrate.TenantColumn)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Table, error) {
		var t Table
		err := r.Scan(&t.Name, &t.Columns, &t.Key, &t.Serial)
		return t, err
	})
}

// matchTables lists the move's tables and checks that both sides have the
// same ones, with the same columns and keys.
func (m *Mover) matchTables(ctx context.Context, src, dst *pgx.Conn) ([]Table, error) {
	from, err := tables(ctx, src, m.From)
	if err != nil {
		return nil, fmt.Errorf("reading the tables of %s: %w", m.From.Schema, err)
	}
	to, err := tables(ctx, dst, m.To)
	if err != nil {
		return nil, fmt.Errorf("reading the tables of %s: %w", m.To.Schema, err)
	}
	byName := map[string]Table{}
	for _, t := range to {
		byName[t.Name] = t
	}
	for _, t := range from {
		if len(t.Key) == 0 {
			return nil, fmt.Errorf("table %s has no primary key, so its rows cannot be kept in step; give it one with a migration", m.From.rel(t.Name))
		}
		o, ok := byName[t.Name]
		if !ok || strings.Join(o.Columns, ",") != strings.Join(t.Columns, ",") || strings.Join(o.Key, ",") != strings.Join(t.Key, ",") {
			return nil, fmt.Errorf("table %s differs between the %s and %s tiers (columns %v and %v); both must be at the fleet's schema version",
				t.Name, m.From.Tier, m.To.Tier, t.Columns, o.Columns)
		}
		delete(byName, t.Name)
	}
	for name := range byName {
		return nil, fmt.Errorf("table %s exists on the %s tier only; both must be at the fleet's schema version", name, m.To.Tier)
	}
	return from, nil
}

func quoteAll(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(q, ", ")
}

// filter is the WHERE clause that selects the tenant's rows.
func (m *Mover) filter() string {
	return pgx.Identifier{migrate.TenantColumn}.Sanitize() + " = " + literal(m.Tenant)
}

// retryLocked runs f again while it fails on lock_timeout, a few times.
func retryLocked(ctx context.Context, f func() error) error {
	var err error
	for attempt := 1; attempt <= 5; attempt++ {
		err = f()
		var pg *pgconn.PgError
		if err == nil || !errors.As(err, &pg) || pg.Code != "55P03" {
			return err
		}
		select {
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

// replica begins a transaction on the target in which the application's
// triggers and foreign keys do not fire.
func replica(ctx context.Context, conn *pgx.Conn) (pgx.Tx, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		tx.Rollback(ctx) //nolint:errcheck
		return nil, fmt.Errorf("writing rows without the application's triggers needs session_replication_role (a superuser, or rds_superuser on RDS): %w", err)
	}
	return tx, nil
}
