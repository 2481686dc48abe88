package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tenantstack/tenantstack/internal/migrate/source"
)

// Failure says where a target's migration failed. Nothing of the failed
// run was kept: the target is at its previous version.
type Failure struct {
	Target    string `json:"target"`
	Version   int64  `json:"version"`
	File      string `json:"file"`
	Line      int    `json:"line"`
	Statement string `json:"statement"`
	SQLState  string `json:"sqlstate"`
	Message   string `json:"message"`
}

func (f *Failure) Error() string {
	where := f.File
	if f.Line > 0 {
		where = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	s := fmt.Sprintf("target %s: %s: %s", f.Target, where, f.Message)
	if f.SQLState != "" {
		s += " (SQLSTATE " + f.SQLState + ")"
	}
	if f.Statement != "" {
		s += "\n    statement: " + f.Statement
	}
	return s
}

// TargetResult is what one target's run did.
type TargetResult struct {
	Target   string   `json:"target"`
	Tier     string   `json:"tier"`
	From     int64    `json:"from"`
	To       int64    `json:"to"`
	Applied  []int64  `json:"applied"`
	Seconds  float64  `json:"seconds"`
	Attempts int      `json:"attempts"`
	Failure  *Failure `json:"failure,omitempty"`
}

// lockRetries is how often a target is tried again when its lock_timeout
// expired behind a tenant's transaction, with a growing pause between.
const lockRetries = 3

// applyTarget brings t from its recorded version to goal, in one
// transaction, retrying a lock timeout. The failure, if any, is in the
// result; err is for when the target could not even be reached.
func (e *Engine) applyTarget(ctx context.Context, t Target, goal int64) TargetResult {
	start := time.Now()
	res := TargetResult{Target: t.Name, Tier: t.Tier, Applied: []int64{}}
	var f *Failure
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		f = e.tryTarget(ctx, t, goal, &res)
		if f == nil || f.SQLState != "55P03" || attempt > lockRetries || ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(time.Duration(attempt) * 250 * time.Millisecond):
		case <-ctx.Done():
		}
	}
	res.Seconds = time.Since(start).Seconds()
	res.Failure = f
	if f != nil {
		res.Applied = []int64{}
		res.To = res.From
	}
	e.recordOutcome(ctx, t, res)
	return res
}

// tryTarget is one attempt of applyTarget.
func (e *Engine) tryTarget(ctx context.Context, t Target, goal int64, res *TargetResult) *Failure {
	fail := func(err error) *Failure { return failureOf(&Failure{Target: t.Name}, err) }
	conn, err := e.connect(ctx, t.Database)
	if err != nil {
		return fail(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if t.Database != e.PlatformDB {
		if err := ensureControl(ctx, conn, false); err != nil {
			return fail(err)
		}
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, targetLockSQL, t.Name); err != nil {
		return fail(err)
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = %d; SET LOCAL statement_timeout = %d`,
		e.lockTimeout().Milliseconds(), e.statementTimeout().Milliseconds())); err != nil {
		return fail(err)
	}
	have, err := readApplied(ctx, tx, t.Name)
	if err != nil {
		return fail(err)
	}
	res.From, res.To = have.current(), have.current()
	if err := checkApplied(e.Set, t.Name, have); err != nil {
		return fail(err)
	}
	if err := e.checkReady(ctx, tx, t); err != nil {
		return fail(err)
	}
	for _, m := range e.Set.Migrations {
		if m.Version > goal {
			break
		}
		if _, ok := have[m.Version]; ok {
			continue
		}
		if f := runMigration(ctx, tx, t, m); f != nil {
			return f
		}
		if err := fitTier(ctx, tx, t); err != nil {
			return &Failure{Target: t.Name, Version: m.Version, File: m.File, Message: "making the tables fit the tier: " + err.Error()}
		}
		if err := checkTarget(ctx, tx, t); err != nil {
			return &Failure{Target: t.Name, Version: m.Version, File: m.File, Message: "refused, nothing of it was kept: " + err.Error()}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tenantstack.schema_versions (target, version, name, checksum) VALUES ($1, $2, $3, $4)`,
			t.Name, m.Version, m.Name, m.Checksum); err != nil {
			return fail(err)
		}
		res.Applied = append(res.Applied, m.Version)
		res.To = m.Version
	}
	if err := tx.Commit(ctx); err != nil {
		return fail(err)
	}
	return nil
}

// runMigration runs m's statements as t's owner, with search_path pinned
// to t's schema, and returns to the admin.
func runMigration(ctx context.Context, tx pgx.Tx, t Target, m source.Migration) *Failure {
	setup := `SET LOCAL search_path = ` + pgx.Identifier{t.Schema}.Sanitize() + `; SET LOCAL ROLE ` + pgx.Identifier{t.Owner}.Sanitize()
	if _, err := tx.Exec(ctx, setup); err != nil {
		return &Failure{Target: t.Name, Version: m.Version, File: m.File, Message: fmt.Sprintf("becoming the owner role %s: %v", t.Owner, err)}
	}
	for _, st := range m.Statements {
		if _, err := tx.Exec(ctx, st.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
			return failureOf(&Failure{Target: t.Name, Version: m.Version, File: m.File, Line: st.Line, Statement: firstLine(st.SQL)}, err)
		}
	}
	var who string
	_, err := tx.Exec(ctx, `RESET ROLE`)
	if err == nil {
		err = tx.QueryRow(ctx, `SELECT current_user::text`).Scan(&who)
	}
	if err == nil && who == t.Owner {
		err = errors.New("the session is still the owner role")
	}
	if err != nil {
		return &Failure{Target: t.Name, Version: m.Version, File: m.File, Message: "returning to the admin role: " + err.Error()}
	}
	return nil
}

// failureOf fills f's message, and its SQLSTATE when err is the server's.
func failureOf(f *Failure, err error) *Failure {
	f.Message = err.Error()
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		f.SQLState, f.Message = pgErr.Code, pgErr.Message
		if pgErr.Detail != "" {
			f.Message += " (" + pgErr.Detail + ")"
		}
	}
	return f
}

// firstLine shortens a statement for a message.
func firstLine(sql string) string {
	s := strings.Join(strings.Fields(sql), " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

// checkApplied refuses a target whose record does not match the set: a
// version applied with other SQL, or one the directory does not have.
func checkApplied(set *source.Set, target string, have applied) error {
	for v, sum := range have {
		m, ok := set.Find(v)
		if !ok {
			return fmt.Errorf("target %s has version %d applied, which directory %s does not have; restore its file (applied migrations are never removed)", target, v, set.Dir)
		}
		if m.Checksum != sum {
			return fmt.Errorf("%s was edited after target %s applied it (checksum %.12s, now %.12s); restore it and add a new migration with a higher version instead", m.File, target, sum, m.Checksum)
		}
	}
	return nil
}

// checkReady refuses a target whose schema is missing (a tenant half made
// or half removed).
func (e *Engine) checkReady(ctx context.Context, tx pgx.Tx, t Target) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT to_regnamespace($1) IS NOT NULL AND to_regrole($2) IS NOT NULL`, t.Schema, t.Owner).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("schema %q or its owner role %q does not exist in database %q: the tenant is incomplete; run \"tenantctl create %s\" again to complete it", t.Schema, t.Owner, t.Database, t.Name)
	}
	return nil
}

// recordOutcome keeps, in the platform database, the target's version for
// list and status, and its last failure (cleared by a success). A failure
// to record is not the migration's: it is reported on stderr by status.
func (e *Engine) recordOutcome(ctx context.Context, t Target, res TargetResult) {
	ctx = context.WithoutCancel(ctx)
	conn, err := e.connect(ctx, e.PlatformDB)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, `INSERT INTO tenantstack.target_versions (target, tier, version) VALUES ($1, $2, $3)
		ON CONFLICT (target) DO UPDATE SET tier = excluded.tier, version = excluded.version, updated_at = now()`, t.Name, t.Tier, res.To)
	if f := res.Failure; f != nil {
		_, _ = conn.Exec(ctx, `INSERT INTO tenantstack.migration_failures (target, version, file, line, statement, sqlstate, message)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (target) DO UPDATE SET version = excluded.version, file = excluded.file, line = excluded.line,
				statement = excluded.statement, sqlstate = excluded.sqlstate, message = excluded.message, failed_at = now()`,
			t.Name, f.Version, f.File, f.Line, f.Statement, f.SQLState, f.Message)
		return
	}
	_, _ = conn.Exec(ctx, `DELETE FROM tenantstack.migration_failures WHERE target = $1`, t.Name)
}
