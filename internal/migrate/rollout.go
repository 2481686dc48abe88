package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantstack/tenantstack/internal/migrate/source"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// ErrRefused marks a rollout refused before anything ran: the set does
// not pass its checks, a target's record does not match the set, or a
// contract migration is held.
var ErrRefused = errors.New("migration refused")

// ErrBusy marks a rollout refused because another is running.
var ErrBusy = errors.New("another rollout is running")

// Engine migrates the fleet of one platform.
type Engine struct {
	// AdminURL logs in as the platform's admin (a superuser, or a role
	// that may SET ROLE to every owner role), directly, not through
	// PgBouncer: rollouts hold session advisory locks.
	AdminURL string
	// PlatformDB is the database holding schema app and the registry.
	PlatformDB string
	// Set is the application's migrations.
	Set *source.Set
	// LockTimeout and StatementTimeout bound each target's transaction;
	// defaults 1 s and 5 min.
	LockTimeout, StatementTimeout time.Duration
}

// SetTimeouts sets LockTimeout and StatementTimeout.
func (e *Engine) SetTimeouts(lock, statement time.Duration) {
	e.LockTimeout, e.StatementTimeout = lock, statement
}

func (e *Engine) lockTimeout() time.Duration {
	if e.LockTimeout > 0 {
		return e.LockTimeout
	}
	return time.Second
}

func (e *Engine) statementTimeout() time.Duration {
	if e.StatementTimeout > 0 {
		return e.StatementTimeout
	}
	return 5 * time.Minute
}

// TargetPlan is what a rollout would do on one target.
type TargetPlan struct {
	Target  string  `json:"target"`
	Tier    string  `json:"tier"`
	Current int64   `json:"current"`
	Pending []int64 `json:"pending"`
	// Tenants are the tenants whose tables are the target's.
	Tenants []string `json:"tenants"`
}

// Plan is what `migrate up` would do, and why not where it would refuse.
type Plan struct {
	Dir    string `json:"dir"`
	Latest int64  `json:"latest"`
	// Goal is the version this rollout brings every target to.
	Goal int64 `json:"goal"`
	// Fleet is the fleet's version now (what new tenants get).
	Fleet int64 `json:"fleet"`
	// Held are contract migrations held back (see UpOptions.Contract).
	Held    []int64      `json:"held"`
	HeldWhy string       `json:"heldWhy,omitempty"`
	Targets []TargetPlan `json:"targets"`
}

// PendingTargets counts the targets with something to apply.
func (p *Plan) PendingTargets() int {
	n := 0
	for _, t := range p.Targets {
		if len(t.Pending) > 0 {
			n++
		}
	}
	return n
}

// PlanOptions choose the goal of a rollout.
type PlanOptions struct {
	// To stops at this version; 0 means the latest.
	To int64
	// Contract lets contract migrations run, once every target has applied
	// everything before them.
	Contract bool
}

// state is the fleet as read once: targets, tenants and what each target
// has applied.
type state struct {
	targets []Target
	members []member
	applied map[string]applied
	fleet   int64
}

// read reads the fleet's state. conn is on the platform database.
func (e *Engine) read(ctx context.Context, conn *pgx.Conn) (*state, error) {
	if err := ensureControl(ctx, conn, true); err != nil {
		return nil, err
	}
	targets, members, err := e.fleet(ctx, conn)
	if err != nil {
		return nil, err
	}
	st := &state{targets: targets, members: members, applied: map[string]applied{}}
	if st.fleet, err = fleetVersion(ctx, conn); err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT target, version, checksum FROM tenantstack.schema_versions`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name, sum string
		var v int64
		if err := rows.Scan(&name, &v, &sum); err != nil {
			rows.Close()
			return nil, err
		}
		if st.applied[name] == nil {
			st.applied[name] = applied{}
		}
		st.applied[name][v] = sum
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// A database-tier target records its versions in its own database.
	for _, t := range targets {
		if t.Database == e.PlatformDB {
			continue
		}
		a, err := e.readRemote(ctx, t)
		if err != nil {
			return nil, err
		}
		st.applied[t.Name] = a
	}
	return st, nil
}

func (e *Engine) readRemote(ctx context.Context, t Target) (applied, error) {
	conn, err := e.connect(ctx, t.Database)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('tenantstack.schema_versions') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return applied{}, err
	}
	return readApplied(ctx, conn, t.Name)
}

// check refuses a set that does not pass the lint or that does not match
// what a target recorded.
func (e *Engine) check(st *state) error {
	if err := source.FindingsError(source.Lint(e.Set)); err != nil {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	var errs []error
	for _, t := range st.targets {
		if err := checkApplied(e.Set, t.Name, st.applied[t.Name]); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w, nothing was run: %w", ErrRefused, errors.Join(errs...))
	}
	return nil
}

// plan computes the goal and each target's pending versions.
func (e *Engine) plan(st *state, o PlanOptions) (*Plan, error) {
	p := &Plan{Dir: e.Set.Dir, Latest: e.Set.Latest(), Fleet: st.fleet, Held: []int64{}, Targets: []TargetPlan{}}
	p.Goal = p.Latest
	if o.To > 0 {
		if _, ok := e.Set.Find(o.To); !ok {
			return nil, fmt.Errorf("%w: --to %d is not a version of %s (latest %d)", ErrRefused, o.To, e.Set.Dir, p.Latest)
		}
		p.Goal = o.To
	}
	ranContract := false
	for _, m := range e.Set.Migrations {
		if !m.Contract || m.Version > p.Goal {
			continue
		}
		allApplied := true
		for _, t := range st.targets {
			if _, ok := st.applied[t.Name][m.Version]; !ok {
				allApplied = false
			}
		}
		if allApplied {
			continue
		}
		// Only the first contract not applied everywhere can run now: a
		// later one needs what lies between applied everywhere first.
		if !o.Contract || ranContract {
			for _, h := range e.Set.Migrations {
				if h.Version >= m.Version && h.Version <= p.Goal && h.Contract {
					p.Held = append(p.Held, h.Version)
				}
			}
			p.HeldWhy = fmt.Sprintf("%s is a contract migration: it runs only with --contract, once every target has applied everything before it", m.File)
			p.Goal = m.Version - 1
			break
		}
		ranContract = true
		var behind []string
		for _, t := range st.targets {
			if st.applied[t.Name].current() < m.Version-1 {
				behind = append(behind, t.Name)
			}
		}
		if len(behind) > 0 {
			return nil, fmt.Errorf("%w: contract migration %s is held: %d targets have not applied everything before it (%s); run \"tenantctl migrate up\" without --contract first",
				ErrRefused, m.File, len(behind), strings.Join(first(behind, 10), ", "))
		}
	}
	tenants := map[string][]string{}
	for _, m := range st.members {
		tenants[m.Target] = append(tenants[m.Target], m.Tenant)
	}
	for _, t := range st.targets {
		a := st.applied[t.Name]
		tp := TargetPlan{Target: t.Name, Tier: t.Tier, Current: a.current(), Pending: []int64{}, Tenants: tenants[t.Name]}
		if tp.Tenants == nil {
			tp.Tenants = []string{}
		}
		for _, m := range e.Set.Migrations {
			if _, ok := a[m.Version]; !ok && m.Version <= p.Goal {
				tp.Pending = append(tp.Pending, m.Version)
			}
		}
		p.Targets = append(p.Targets, tp)
	}
	return p, nil
}

func first(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(slices.Clone(s[:n]), fmt.Sprintf("and %d more", len(s)-n))
}

// Plan says what Up would do, changing nothing.
func (e *Engine) Plan(ctx context.Context, o PlanOptions) (*Plan, error) {
	conn, err := e.connect(ctx, e.PlatformDB)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	st, err := e.read(ctx, conn)
	if err != nil {
		return nil, err
	}
	if err := e.check(st); err != nil {
		return nil, err
	}
	return e.plan(st, o)
}

// UpOptions configure a rollout.
type UpOptions struct {
	PlanOptions
	// Canary is the number of targets of the first wave (default 1), or
	// CanaryNames the targets themselves. 0 targets (Canary < 0) skips it.
	Canary      int
	CanaryNames []string
	// Parallel targets are migrated at once after the canary (default 1).
	Parallel int
	// ContinueOnError goes on after a failed target; by default no new
	// target starts after the first failure.
	ContinueOnError bool
	// Confirm is asked between the canary wave and the rest, with what
	// the canary did; false stops the rollout there (it can be resumed).
	Confirm func(canary []TargetResult, rest int) (bool, error)
	// Progress is told of each target as it starts and ends; may be nil.
	Progress Progress
}

// Progress follows a rollout.
type Progress interface {
	Wave(name string, targets int)
	Done(r TargetResult)
}

// Report is what a rollout did.
type Report struct {
	Plan    *Plan          `json:"plan"`
	Results []TargetResult `json:"results"`
	// Stopped says why targets were left pending, if any were.
	Stopped string  `json:"stopped,omitempty"`
	Seconds float64 `json:"seconds"`
}

// Failed returns the failed targets' results.
func (r *Report) Failed() []TargetResult {
	var out []TargetResult
	for _, x := range r.Results {
		if x.Failure != nil {
			out = append(out, x)
		}
	}
	return out
}

// Up rolls the set out: the canary wave, the confirmation, then the rest
// with Parallel at once. A failed target stays at its previous version; a
// second Up resumes with what is still pending.
func (e *Engine) Up(ctx context.Context, o UpOptions) (*Report, error) {
	start := time.Now()
	conn, err := e.connect(ctx, e.PlatformDB)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_catalog.pg_try_advisory_lock($1, $2)`, lockSpace, lockRollout).Scan(&got); err != nil {
		return nil, err
	}
	if !got {
		var who string
		_ = conn.QueryRow(ctx, `SELECT format('pid %s, %s, since %s', a.pid, a.application_name, date_trunc('second', a.backend_start))
			FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = $2 AND l.granted LIMIT 1`, lockSpace, lockRollout).Scan(&who)
		return nil, fmt.Errorf("%w (%s); wait for it to end, or if it was killed its lock is already gone: run again", ErrBusy, who)
	}
	// The session lock ends with the connection, also when killed.
	moving, err := movesRunning(ctx, conn)
	if err != nil {
		return nil, err
	}
	if len(moving) > 0 {
		return nil, fmt.Errorf("%w: tenants %s are moving between tiers, and their two copies would part; finish each with \"tenantctl move NAME --tier TIER\" or undo it with \"tenantctl move NAME --abort\", then run the rollout",
			ErrRefused, strings.Join(moving, ", "))
	}

	// Bump the fleet's version and read the targets under the version
	// lock: a tenant created meanwhile is either seen here, or reads the
	// new version and is brought to it by its create.
	if _, err := conn.Exec(ctx, `SELECT pg_catalog.pg_advisory_lock($1, $2)`, lockSpace, lockVersion); err != nil {
		return nil, err
	}
	st, err := e.read(ctx, conn)
	var plan *Plan
	if err == nil {
		err = e.check(st)
	}
	if err == nil {
		plan, err = e.plan(st, o.PlanOptions)
	}
	if err == nil && plan.Goal > st.fleet {
		_, err = conn.Exec(ctx, `INSERT INTO tenantstack.fleet_version (version) VALUES ($1)
			ON CONFLICT (singleton) DO UPDATE SET version = excluded.version, updated_at = now()`, plan.Goal)
	}
	if _, uerr := conn.Exec(ctx, `SELECT pg_catalog.pg_advisory_unlock($1, $2)`, lockSpace, lockVersion); err == nil {
		err = uerr
	}
	if err != nil {
		return nil, err
	}
	rep := &Report{Plan: plan, Results: []TargetResult{}}

	byName := map[string]Target{}
	for _, t := range st.targets {
		byName[t.Name] = t
	}
	var pending []Target
	for _, tp := range plan.Targets {
		if len(tp.Pending) > 0 {
			pending = append(pending, byName[tp.Target])
		}
	}
	canary, rest, err := splitCanary(pending, o)
	if err != nil {
		return nil, err
	}
	stop := func() bool { return !o.ContinueOnError && len(rep.Failed()) > 0 }
	if len(canary) > 0 {
		if o.Progress != nil {
			o.Progress.Wave("canary", len(canary))
		}
		rep.Results = append(rep.Results, e.wave(ctx, canary, plan.Goal, 1, o, stop)...)
		if stop() {
			rep.Stopped = fmt.Sprintf("the canary failed; %d targets were not started; fix the cause and run again to resume", len(rest))
			rep.Seconds = time.Since(start).Seconds()
			return rep, nil
		}
		if len(rest) > 0 && o.Confirm != nil {
			ok, err := o.Confirm(rep.Results, len(rest))
			if err != nil {
				return rep, err
			}
			if !ok {
				rep.Stopped = fmt.Sprintf("stopped after the canary; %d targets are pending; run again to resume", len(rest))
				rep.Seconds = time.Since(start).Seconds()
				return rep, nil
			}
		}
	}
	if len(rest) > 0 {
		if o.Progress != nil {
			o.Progress.Wave("rest", len(rest))
		}
		results := e.wave(ctx, rest, plan.Goal, max(o.Parallel, 1), o, stop)
		rep.Results = append(rep.Results, results...)
		if n := len(rest) - len(results); n > 0 {
			rep.Stopped = fmt.Sprintf("a target failed; %d targets were not started; fix the cause and run again to resume (or --continue-on-error)", n)
		}
	}
	if err := ctx.Err(); err != nil && rep.Stopped == "" {
		rep.Stopped = "interrupted; run again to resume"
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// splitCanary picks the first wave: the named targets, or the first
// Canary pending ones (tenants' own targets before the shared schema,
// which every shared-tier tenant uses at once).
func splitCanary(pending []Target, o UpOptions) (canary, rest []Target, err error) {
	pending = slices.Clone(pending)
	sort.SliceStable(pending, func(i, j int) bool { return !pending[i].shared() && pending[j].shared() })
	if len(o.CanaryNames) > 0 {
		for _, n := range o.CanaryNames {
			if !slices.ContainsFunc(pending, func(t Target) bool { return t.Name == n }) {
				return nil, nil, fmt.Errorf("%w: canary %q is not a target with pending migrations; \"tenantctl migrate plan\" lists them", ErrRefused, n)
			}
		}
		for _, t := range pending {
			if slices.Contains(o.CanaryNames, t.Name) {
				canary = append(canary, t)
			} else {
				rest = append(rest, t)
			}
		}
		return canary, rest, nil
	}
	n := o.Canary
	if n == 0 {
		n = 1
	}
	if n < 0 {
		n = 0
	}
	n = min(n, len(pending))
	return pending[:n], pending[n:], nil
}

// wave migrates targets, parallel at once, starting none once stop says so.
func (e *Engine) wave(ctx context.Context, targets []Target, goal int64, parallel int, o UpOptions, stop func() bool) []TargetResult {
	var (
		mu  sync.Mutex
		out []TargetResult
		wg  sync.WaitGroup
	)
	sem := make(chan struct{}, parallel)
	for _, t := range targets {
		sem <- struct{}{}
		mu.Lock()
		failed := slices.ContainsFunc(out, func(r TargetResult) bool { return r.Failure != nil })
		halt := stop() || (failed && !o.ContinueOnError) || ctx.Err() != nil
		mu.Unlock()
		if halt {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := e.applyTarget(ctx, t, goal)
			mu.Lock()
			out = append(out, r)
			mu.Unlock()
			if o.Progress != nil {
				o.Progress.Done(r)
			}
		}()
	}
	wg.Wait()
	return out
}

// Bring brings one tenant's target to the fleet's version; a new tenant is
// not ready before it. A shared-tier tenant has nothing of its own: its
// tables are the shared schema's, which rollouts migrate. It holds the
// version lock shared, so a rollout that starts meanwhile either sees the
// tenant or has already set the version this reads.
func (e *Engine) Bring(ctx context.Context, tenant string) (*TargetResult, error) {
	conn, err := e.connect(ctx, e.PlatformDB)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := ensureControl(ctx, conn, true); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `SELECT pg_catalog.pg_advisory_lock_shared($1, $2)`, lockSpace, lockVersion); err != nil {
		return nil, err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_catalog.pg_advisory_unlock_shared($1, $2)`, lockSpace, lockVersion) //nolint:errcheck
	goal, err := fleetVersion(ctx, conn)
	if err != nil {
		return nil, err
	}
	var tier string
	err = conn.QueryRow(ctx, `SELECT tier FROM tenantstack.tenants WHERE tenant_id = $1`, tenant).Scan(&tier)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("tenant %q is not in the registry tenantstack.tenants; run \"tenantctl create %s\" again to complete it", tenant, tenant)
	}
	if err != nil {
		return nil, err
	}
	t, own := tenantTarget(e.PlatformDB, tenant, tenantspec.Tier(tier))
	if !own {
		return &TargetResult{Target: SharedTarget, Tier: tier, Applied: []int64{}}, nil
	}
	if goal == 0 {
		return &TargetResult{Target: t.Name, Tier: tier, Applied: []int64{}}, nil
	}
	if err := source.FindingsError(source.Lint(e.Set)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if _, ok := e.Set.Find(goal); !ok {
		return nil, fmt.Errorf("%w: the fleet is at version %d, which directory %s does not have; point tenantstack:migrations at the directory the fleet was migrated from",
			ErrRefused, goal, e.Set.Dir)
	}
	r := e.applyTarget(ctx, t, goal)
	if r.Failure != nil {
		return &r, r.Failure
	}
	return &r, nil
}
