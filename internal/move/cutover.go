package move

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// CutoverReport is what Cutover did.
type CutoverReport struct {
	// Pause is how long the tenant's writes were held.
	Pause        time.Duration `json:"pauseNanos"`
	Replayed     int64         `json:"replayed"`
	RowsCompared int64         `json:"rowsCompared"`
	Checks       []TableCheck  `json:"checks"`
	Seconds      float64       `json:"seconds"`
}

// ErrMismatch is returned when the two sides differ after the final
// replay; nothing was switched.
var ErrMismatch = errors.New("the copy differs from the source")

// Cutover catches up, pauses the tenant's writes, replays the rest,
// verifies every table, advances the target's sequences, marks the source
// switched and calls switchTo (which points the tenant's login at the
// target) before writes go again. If anything before the mark fails, the
// writes resume on the source and nothing changed; after the mark, the
// source refuses the tenant's writes, so running Cutover again (the mark
// is kept) only calls switchTo again.
func (m *Mover) Cutover(ctx context.Context, switchTo func(context.Context) error) (*CutoverReport, error) {
	start := time.Now()
	src, dst, err := m.open(ctx)
	if err != nil {
		return nil, err
	}
	defer src.Close(context.WithoutCancel(ctx))
	defer dst.Close(context.WithoutCancel(ctx))
	rep := &CutoverReport{}
	var switched bool
	if err := src.QueryRow(ctx, `SELECT coalesce((SELECT switched FROM tenantstack.move_control WHERE tenant_id = $1), false)`, m.Tenant).Scan(&switched); err != nil {
		return nil, fmt.Errorf("reading the move's state in database %q (was it prepared?): %w", m.From.Database, err)
	}
	if switched {
		m.printf("the %s tier already refuses the tenant's writes; completing the switch", m.From.Tier)
		if err := switchTo(ctx); err != nil {
			return nil, err
		}
		rep.Seconds = time.Since(start).Seconds()
		return rep, nil
	}
	tabs, err := m.matchTables(ctx, src, dst)
	if err != nil {
		return nil, err
	}
	// Catch up with writes flowing, so the pause has little left to do.
	if rep.Replayed, err = m.catchUp(ctx, src, dst, tabs, 50); err != nil {
		return nil, err
	}

	timeout := m.PauseTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	if _, err := src.Exec(ctx, fmt.Sprintf(`SET lock_timeout = %d`, timeout.Milliseconds())); err != nil {
		return nil, err
	}
	pauseStart := time.Now()
	if _, err := src.Exec(ctx, `SELECT pg_catalog.pg_advisory_lock($1, hashtext($2))`, lockSpace, m.Tenant); err != nil {
		var pg *pgconn.PgError
		if errors.As(err, &pg) && pg.Code == "55P03" {
			return nil, fmt.Errorf("the tenant's running transactions did not end within %s, so its writes were not paused (nothing changed); run the cutover again, or end the long transaction", timeout)
		}
		return nil, err
	}
	paused := true
	resume := func() {
		if paused {
			src.Exec(context.WithoutCancel(ctx), `SELECT pg_catalog.pg_advisory_unlock($1, hashtext($2))`, lockSpace, m.Tenant) //nolint:errcheck
			rep.Pause = time.Since(pauseStart)
			paused = false
		}
	}
	defer resume()
	if _, err := src.Exec(ctx, `SET lock_timeout = 0`); err != nil {
		return nil, err
	}
	// Every write of the tenant before the pause has committed, and no
	// other can start: the log is complete.
	for {
		n, err := m.replay(ctx, src, dst, tabs, 100000)
		rep.Replayed += int64(n)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
	}
	if rep.Checks, err = m.verify(ctx, src, dst, tabs); err != nil {
		return nil, err
	}
	for _, c := range rep.Checks {
		rep.RowsCompared += c.SourceRows + c.TargetRows
		if !c.Equal() {
			return rep, fmt.Errorf("%w: table %s has %d rows (checksum %s) on the %s tier and %d rows (checksum %s) on the %s tier; the tenant stays on the %s tier",
				ErrMismatch, c.Table, c.SourceRows, c.SourceSum, m.From.Tier, c.TargetRows, c.TargetSum, m.To.Tier, m.From.Tier)
		}
	}
	if err := m.advanceSequences(ctx, src, dst, tabs); err != nil {
		return nil, err
	}
	if _, err := src.Exec(ctx, `UPDATE tenantstack.move_control SET switched = true WHERE tenant_id = $1`, m.Tenant); err != nil {
		return nil, err
	}
	if err := switchTo(ctx); err != nil {
		return nil, fmt.Errorf("the %s tier refuses the tenant's writes but switching its login failed; run the cutover again to complete it: %w", m.From.Tier, err)
	}
	resume()
	rep.Seconds = time.Since(start).Seconds()
	m.printf("writes paused %s; %d changes replayed, %d rows compared in %d tables", rep.Pause.Round(time.Millisecond), rep.Replayed, rep.RowsCompared, len(rep.Checks))
	return rep, nil
}

// RemoveCapture takes the move's triggers and log off the source.
func (m *Mover) RemoveCapture(ctx context.Context) error {
	conn, err := m.connect(ctx, m.From.Database)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return m.removeCapture(ctx, conn)
}

// Switched says whether the source refuses the tenant's writes: the
// cutover marked it, and the tenant's login may point at the target.
func (m *Mover) Switched(ctx context.Context) (bool, error) {
	conn, err := m.connect(ctx, m.From.Database)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists, switched bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('tenantstack.move_control') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return false, err
	}
	err = conn.QueryRow(ctx, `SELECT coalesce((SELECT switched FROM tenantstack.move_control WHERE tenant_id = $1), false)`, m.Tenant).Scan(&switched)
	return switched, err
}

// DeleteRows removes the tenant's rows from side's tables (a shared
// source after the move, or a shared target of an aborted one), children
// first as the triggers and keys are off.
func DeleteRows(ctx context.Context, adminURL, tenant string, side Side) (int64, error) {
	m := &Mover{AdminURL: adminURL, Tenant: tenant}
	conn, err := m.connect(ctx, side.Database)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tabs, err := tables(ctx, conn, side)
	if err != nil {
		return 0, err
	}
	var n int64
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		for _, t := range tabs {
			tag, err := tx.Exec(ctx, `DELETE FROM `+side.rel(t.Name)+` WHERE `+m.filter())
			if err != nil {
				return err
			}
			n += tag.RowsAffected()
		}
		return nil
	})
	return n, err
}
