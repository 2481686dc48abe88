package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tenantstack/tenantstack/internal/migrate"
	"github.com/tenantstack/tenantstack/internal/migrate/source"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// Admin are the platform's admin endpoints.
type Admin struct {
	PostgresURL string
	RedisURL    string
	Kubeconfig  string
	// PlatformDatabase is the database holding the shared schema and the
	// schema tier's schemas.
	PlatformDatabase string
}

// location is where a tenant's tables are on its tier.
type location struct {
	Database, Schema string
}

func (a Admin) location(tenant string, tier tenantspec.Tier) location {
	t := migrate.TargetOn(a.PlatformDatabase, tenant, tier)
	return location{Database: t.Database, Schema: t.Schema}
}

func (l location) rel(table string) string { return pgx.Identifier{l.Schema, table}.Sanitize() }

// connect opens an admin session to db, with the settings the checksums
// depend on (a row's text form).
func (a Admin) connect(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(a.PostgresURL)
	if err != nil {
		return nil, fmt.Errorf("the platform's PostgreSQL admin URL: %w", err)
	}
	cfg.Database = db
	cfg.RuntimeParams["application_name"] = "tenantctl backup"
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["extra_float_digits"] = "3"
	cfg.RuntimeParams["datestyle"] = "ISO, MDY"
	cfg.RuntimeParams["intervalstyle"] = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting as the admin to database %q: %w", db, err)
	}
	return conn, nil
}

// table is one tenant table as the catalogue has it.
type table struct {
	Name    string
	Columns []string // stored columns, in order
	Serial  []string // columns fed by a sequence
}

type querier interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}

// tenantTables lists the tenant tables of schema: those with the tenant
// column, less the platform's own.
func tenantTables(ctx context.Context, q querier, schema string) ([]table, error) {
	rows, err := q.Query(ctx, `
		SELECT c.relname::text,
		       array(SELECT a.attname::text FROM pg_catalog.pg_attribute a
		             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
		             ORDER BY a.attnum),
		       array(SELECT a.attname::text FROM pg_catalog.pg_attribute a
		             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		               AND pg_catalog.pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) IS NOT NULL
		             ORDER BY a.attnum)
		FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
		  AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = $2 AND NOT a.attisdropped)
		  AND c.relname NOT LIKE 'tenantstack\_%' AND NOT (n.nspname = 'app' AND c.relname = 'isolation_probe')
		ORDER BY 1`, schema, migrate.TenantColumn)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
		var t table
		err := r.Scan(&t.Name, &t.Columns, &t.Serial)
		return t, err
	})
}

func quoteAll(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(q, ", ")
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func tenantFilter(tenant string) string {
	return pgx.Identifier{migrate.TenantColumn}.Sanitize() + " = " + literal(tenant)
}

// withoutTenant is cols less the tenant column.
func withoutTenant(cols []string) []string {
	return slices.DeleteFunc(slices.Clone(cols), func(c string) bool { return c == migrate.TenantColumn })
}

// checksum counts tenant's rows of rel and sums a 64-bit hash of each row's
// text without the tenant column.
func checksum(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, rel string, cols []string, tenant string) (int64, string, error) {
	var n int64
	var sum string
	rest := withoutTenant(cols)
	expr := "0"
	if len(rest) > 0 {
		expr = "hashtextextended(ROW(" + quoteAll(rest) + ")::text, 0)"
	}
	err := q.QueryRow(ctx, `SELECT count(*), coalesce(sum(`+expr+`), 0)::text FROM `+rel+` WHERE `+tenantFilter(tenant)).Scan(&n, &sum)
	return n, sum, err
}

// dumpPostgres writes the tenant's rows of every tenant table, from one
// snapshot, as COPY text streams.
func dumpPostgres(ctx context.Context, conn *pgx.Conn, loc location, tenant string, aw *archiveWriter, m *Manifest, tr *Trailer) error {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	tabs, err := tenantTables(ctx, tx, loc.Schema)
	if err != nil {
		return fmt.Errorf("listing the tenant tables of %s: %w", loc.Schema, err)
	}
	for _, t := range tabs {
		m.Tables = append(m.Tables, TableInfo{Name: t.Name, Columns: t.Columns})
	}
	for _, t := range tabs {
		rel := loc.rel(t.Name)
		// The checksum first: it reads the same snapshot as the COPY.
		_, sum, err := checksum(ctx, tx, rel, t.Columns, tenant)
		if err != nil {
			return fmt.Errorf("checksumming %s: %w", rel, err)
		}
		cw := aw.stream(tableStream(t.Name))
		tag, err := conn.PgConn().CopyTo(ctx, cw, `COPY (SELECT `+quoteAll(t.Columns)+` FROM `+rel+` WHERE `+tenantFilter(tenant)+`) TO STDOUT`)
		if err != nil {
			return fmt.Errorf("reading the rows of %s: %w", rel, err)
		}
		if err := cw.Close(); err != nil {
			return err
		}
		tr.Tables = append(tr.Tables, TableSum{Name: t.Name, Rows: tag.RowsAffected(), Checksum: sum})
	}
	return tx.Commit(ctx)
}

// pgRestore is the PostgreSQL part of one restore, in one transaction of
// the target's database.
type pgRestore struct {
	conn    *pgx.Conn
	tx      pgx.Tx
	loc     location
	scratch string
	// migrated is set when the rows were migrated forward in the scratch
	// schema, so the archive's checksums no longer apply.
	migrated bool
}

// scratchSchema names the schema a restore stages rows in; it exists only
// inside the restore's transaction.
func scratchSchema(tenant string) string {
	return "tenantstack_restore_" + strings.ReplaceAll(tenant, "-", "_")
}

// stage begins the transaction and creates the scratch tables, at the
// archive's version: like the target's tables when the versions are equal,
// else by running the migrations up to the archive's version.
func (p *pgRestore) stage(ctx context.Context, m *Manifest, tenant string, targetVersion int64, set *source.Set) error {
	tx, err := p.conn.Begin(ctx)
	if err != nil {
		return err
	}
	p.tx = tx
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		return fmt.Errorf("restoring rows without the application's triggers needs session_replication_role (a superuser, or rds_superuser on RDS): %w", err)
	}
	// Two restores of one tenant at once would replace each other's rows.
	if _, err := tx.Exec(ctx, `SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('tenantstack.restore'), pg_catalog.hashtext($1))`, tenant); err != nil {
		return err
	}
	p.scratch = scratchSchema(tenant)
	s := pgx.Identifier{p.scratch}.Sanitize()
	if _, err := tx.Exec(ctx, `DROP SCHEMA IF EXISTS `+s+` CASCADE; CREATE SCHEMA `+s); err != nil {
		return fmt.Errorf("creating the scratch schema %s: %w", p.scratch, err)
	}
	if m.SchemaVersion == targetVersion {
		have, err := tenantTables(ctx, tx, p.loc.Schema)
		if err != nil {
			return err
		}
		for _, t := range m.Tables {
			i := slices.IndexFunc(have, func(h table) bool { return h.Name == t.Name })
			if i < 0 || !slices.Equal(have[i].Columns, t.Columns) {
				return fmt.Errorf("%w: table %s of the archive (columns %v) differs from the tenant's at the same schema version %d; was the schema changed by hand?",
					ErrArchive, t.Name, t.Columns, m.SchemaVersion)
			}
			if _, err := tx.Exec(ctx, `CREATE UNLOGGED TABLE `+pgx.Identifier{p.scratch, t.Name}.Sanitize()+
				` AS SELECT `+quoteAll(t.Columns)+` FROM `+p.loc.rel(t.Name)+` WITH NO DATA`); err != nil {
				return err
			}
		}
		return nil
	}
	p.migrated = true
	if err := p.migrate(ctx, set, 0, m.SchemaVersion); err != nil {
		return err
	}
	have, err := tenantTables(ctx, tx, p.scratch)
	if err != nil {
		return err
	}
	for _, t := range m.Tables {
		i := slices.IndexFunc(have, func(h table) bool { return h.Name == t.Name })
		if i < 0 || !slices.Equal(have[i].Columns, t.Columns) {
			return fmt.Errorf("%w: table %s of the archive (columns %v) is not what the migrations up to version %d make; are they the migrations it was written with?",
				ErrArchive, t.Name, t.Columns, m.SchemaVersion)
		}
	}
	return nil
}

// migrate runs the migrations after from up to to in the scratch schema.
func (p *pgRestore) migrate(ctx context.Context, set *source.Set, from, to int64) error {
	if _, err := p.tx.Exec(ctx, `SET LOCAL search_path = `+pgx.Identifier{p.scratch}.Sanitize()); err != nil {
		return err
	}
	for _, mg := range set.Upto(to) {
		if mg.Version <= from {
			continue
		}
		for _, st := range mg.Statements {
			if _, err := p.tx.Exec(ctx, st.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
				return fmt.Errorf("migrating the archive's rows with %s (line %d): %w", mg.File, st.Line, err)
			}
		}
	}
	_, err := p.tx.Exec(ctx, `RESET search_path`)
	return err
}

// load copies one table's stream into its scratch table.
func (p *pgRestore) load(ctx context.Context, t TableInfo, r io.Reader) (int64, error) {
	tag, err := p.conn.PgConn().CopyFrom(ctx, r, `COPY `+pgx.Identifier{p.scratch, t.Name}.Sanitize()+` (`+quoteAll(t.Columns)+`) FROM STDIN`)
	if err != nil {
		var arch error
		if errors.Is(err, ErrArchive) {
			arch = err
		}
		if arch != nil {
			return 0, arch
		}
		return 0, fmt.Errorf("loading the rows of %s: %w", t.Name, err)
	}
	return tag.RowsAffected(), nil
}

// TableResult is one table after a restore.
type TableResult struct {
	Table    string `json:"table"`
	Rows     int64  `json:"rows"`
	Removed  int64  `json:"removed"`
	Checksum string `json:"checksum"`
	// Verified: the rows restored have the archive's count and checksum.
	Verified bool `json:"verified"`
}

// replace migrates the staged rows forward when needed, then replaces the
// tenant's rows of every tenant table with them, under the tenant's id.
func (p *pgRestore) replace(ctx context.Context, m *Manifest, tr *Trailer, tenant string, targetVersion int64, set *source.Set) ([]TableResult, error) {
	if p.migrated {
		if err := p.migrate(ctx, set, m.SchemaVersion, targetVersion); err != nil {
			return nil, err
		}
	}
	target, err := tenantTables(ctx, p.tx, p.loc.Schema)
	if err != nil {
		return nil, err
	}
	staged, err := tenantTables(ctx, p.tx, p.scratch)
	if err != nil {
		return nil, err
	}
	if !p.migrated {
		// Scratch tables made AS SELECT have no tenant column check; list
		// them from the manifest.
		staged = nil
		for _, t := range m.Tables {
			staged = append(staged, table{Name: t.Name, Columns: t.Columns})
		}
	}
	sums := map[string]TableSum{}
	for _, s := range tr.Tables {
		sums[s.Name] = s
	}
	var out []TableResult
	for _, t := range target {
		rel := p.loc.rel(t.Name)
		tag, err := p.tx.Exec(ctx, `DELETE FROM `+rel+` WHERE `+tenantFilter(tenant))
		if err != nil {
			return nil, fmt.Errorf("removing the tenant's rows of %s: %w", rel, err)
		}
		res := TableResult{Table: t.Name, Removed: tag.RowsAffected()}
		i := slices.IndexFunc(staged, func(s table) bool { return s.Name == t.Name })
		if i >= 0 {
			var cols, vals []string
			for _, c := range t.Columns {
				if !slices.Contains(staged[i].Columns, c) {
					continue
				}
				cols = append(cols, pgx.Identifier{c}.Sanitize())
				if c == migrate.TenantColumn {
					vals = append(vals, literal(tenant))
				} else {
					vals = append(vals, pgx.Identifier{c}.Sanitize())
				}
			}
			if _, err := p.tx.Exec(ctx, `INSERT INTO `+rel+` (`+strings.Join(cols, ", ")+`) OVERRIDING SYSTEM VALUE SELECT `+
				strings.Join(vals, ", ")+` FROM `+pgx.Identifier{p.scratch, t.Name}.Sanitize()); err != nil {
				return nil, fmt.Errorf("restoring the rows of %s: %w", rel, err)
			}
		}
		if res.Rows, res.Checksum, err = checksum(ctx, p.tx, rel, t.Columns, tenant); err != nil {
			return nil, err
		}
		if s, ok := sums[t.Name]; ok && !p.migrated {
			if s.Rows != res.Rows || s.Checksum != res.Checksum {
				return nil, fmt.Errorf("table %s has %d rows (checksum %s) after the restore, the archive %d (checksum %s); nothing was changed",
					t.Name, res.Rows, res.Checksum, s.Rows, s.Checksum)
			}
			res.Verified = true
		}
		for _, c := range t.Serial {
			col := pgx.Identifier{c}.Sanitize()
			// Past the highest id of any tenant in the table (a shared
			// table's sequence serves them all), never backwards.
			if _, err := p.tx.Exec(ctx, `SELECT pg_catalog.setval(s, m) FROM (SELECT pg_catalog.pg_get_serial_sequence($1, $2) AS s,
				(SELECT max(`+col+`) FROM `+rel+`)::bigint AS m) x
				WHERE m IS NOT NULL AND m > coalesce((SELECT last_value FROM pg_catalog.pg_sequences
				      WHERE format('%I.%I', schemaname, sequencename) = x.s), 0)`, rel, c); err != nil {
				return nil, fmt.Errorf("advancing the sequence of %s.%s: %w", rel, c, err)
			}
		}
		out = append(out, res)
	}
	if _, err := p.tx.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{p.scratch}.Sanitize()+` CASCADE`); err != nil {
		return nil, err
	}
	return out, nil
}

func (p *pgRestore) commit(ctx context.Context) error { return p.tx.Commit(ctx) }

func (p *pgRestore) rollback(ctx context.Context) {
	if p.tx != nil {
		p.tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	}
}
