package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/tenantstack/tenantstack/internal/migrate"
	"github.com/tenantstack/tenantstack/internal/move"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// The phases of a tier move, in order. A move is recorded in the platform
// database (tenantstack.moves) from its first step to its finalize, so
// each phase can run in its own command and an interrupted one is taken up
// where it stopped.
const (
	PhasePrepare  = "prepare"
	PhaseCutover  = "cutover"
	PhaseFinalize = "finalize"
)

// MoveOptions say what `tenantctl move` does.
type MoveOptions struct {
	Name string
	// Tier is where the tenant goes; empty with Abort or Due.
	Tier tenantspec.Tier
	// Phase runs one phase only; empty runs prepare and cutover, and
	// finalize too when Finalize is set.
	Phase    string
	Finalize bool
	// Abort undoes a move that has not switched.
	Abort bool
	// Retain is how long the source copy is kept after the cutover before
	// a later `move --due` finalizes it; 0 keeps it until --finalize.
	Retain time.Duration
	// Verify runs the isolation probes on the new tier after the cutover.
	Verify       bool
	PauseTimeout time.Duration
}

// MoveReport is what a move command did.
type MoveReport struct {
	Tenant   string              `json:"tenant"`
	From     tenantspec.Tier     `json:"from"`
	To       tenantspec.Tier     `json:"to"`
	Phase    string              `json:"phase"` // the move's state afterwards
	Prepare  *move.PrepareReport `json:"prepare,omitempty"`
	Cutover  *move.CutoverReport `json:"cutover,omitempty"`
	Ended    int                 `json:"sessionsEnded"`
	Removed  int64               `json:"sourceRowsRemoved,omitempty"`
	Verify   *VerifyReport       `json:"verify,omitempty"`
	Messages []string            `json:"messages"`
	Timings  map[string]float64  `json:"seconds"`
	Finalize *time.Time          `json:"finalizeAfter,omitempty"`
	Checks   []move.TableCheck   `json:"-"`
	progress io.Writer
}

func (r *MoveReport) say(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	r.Messages = append(r.Messages, msg)
	printf(r.progress, "%s: %s\n", r.Tenant, msg)
}

// moveRecord is a tenant's row of tenantstack.moves.
type moveRecord struct {
	From, To      tenantspec.Tier
	Phase         string // preparing, prepared, cutover, switched
	FinalizeAfter *time.Time
}

// movesDDL records the moves under way, in the platform database.
const movesDDL = `
CREATE TABLE IF NOT EXISTS tenantstack.moves (
	tenant_id      text        PRIMARY KEY,
	from_tier      text        NOT NULL,
	to_tier        text        NOT NULL,
	phase          text        NOT NULL CHECK (phase IN ('preparing', 'prepared', 'cutover', 'switched')),
	started_at     timestamptz NOT NULL DEFAULT now(),
	updated_at     timestamptz NOT NULL DEFAULT now(),
	switched_at    timestamptz,
	finalize_after timestamptz,
	pause_ms       double precision,
	rows_compared  bigint
);
REVOKE ALL ON TABLE tenantstack.moves FROM PUBLIC;
`

// moveLockSpace keys the session lock one move command holds on its
// tenant ("tsmc"): a second move of the tenant is refused while it runs.
const moveLockSpace = 0x74736d63

func readMove(ctx context.Context, conn *pgx.Conn, id string) (*moveRecord, error) {
	var r moveRecord
	var from, to string
	err := conn.QueryRow(ctx, `SELECT from_tier, to_tier, phase, finalize_after FROM tenantstack.moves WHERE tenant_id = $1`, id).
		Scan(&from, &to, &r.Phase, &r.FinalizeAfter)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	r.From, r.To = tenantspec.Tier(from), tenantspec.Tier(to)
	return &r, err
}

func setPhase(ctx context.Context, conn *pgx.Conn, id, phase string) error {
	_, err := conn.Exec(ctx, `UPDATE tenantstack.moves SET phase = $2, updated_at = now() WHERE tenant_id = $1`, id, phase)
	return err
}

// Move moves a tenant between tiers, or aborts or finalizes a move.
func (s *Service) Move(ctx context.Context, o MoveOptions, progress io.Writer) (*MoveReport, error) {
	if err := validateName(o.Name); err != nil {
		return nil, err
	}
	switch o.Phase {
	case "", PhasePrepare, PhaseCutover, PhaseFinalize:
	default:
		return nil, fmt.Errorf("%w: --phase %q: use prepare, cutover or finalize", ErrInvalid, o.Phase)
	}
	if o.Tier != "" {
		if _, err := tenantspec.ParseTier(string(o.Tier)); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	st, cur, err := s.current(ctx, o.Name)
	if err != nil {
		return nil, err
	}
	plat, err := s.platform(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := platformConn(ctx, plat)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, movesDDL); err != nil {
		return nil, fmt.Errorf("creating tenantstack.moves: %w", err)
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_catalog.pg_try_advisory_lock($1, hashtext($2))`, moveLockSpace, o.Name).Scan(&got); err != nil {
		return nil, err
	}
	if !got {
		return nil, fmt.Errorf("%w: another tenantctl is moving tenant %q right now; wait for it to end", ErrExists, o.Name)
	}
	if ok, err := migrate.HoldOffRollouts(ctx, conn); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("%w: a migration rollout is running; move the tenant when it has ended (tenantctl migrate status)", ErrExists)
		}
		return nil, err
	}
	rec, err := readMove(ctx, conn, o.Name)
	if err != nil {
		return nil, err
	}
	rep := &MoveReport{Tenant: o.Name, Timings: map[string]float64{}, progress: progress}
	if err := s.recover(ctx, st, progress); err != nil {
		return nil, err
	}
	m := moveRun{s: s, plat: plat, conn: conn, st: st, cur: cur, rep: rep, o: o, progress: progress}

	switch {
	case o.Abort:
		if rec == nil {
			return nil, fmt.Errorf("%w: tenant %q is not moving; nothing to abort", ErrInvalid, o.Name)
		}
		if rec.Phase == "switched" {
			return nil, fmt.Errorf("%w: tenant %q has already switched to the %s tier; move it back with \"tenantctl move %s --tier %s\"",
				ErrInvalid, o.Name, rec.To, o.Name, rec.From)
		}
		return rep, m.abort(ctx, rec)
	case o.Phase == PhaseFinalize:
		if rec == nil || rec.Phase != "switched" {
			return nil, fmt.Errorf("%w: tenant %q has no move that has switched; finalize comes after the cutover", ErrInvalid, o.Name)
		}
		return rep, m.finalize(ctx, rec)
	}
	if o.Tier == "" {
		return nil, fmt.Errorf("%w: say where tenant %q goes with --tier shared|schema|database (or --abort)", ErrInvalid, o.Name)
	}

	if rec == nil {
		if string(o.Tier) == cur.Spec.Tier {
			rep.From, rep.To, rep.Phase = o.Tier, o.Tier, "none"
			rep.say("already on the %s tier; nothing to do", o.Tier)
			return rep, nil
		}
		if err := refuseDatabaseMove(o.Name, tenantspec.Tier(cur.Spec.Tier), o.Tier); err != nil {
			return nil, err
		}
		if o.Phase == PhaseCutover {
			return nil, fmt.Errorf("%w: tenant %q is not prepared for a move; run \"tenantctl move %s --tier %s --phase prepare\" first", ErrInvalid, o.Name, o.Name, o.Tier)
		}
		rec = &moveRecord{From: tenantspec.Tier(cur.Spec.Tier), To: o.Tier, Phase: "preparing"}
		if _, err := conn.Exec(ctx, `INSERT INTO tenantstack.moves (tenant_id, from_tier, to_tier, phase) VALUES ($1, $2, $3, 'preparing')`,
			o.Name, rec.From, rec.To); err != nil {
			return nil, err
		}
	} else if rec.Phase == "switched" && o.Tier == rec.From && o.Tier != rec.To {
		// A move back before the finalize: the old copy becomes the target
		// again, filled anew from the live one.
		if err := m.turnBack(ctx, rec); err != nil {
			return nil, err
		}
		rec = &moveRecord{From: rec.To, To: rec.From, Phase: "preparing"}
	} else if o.Tier != rec.To && rec.Phase == "switched" {
		return nil, fmt.Errorf("%w: tenant %q moved from the %s to the %s tier and keeps its %s copy; remove it first with \"tenantctl move %s --phase finalize\" (or move back with --tier %s)",
			ErrInvalid, o.Name, rec.From, rec.To, rec.From, o.Name, rec.From)
	} else if o.Tier != rec.To {
		return nil, fmt.Errorf("%w: tenant %q is moving from the %s to the %s tier (%s); finish that move, or undo it with \"tenantctl move %s --abort\"",
			ErrInvalid, o.Name, rec.From, rec.To, rec.Phase, o.Name)
	}
	rep.From, rep.To = rec.From, rec.To
	rep.say("moving from the %s tier to the %s tier; its Redis user and Kubernetes namespace stay as they are (they are the tenant's on every tier)", rec.From, rec.To)

	if rec.Phase == "preparing" || (rec.Phase == "prepared" && o.Phase == PhasePrepare) {
		if err := m.prepare(ctx, rec); err != nil {
			return rep, err
		}
		rec.Phase = "prepared"
	}
	if o.Phase == PhasePrepare {
		rep.Phase = rec.Phase
		rep.say("prepared: the %s tier is kept in step; run \"tenantctl move %s --tier %s --phase cutover\" to switch", rec.To, o.Name, rec.To)
		return rep, nil
	}
	if rec.Phase == "prepared" || rec.Phase == "cutover" {
		if err := m.cutover(ctx, rec); err != nil {
			return rep, err
		}
		rec.Phase = "switched"
	} else if err := m.completeSwitch(ctx, rec); err != nil {
		return rep, err
	}
	rep.Phase = rec.Phase
	if o.Verify {
		if rep.Verify, err = s.Verify(ctx, o.Name, nil); err != nil {
			return rep, fmt.Errorf("the tenant is on the %s tier, but verifying it failed: %w", rec.To, err)
		}
		if !rep.Verify.Passed {
			return rep, fmt.Errorf("the tenant is on the %s tier, but its isolation probes failed; the %s copy is kept: move it back with \"tenantctl move %s --tier %s\"",
				rec.To, rec.From, o.Name, rec.From)
		}
		rep.say("isolation probes passed on the %s tier", rec.To)
	}
	if o.Finalize || o.Phase == PhaseFinalize {
		return rep, m.finalize(ctx, rec)
	}
	if o.Retain > 0 {
		after := time.Now().Add(o.Retain).UTC().Truncate(time.Second)
		if _, err := conn.Exec(ctx, `UPDATE tenantstack.moves SET finalize_after = $2 WHERE tenant_id = $1`, o.Name, after); err != nil {
			return rep, err
		}
		rep.Finalize = &after
		rep.say("the %s copy is kept until %s; \"tenantctl move --due\" removes it then", rec.From, after.Format(time.RFC3339))
	} else {
		rep.say("the %s copy is kept: \"tenantctl move %s --phase finalize\" removes it, \"tenantctl move %s --tier %s\" moves back", rec.From, o.Name, o.Name, rec.From)
	}
	return rep, nil
}

// FinalizeDue finalizes every switched move whose retention has passed.
func (s *Service) FinalizeDue(ctx context.Context, progress io.Writer) ([]*MoveReport, error) {
	plat, err := s.platform(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := platformConn(ctx, plat)
	if err != nil {
		return nil, err
	}
	var exists bool
	err = conn.QueryRow(ctx, `SELECT to_regclass('tenantstack.moves') IS NOT NULL`).Scan(&exists)
	if err != nil || !exists {
		conn.Close(ctx)
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT tenant_id FROM tenantstack.moves WHERE phase = 'switched' AND finalize_after <= now() ORDER BY tenant_id`)
	if err != nil {
		conn.Close(ctx)
		return nil, err
	}
	due, err := pgx.CollectRows(rows, pgx.RowTo[string])
	conn.Close(ctx)
	if err != nil {
		return nil, err
	}
	var out []*MoveReport
	var errs []error
	for _, name := range due {
		r, err := s.Move(ctx, MoveOptions{Name: name, Phase: PhaseFinalize}, progress)
		if r != nil {
			out = append(out, r)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return out, errors.Join(errs...)
}

// moveRun is one move command's state.
type moveRun struct {
	s        *Service
	plat     *Platform
	conn     *pgx.Conn
	st       auto.Stack
	cur      *state
	rep      *MoveReport
	o        MoveOptions
	progress io.Writer
}

func (m *moveRun) mover(from, to tenantspec.Tier) *move.Mover {
	id := m.o.Name
	return &move.Mover{
		AdminURL:     m.plat.PostgresAdminURL,
		Tenant:       id,
		Logins:       tenantspec.LoginRoleNames(id),
		From:         move.SideOf(m.plat.Database, id, from),
		To:           move.SideOf(m.plat.Database, id, to),
		PauseTimeout: m.o.PauseTimeout,
		Progress:     m.progress,
	}
}

// stack runs the tenant's stack on tier with the other tier's storage.
func (m *moveRun) stack(ctx context.Context, tier, moving tenantspec.Tier) error {
	spec := m.cur.Spec
	spec.Tier = string(tier)
	next := *m.cur
	next.Spec, next.Moving = spec, moving
	if _, err := m.s.convergeState(ctx, m.st, m.cur, next, m.progress); err != nil {
		return err
	}
	m.cur = &next
	return nil
}

func (m *moveRun) timed(name string, start time.Time) {
	m.rep.Timings[name] = time.Since(start).Seconds()
}

func (m *moveRun) prepare(ctx context.Context, rec *moveRecord) error {
	start := time.Now()
	defer m.timed(PhasePrepare, start)
	if err := m.stack(ctx, rec.From, rec.To); err != nil {
		return err
	}
	if m.plat.Migrations != "" {
		e, err := m.s.engine(m.plat)
		if err != nil {
			return err
		}
		r, err := e.BringTier(ctx, m.o.Name, rec.To)
		if err != nil {
			return fmt.Errorf("bringing the tenant's tables on the %s tier to the fleet's version: %w", rec.To, err)
		}
		if len(r.Applied) > 0 {
			m.rep.say("the %s tier holds the application's tables at version %d", rec.To, r.To)
		}
	}
	r, err := m.mover(rec.From, rec.To).Prepare(ctx)
	if err != nil {
		return fmt.Errorf("preparing the move (run the same command again to start the copy over, or --abort): %w", err)
	}
	m.rep.Prepare = r
	m.rep.say("prepared: %d rows of %d tables copied, %d changes replayed", r.Rows, r.Tables, r.Replayed)
	return setPhase(ctx, m.conn, m.o.Name, "prepared")
}

func (m *moveRun) cutover(ctx context.Context, rec *moveRecord) error {
	start := time.Now()
	defer m.timed(PhaseCutover, start)
	if err := setPhase(ctx, m.conn, m.o.Name, "cutover"); err != nil {
		return err
	}
	mv := m.mover(rec.From, rec.To)
	var switchedAt time.Time
	r, err := mv.Cutover(ctx, func(ctx context.Context) error {
		switchedAt = time.Now()
		if err := switchLogin(ctx, m.plat, m.o.Name, rec.From, rec.To); err != nil {
			return err
		}
		// Still in the pause: PgBouncer closes each old server session as
		// soon as its transaction is over, so the tenant's next
		// transactions start new ones on the new tier.
		if err := pgbouncerReconnect(ctx, m.plat); err != nil {
			printf(m.progress, "%s: PgBouncer did not take RECONNECT (%v); its old sessions are ended when idle\n", m.o.Name, err)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, move.ErrMismatch) {
			// The copy cannot be trusted: the next run prepares it anew.
			setPhase(context.WithoutCancel(ctx), m.conn, m.o.Name, "preparing") //nolint:errcheck
			return fmt.Errorf("%w; run the same command again to copy the tenant's rows anew, or --abort", err)
		}
		return err
	}
	m.rep.Cutover = r
	if switchedAt.IsZero() {
		switchedAt = time.Now()
	}
	var n int
	for _, login := range tenantspec.LoginRoleNames(m.o.Name) {
		ended, e := endOldSessions(ctx, m.plat, login, switchedAt, m.progress)
		n += ended
		err = errors.Join(err, e)
	}
	m.rep.Ended = n
	if err != nil {
		return fmt.Errorf("the tenant is on the %s tier, but ending its old sessions failed; run the same command again: %w", rec.To, err)
	}
	if err := revokeOld(ctx, m.plat, m.o.Name, rec.From, rec.To); err != nil {
		return fmt.Errorf("the tenant is on the %s tier, but taking its access to the %s copy away failed; run the same command again: %w", rec.To, rec.From, err)
	}
	if _, err := m.conn.Exec(ctx, `UPDATE tenantstack.moves SET phase = 'switched', switched_at = now(), updated_at = now(),
		pause_ms = coalesce($2, pause_ms), rows_compared = coalesce($3, rows_compared) WHERE tenant_id = $1`,
		m.o.Name, nullIfZero(float64(r.Pause.Microseconds())/1000), nullIfZero(float64(r.RowsCompared))); err != nil {
		return err
	}
	m.rep.say("switched to the %s tier: writes paused %s, %d rows compared, %d old sessions ended",
		rec.To, r.Pause.Round(time.Millisecond), r.RowsCompared, n)
	return m.completeSwitch(ctx, rec)
}

func nullIfZero(f float64) *float64 {
	if f == 0 {
		return nil
	}
	return &f
}

// completeSwitch makes the stack describe the new tier (its grants, the
// role's search_path and memberships, the registration), keeping the old
// copy's storage until the finalize.
func (m *moveRun) completeSwitch(ctx context.Context, rec *moveRecord) error {
	if m.cur.Spec.Tier == string(rec.To) && m.cur.Moving == rec.From {
		return nil
	}
	start := time.Now()
	defer m.timed("stack", start)
	if err := m.stack(ctx, rec.To, rec.From); err != nil {
		return fmt.Errorf("the tenant is on the %s tier but its stack is not updated yet; run the same command again: %w", rec.To, err)
	}
	// The stack's table grants cover every table of the schema, reference
	// data too; the tier's rules make that read-only again.
	if err := migrate.FitTarget(ctx, m.plat.PostgresAdminURL, m.plat.Database, m.o.Name, rec.To); err != nil {
		return fmt.Errorf("the tenant is on the %s tier but its privileges are not fitted yet; run the same command again: %w", rec.To, err)
	}
	return nil
}

func (m *moveRun) finalize(ctx context.Context, rec *moveRecord) error {
	start := time.Now()
	defer m.timed(PhaseFinalize, start)
	m.rep.From, m.rep.To = rec.From, rec.To
	if err := m.completeSwitch(ctx, rec); err != nil {
		return err
	}
	mv := m.mover(rec.From, rec.To)
	if err := mv.RemoveCapture(ctx); err != nil && !isMissingDatabase(err) {
		return err
	}
	if err := m.emptyCopy(ctx, mv.From); err != nil {
		return err
	}
	if err := m.stack(ctx, rec.To, ""); err != nil {
		return err
	}
	if err := migrate.ForgetTier(ctx, m.plat.PostgresAdminURL, m.plat.Database, m.o.Name, rec.From, rec.To != tenantspec.TierShared); err != nil {
		return err
	}
	if _, err := m.conn.Exec(ctx, `DELETE FROM tenantstack.moves WHERE tenant_id = $1`, m.o.Name); err != nil {
		return err
	}
	m.rep.Phase = "finalized"
	m.rep.say("finalized: the %s copy is removed", rec.From)
	return nil
}

// emptyCopy removes the tenant's rows of a copy that is going: its rows of
// the shared tables, or the objects of its schema (the Schema resource
// refuses to drop a schema with objects in it). A database goes whole
// with its resource.
func (m *moveRun) emptyCopy(ctx context.Context, side move.Side) error {
	switch side.Tier {
	case tenantspec.TierShared:
		n, err := move.DeleteRows(ctx, m.plat.PostgresAdminURL, m.o.Name, side)
		if err != nil {
			return fmt.Errorf("removing the tenant's rows from the shared tables: %w", err)
		}
		m.rep.Removed = n
	case tenantspec.TierSchema:
		if _, err := emptySchema(ctx, m.plat, side.Schema, tenantspec.OwnerRoleName(m.o.Name)); err != nil {
			return fmt.Errorf("emptying schema %s: %w", side.Schema, err)
		}
	}
	return nil
}

// abort undoes a move that has not switched: the capture goes, and the
// target's storage (or its rows on the shared tier) with it.
func (m *moveRun) abort(ctx context.Context, rec *moveRecord) error {
	m.rep.From, m.rep.To = rec.From, rec.To
	mv := m.mover(rec.From, rec.To)
	if rec.Phase == "cutover" {
		// A cutover stopped before its switch resumed the writes on the
		// source; one stopped after it has sent writes to the target.
		switched, err := mv.Switched(ctx)
		if err != nil {
			return err
		}
		if switched {
			return fmt.Errorf("%w: the cutover of tenant %q switched it to the %s tier before it was stopped; complete it with \"tenantctl move %s --tier %s\", then move back with --tier %s",
				ErrInvalid, m.o.Name, rec.To, m.o.Name, rec.To, rec.From)
		}
	}
	// From here the copy is no longer kept in step: a move that goes on
	// instead of this abort prepares it again.
	if err := setPhase(ctx, m.conn, m.o.Name, "preparing"); err != nil {
		return err
	}
	if err := mv.RemoveCapture(ctx); err != nil {
		return err
	}
	if err := m.emptyCopy(ctx, mv.To); err != nil {
		return err
	}
	if err := m.stack(ctx, rec.From, ""); err != nil {
		return err
	}
	if err := migrate.ForgetTier(ctx, m.plat.PostgresAdminURL, m.plat.Database, m.o.Name, rec.To, rec.From != tenantspec.TierShared); err != nil {
		return err
	}
	if _, err := m.conn.Exec(ctx, `DELETE FROM tenantstack.moves WHERE tenant_id = $1`, m.o.Name); err != nil {
		return err
	}
	m.rep.Phase = "aborted"
	m.rep.say("aborted: the tenant stays on the %s tier and the %s copy is removed", rec.From, rec.To)
	return nil
}

// turnBack starts a move back to the tier a switched move left: the old
// copy's capture goes (it becomes the target), and the record turns round.
func (m *moveRun) turnBack(ctx context.Context, rec *moveRecord) error {
	old := m.mover(rec.From, rec.To)
	if err := old.RemoveCapture(ctx); err != nil {
		return err
	}
	if _, err := m.conn.Exec(ctx, `UPDATE tenantstack.moves SET from_tier = $2, to_tier = $3, phase = 'preparing',
		started_at = now(), updated_at = now(), switched_at = NULL, finalize_after = NULL WHERE tenant_id = $1`,
		m.o.Name, rec.To, rec.From); err != nil {
		return err
	}
	m.rep.say("moving back: the %s copy is filled again from the %s tier", rec.From, rec.To)
	return nil
}

// abandonMove removes what a move of tenant id left behind, for a delete:
// the capture triggers on both copies, the other copy's schema tables (the
// stack's destroy then drops the schema or the database it still holds),
// and the move's record. The tenant's rows in the shared tables are the
// delete's own business. It refuses while a move command holds the tenant.
func (s *Service) abandonMove(ctx context.Context, plat *Platform, id string, progress io.Writer) error {
	conn, err := platformConn(ctx, plat)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('tenantstack.moves') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return err
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_catalog.pg_try_advisory_lock($1, hashtext($2))`, moveLockSpace, id).Scan(&got); err != nil {
		return err
	}
	if !got {
		return fmt.Errorf("%w: another tenantctl is moving tenant %q right now; wait for it to end, then delete the tenant", ErrExists, id)
	}
	rec, err := readMove(ctx, conn, id)
	if err != nil || rec == nil {
		return err
	}
	m := moveRun{s: s, plat: plat, conn: conn, rep: &MoveReport{Tenant: id, progress: progress}, o: MoveOptions{Name: id}, progress: progress}
	for _, mv := range []*move.Mover{m.mover(rec.From, rec.To), m.mover(rec.To, rec.From)} {
		if err := mv.RemoveCapture(ctx); err != nil && !isMissingDatabase(err) {
			return fmt.Errorf("removing the capture of tenant %q's move: %w", id, err)
		}
	}
	for _, t := range []tenantspec.Tier{rec.From, rec.To} {
		if t == tenantspec.TierSchema {
			if err := m.emptyCopy(ctx, move.SideOf(plat.Database, id, t)); err != nil {
				return err
			}
		}
	}
	if _, err := conn.Exec(ctx, `DELETE FROM tenantstack.moves WHERE tenant_id = $1`, id); err != nil {
		return err
	}
	printf(progress, "%s: its move from the %s to the %s tier is abandoned\n", id, rec.From, rec.To)
	return nil
}

// refuseDatabaseMove refuses moves to or from the database tier. Sessions
// pooled on the old URL outlive the switch (PgBouncer keeps its server
// connections), and the URL's database changes: until the application is
// made to reconnect to the new URL without a failed write, these moves are
// not offered.
func refuseDatabaseMove(name string, from, to tenantspec.Tier) error {
	if to == tenantspec.TierDatabase || from == tenantspec.TierDatabase {
		return fmt.Errorf("%w: moves to or from the database tier are not available yet (tenant %q is on the %s tier); moves between the shared and schema tiers are", ErrInvalid, name, from)
	}
	return nil
}
