package move

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// lockSpace is the first key of the advisory locks of moves ("tsmv"); the
// second is hashtext(tenant id). The tenant's writes hold it shared (the
// gate), the mover takes it alone for the write pause.
const lockSpace = 0x74736d76

// captureDDL is the change capture of a source database: a log of the keys
// of the rows a moving tenant changed, a control row saying whether it has
// switched, and the trigger functions. They run as their owner (the admin),
// so the tenant's writes may append to the log it cannot read; their
// search_path is fixed so a tenant's objects cannot stand in for ours.
const captureDDL = `
CREATE SCHEMA IF NOT EXISTS tenantstack;
REVOKE ALL ON SCHEMA tenantstack FROM PUBLIC;
CREATE TABLE IF NOT EXISTS tenantstack.move_log (
	seq       bigserial PRIMARY KEY,
	tenant_id text      NOT NULL,
	tbl       text      NOT NULL,
	key       jsonb     NOT NULL
);
CREATE INDEX IF NOT EXISTS move_log_by_tenant ON tenantstack.move_log (tenant_id, seq);
CREATE TABLE IF NOT EXISTS tenantstack.move_control (
	tenant_id text    PRIMARY KEY,
	switched  boolean NOT NULL DEFAULT false
);
REVOKE ALL ON TABLE tenantstack.move_log, tenantstack.move_control FROM PUBLIC;

-- move_capture(tenant, key columns...) appends the key of a changed row of
-- the tenant (before and after, when an update changes the key).
CREATE OR REPLACE FUNCTION tenantstack.move_capture() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	cols text[] := TG_ARGV[1:];
	o jsonb;
	n jsonb;
BEGIN
	IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD); END IF;
	IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW); END IF;
	IF o IS NOT NULL AND o->>'tenant_id' = TG_ARGV[0] THEN
		INSERT INTO tenantstack.move_log (tenant_id, tbl, key)
		SELECT TG_ARGV[0], TG_TABLE_NAME, jsonb_object_agg(c, o->c) FROM unnest(cols) c;
	END IF;
	IF n IS NOT NULL AND n->>'tenant_id' = TG_ARGV[0]
	   AND (o IS NULL OR EXISTS (SELECT 1 FROM unnest(cols) c WHERE o->c IS DISTINCT FROM n->c)) THEN
		INSERT INTO tenantstack.move_log (tenant_id, tbl, key)
		SELECT TG_ARGV[0], TG_TABLE_NAME, jsonb_object_agg(c, n->c) FROM unnest(cols) c;
	END IF;
	RETURN NULL;
END
$$;

-- move_gate(tenant, login roles...) runs before each statement that writes
-- a table of the move: the tenant's statements wait while the mover pauses
-- writes, and fail with serialization_failure (retry) once the tenant has
-- switched, so no write lands on the copy it left.
CREATE OR REPLACE FUNCTION tenantstack.move_gate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NOT (session_user::text = ANY (TG_ARGV[1:])) THEN
		RETURN NULL;
	END IF;
	PERFORM pg_advisory_xact_lock_shared(` + "1953721718" + `, hashtext(TG_ARGV[0]));
	IF EXISTS (SELECT 1 FROM tenantstack.move_control WHERE tenant_id = TG_ARGV[0] AND switched) THEN
		RAISE EXCEPTION 'tenant % moved to another tier while this transaction ran; run it again', TG_ARGV[0]
			USING ERRCODE = '40001';
	END IF;
	RETURN NULL;
END
$$;
`

// triggerName is the name of one of the move's triggers on a table; the
// tenant's id keeps two tenants moving out of one shared table apart.
func triggerName(tenant, kind string) string {
	return pgx.Identifier{"tsmv_" + tenant + "_" + kind}.Sanitize()
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// installCapture creates the change capture in the source database and
// puts the gate and capture triggers on each of the move's tables. Each
// CREATE TRIGGER waits for the table's running writes and holds new ones
// for as long as it takes; lock_timeout bounds that, and the whole step is
// retried.
func (m *Mover) installCapture(ctx context.Context, conn *pgx.Conn, tables []Table) error {
	return retryLocked(ctx, func() error {
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_catalog.pg_advisory_xact_lock($1, 0)`, lockSpace); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, captureDDL); err != nil {
				return fmt.Errorf("creating the change capture in database %q: %w", m.From.Database, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO tenantstack.move_control (tenant_id) VALUES ($1)
				ON CONFLICT (tenant_id) DO UPDATE SET switched = false`, m.Tenant); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '1s'`); err != nil {
				return err
			}
			logins := make([]string, len(m.Logins))
			for i, l := range m.Logins {
				logins[i] = literal(l)
			}
			t := literal(m.Tenant)
			for _, tb := range tables {
				rel := m.From.rel(tb.Name)
				keys := make([]string, len(tb.Key))
				for i, k := range tb.Key {
					keys[i] = literal(k)
				}
				args := t + ", " + strings.Join(keys, ", ")
				stmts := []string{
					dropTriggers(m.Tenant, rel),
					fmt.Sprintf(`CREATE TRIGGER %s BEFORE INSERT OR UPDATE OR DELETE ON %s FOR EACH STATEMENT EXECUTE FUNCTION tenantstack.move_gate(%s, %s)`,
						triggerName(m.Tenant, "gate"), rel, t, strings.Join(logins, ", ")),
					fmt.Sprintf(`CREATE TRIGGER %s AFTER INSERT ON %s FOR EACH ROW WHEN (NEW.tenant_id = %s) EXECUTE FUNCTION tenantstack.move_capture(%s)`,
						triggerName(m.Tenant, "i"), rel, t, args),
					fmt.Sprintf(`CREATE TRIGGER %s AFTER UPDATE ON %s FOR EACH ROW WHEN (OLD.tenant_id = %s OR NEW.tenant_id = %s) EXECUTE FUNCTION tenantstack.move_capture(%s)`,
						triggerName(m.Tenant, "u"), rel, t, t, args),
					fmt.Sprintf(`CREATE TRIGGER %s AFTER DELETE ON %s FOR EACH ROW WHEN (OLD.tenant_id = %s) EXECUTE FUNCTION tenantstack.move_capture(%s)`,
						triggerName(m.Tenant, "d"), rel, t, args),
				}
				for _, s := range stmts {
					if _, err := tx.Exec(ctx, s); err != nil {
						return fmt.Errorf("capturing the changes of %s: %w", rel, err)
					}
				}
			}
			return nil
		})
	})
}

func dropTriggers(tenant, rel string) string {
	var b strings.Builder
	for _, k := range []string{"gate", "i", "u", "d"} {
		fmt.Fprintf(&b, "DROP TRIGGER IF EXISTS %s ON %s;", triggerName(tenant, k), rel)
	}
	return b.String()
}

// removeCapture takes the move's triggers off the source tables and its
// rows out of the capture tables. A source that is gone has nothing left.
func (m *Mover) removeCapture(ctx context.Context, conn *pgx.Conn) error {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('tenantstack.move_control') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return err
	}
	rows, err := conn.Query(ctx, `SELECT DISTINCT format('%I.%I', n.nspname, c.relname)
		FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE g.tgname LIKE $1`, "tsmv\\_"+strings.ReplaceAll(m.Tenant, "_", "\\_")+"\\_%")
	if err != nil {
		return err
	}
	rels, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	return retryLocked(ctx, func() error {
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '1s'`); err != nil {
				return err
			}
			for _, rel := range rels {
				if _, err := tx.Exec(ctx, dropTriggers(m.Tenant, rel)); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `DELETE FROM tenantstack.move_log WHERE tenant_id = $1`, m.Tenant); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `DELETE FROM tenantstack.move_control WHERE tenant_id = $1`, m.Tenant)
			return err
		})
	})
}
