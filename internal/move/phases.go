package move

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// PrepareReport is what Prepare did.
type PrepareReport struct {
	Tables   int     `json:"tables"`
	Rows     int64   `json:"rows"`
	Replayed int64   `json:"replayed"`
	Seconds  float64 `json:"seconds"`
}

// Prepare starts capturing the tenant's changes on the source, empties the
// tenant's rows on the target, copies them from one snapshot and replays
// the changes made since. Running it again starts the copy over; the
// capture stays.
func (m *Mover) Prepare(ctx context.Context) (*PrepareReport, error) {
	start := time.Now()
	src, dst, err := m.open(ctx)
	if err != nil {
		return nil, err
	}
	defer src.Close(context.WithoutCancel(ctx))
	defer dst.Close(context.WithoutCancel(ctx))
	tabs, err := m.matchTables(ctx, src, dst)
	if err != nil {
		return nil, err
	}
	if err := m.installCapture(ctx, src, tabs); err != nil {
		return nil, err
	}
	m.printf("capturing the tenant's writes on %d tables of the %s tier", len(tabs), m.From.Tier)
	rows, err := m.copyAll(ctx, src, dst, tabs)
	if err != nil {
		return nil, err
	}
	m.printf("copied %d rows to the %s tier in %.1fs", rows, m.To.Tier, time.Since(start).Seconds())
	replayed, err := m.catchUp(ctx, src, dst, tabs, 100)
	if err != nil {
		return nil, err
	}
	if err := m.advanceSequences(ctx, src, dst, tabs); err != nil {
		return nil, err
	}
	return &PrepareReport{Tables: len(tabs), Rows: rows, Replayed: replayed, Seconds: time.Since(start).Seconds()}, nil
}

func (m *Mover) open(ctx context.Context) (src, dst *pgx.Conn, err error) {
	if src, err = m.connect(ctx, m.From.Database); err != nil {
		return nil, nil, err
	}
	if dst, err = m.connect(ctx, m.To.Database); err != nil {
		src.Close(ctx)
		return nil, nil, err
	}
	return src, dst, nil
}

// copyAll replaces the tenant's rows on the target with those of one
// snapshot of the source.
func (m *Mover) copyAll(ctx context.Context, src, dst *pgx.Conn, tabs []Table) (int64, error) {
	stx, err := src.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, err
	}
	defer stx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	dtx, err := replica(ctx, dst)
	if err != nil {
		return 0, err
	}
	defer dtx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	var total int64
	for _, t := range tabs {
		if _, err := dtx.Exec(ctx, `DELETE FROM `+m.To.rel(t.Name)+` WHERE `+m.filter()); err != nil {
			return 0, fmt.Errorf("emptying %s: %w", m.To.rel(t.Name), err)
		}
		cols := quoteAll(t.Columns)
		pr, pw := io.Pipe()
		var copyErr error
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, copyErr = src.PgConn().CopyTo(ctx, pw, `COPY (SELECT `+cols+` FROM `+m.From.rel(t.Name)+` WHERE `+m.filter()+`) TO STDOUT (FORMAT binary)`)
			pw.CloseWithError(copyErr)
		}()
		tag, err := dst.PgConn().CopyFrom(ctx, pr, `COPY `+m.To.rel(t.Name)+` (`+cols+`) FROM STDIN (FORMAT binary)`)
		pr.CloseWithError(err)
		wg.Wait()
		if err == nil {
			err = copyErr
		}
		if err != nil {
			return 0, fmt.Errorf("copying %s to %s: %w", m.From.rel(t.Name), m.To.rel(t.Name), err)
		}
		total += tag.RowsAffected()
	}
	if err := dtx.Commit(ctx); err != nil {
		return 0, err
	}
	return total, stx.Commit(ctx)
}

// catchUp replays logged changes until fewer than small are left.
func (m *Mover) catchUp(ctx context.Context, src, dst *pgx.Conn, tabs []Table, small int) (int64, error) {
	var total int64
	for {
		n, err := m.replay(ctx, src, dst, tabs, 5000)
		total += int64(n)
		if err != nil || n < small {
			return total, err
		}
	}
}

// replay applies one batch of the log: each logged key gets the source's
// row as it is now, or none. The batch's log rows go once the target has
// committed; a crash in between replays them again, which changes nothing.
// A log row whose transaction has not committed yet is not seen, and is
// replayed by a later batch.
func (m *Mover) replay(ctx context.Context, src, dst *pgx.Conn, tabs []Table, limit int) (int, error) {
	rows, err := src.Query(ctx, `SELECT seq, tbl, key FROM tenantstack.move_log WHERE tenant_id = $1 ORDER BY seq LIMIT $2`, m.Tenant, limit)
	if err != nil {
		return 0, err
	}
	type entry struct {
		Seq int64
		Tbl string
		Key map[string]any
	}
	entries, err := pgx.CollectRows(rows, pgx.RowToStructByPos[entry])
	if err != nil || len(entries) == 0 {
		return 0, err
	}
	keys := map[string][]map[string]any{}
	seqs := make([]int64, len(entries))
	for i, e := range entries {
		keys[e.Tbl] = append(keys[e.Tbl], e.Key)
		seqs[i] = e.Seq
	}
	stx, err := src.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, err
	}
	defer stx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	dtx, err := replica(ctx, dst)
	if err != nil {
		return 0, err
	}
	defer dtx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	for _, t := range tabs {
		k, ok := keys[t.Name]
		if !ok {
			continue
		}
		on := make([]string, len(t.Key))
		for i, c := range t.Key {
			id := pgx.Identifier{c}.Sanitize()
			// The key is the primary key, so never NULL: "=" lets the
			// index find the rows (IS NOT DISTINCT FROM cannot use it, and
			// a batch then scans the whole table once per key).
			on[i] = "x." + id + " = k." + id
		}
		match := joinAnd(on)
		var current []byte
		err := stx.QueryRow(ctx, `SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM `+m.From.rel(t.Name)+` x
			WHERE EXISTS (SELECT 1 FROM jsonb_populate_recordset(NULL::`+m.From.rel(t.Name)+`, $1) k WHERE `+match+`)`, k).Scan(&current)
		if err != nil {
			return 0, fmt.Errorf("reading changed rows of %s: %w", m.From.rel(t.Name), err)
		}
		if _, err := dtx.Exec(ctx, `DELETE FROM `+m.To.rel(t.Name)+` x USING jsonb_populate_recordset(NULL::`+m.To.rel(t.Name)+`, $1) k WHERE `+match, k); err != nil {
			return 0, fmt.Errorf("replaying changes to %s: %w", m.To.rel(t.Name), err)
		}
		cols := quoteAll(t.Columns)
		if _, err := dtx.Exec(ctx, `INSERT INTO `+m.To.rel(t.Name)+` (`+cols+`) OVERRIDING SYSTEM VALUE
			SELECT `+cols+` FROM jsonb_populate_recordset(NULL::`+m.To.rel(t.Name)+`, $1)`, string(current)); err != nil {
			return 0, fmt.Errorf("replaying changes to %s: %w", m.To.rel(t.Name), err)
		}
	}
	if err := dtx.Commit(ctx); err != nil {
		return 0, err
	}
	stx.Rollback(ctx) //nolint:errcheck
	if _, err := src.Exec(ctx, `DELETE FROM tenantstack.move_log WHERE seq = ANY ($1)`, seqs); err != nil {
		return 0, err
	}
	return len(entries), nil
}

func joinAnd(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " AND "
		}
		out += x
	}
	return out
}

// advanceSequences sets each sequence of the target's tables past the
// tenant's ids there and past the source's sequence, so a new row never
// takes an id a copied one has.
func (m *Mover) advanceSequences(ctx context.Context, src, dst *pgx.Conn, tabs []Table) error {
	for _, t := range tabs {
		for _, c := range t.Serial {
			col := pgx.Identifier{c}.Sanitize()
			var srcLast int64
			if err := src.QueryRow(ctx, `SELECT coalesce((SELECT last_value FROM pg_catalog.pg_sequences
				WHERE format('%I.%I', schemaname, sequencename) = pg_catalog.pg_get_serial_sequence($1, $2)), 0)`,
				m.From.rel(t.Name), c).Scan(&srcLast); err != nil {
				return err
			}
			if _, err := dst.Exec(ctx, `SELECT pg_catalog.setval(s, greatest(m, $3::bigint))
				FROM (SELECT pg_catalog.pg_get_serial_sequence($1, $2) AS s,
				             (SELECT max(`+col+`) FROM `+m.To.rel(t.Name)+` WHERE `+m.filter()+`)::bigint AS m) x
				WHERE greatest(m, $3::bigint) > coalesce((SELECT last_value FROM pg_catalog.pg_sequences
				      WHERE format('%I.%I', schemaname, sequencename) = x.s), 0)`, m.To.rel(t.Name), c, srcLast); err != nil {
				return fmt.Errorf("advancing the sequence of %s.%s: %w", m.To.rel(t.Name), c, err)
			}
		}
	}
	return nil
}

// TableCheck is one table's row count and checksum on both sides.
type TableCheck struct {
	Table      string `json:"table"`
	SourceRows int64  `json:"sourceRows"`
	TargetRows int64  `json:"targetRows"`
	SourceSum  string `json:"sourceChecksum"`
	TargetSum  string `json:"targetChecksum"`
}

// Equal says whether both sides hold the same rows.
func (c TableCheck) Equal() bool {
	return c.SourceRows == c.TargetRows && c.SourceSum == c.TargetSum
}

// checksums counts the tenant's rows of each table and sums a 64-bit hash
// of each row's text: equal sums and counts mean equal rows, whatever
// their order.
func (m *Mover) checksums(ctx context.Context, conn *pgx.Conn, side Side, tabs []Table) ([][2]string, []int64, error) {
	sums := make([][2]string, len(tabs))
	counts := make([]int64, len(tabs))
	for i, t := range tabs {
		cols := quoteAll(t.Columns)
		var sum string
		err := conn.QueryRow(ctx, `SELECT count(*), coalesce(sum(hashtextextended(ROW(`+cols+`)::text, 0)), 0)::text
			FROM `+side.rel(t.Name)+` WHERE `+m.filter()).Scan(&counts[i], &sum)
		if err != nil {
			return nil, nil, fmt.Errorf("checksumming %s: %w", side.rel(t.Name), err)
		}
		sums[i] = [2]string{t.Name, sum}
	}
	return sums, counts, nil
}

// verify compares both sides, each on its own session at once.
func (m *Mover) verify(ctx context.Context, src, dst *pgx.Conn, tabs []Table) ([]TableCheck, error) {
	var wg sync.WaitGroup
	var ss, ds [][2]string
	var sc, dc []int64
	var serr, derr error
	wg.Add(2)
	go func() { defer wg.Done(); ss, sc, serr = m.checksums(ctx, src, m.From, tabs) }()
	go func() { defer wg.Done(); ds, dc, derr = m.checksums(ctx, dst, m.To, tabs) }()
	wg.Wait()
	if err := errors.Join(serr, derr); err != nil {
		return nil, err
	}
	out := make([]TableCheck, len(tabs))
	for i := range tabs {
		out[i] = TableCheck{Table: tabs[i].Name, SourceRows: sc[i], TargetRows: dc[i], SourceSum: ss[i][1], TargetSum: ds[i][1]}
	}
	return out, nil
}
