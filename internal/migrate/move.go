package migrate

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tenantstack/tenantstack/internal/migrate/source"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// A tier move (internal/move) gives a tenant a second copy of its tables
// on another tier before it switches to it. These are the engine's part:
// bring that copy to the fleet's version, forget a copy that is removed,
// and refuse a rollout while a move runs (the two copies would part).

// TargetOn returns where a tenant's tables are on tier: the shared schema
// for the shared tier, its own schema or database otherwise.
func TargetOn(platformDB, tenant string, tier tenantspec.Tier) Target {
	if t, own := tenantTarget(platformDB, tenant, tier); own {
		return t
	}
	return sharedTarget(platformDB)
}

// BringTier brings the tenant's copy on tier to the fleet's version,
// whatever tier the registry says the tenant is on. The shared schema is
// the rollouts' to migrate, so on the shared tier there is nothing to do
// but check that it is at the fleet's version.
func (e *Engine) BringTier(ctx context.Context, tenant string, tier tenantspec.Tier) (*TargetResult, error) {
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
	t := TargetOn(e.PlatformDB, tenant, tier)
	if t.shared() {
		var v int64
		err := conn.QueryRow(ctx, `SELECT coalesce((SELECT version FROM tenantstack.target_versions WHERE target = $1), 0)`, SharedTarget).Scan(&v)
		if err != nil {
			return nil, err
		}
		if v != goal {
			return nil, fmt.Errorf("%w: the shared schema is at version %d and the fleet at %d; finish the rollout with \"tenantctl migrate up\" first", ErrRefused, v, goal)
		}
		return &TargetResult{Target: SharedTarget, Tier: string(tier), From: v, To: v, Applied: []int64{}}, nil
	}
	if goal == 0 {
		return &TargetResult{Target: t.Name, Tier: t.Tier, Applied: []int64{}}, nil
	}
	if err := source.FindingsError(source.Lint(e.Set)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if _, ok := e.Set.Find(goal); !ok {
		return nil, fmt.Errorf("%w: the fleet is at version %d, which directory %s does not have", ErrRefused, goal, e.Set.Dir)
	}
	r := e.applyTarget(ctx, t, goal)
	if r.Failure != nil {
		return &r, r.Failure
	}
	return &r, nil
}

// ForgetTier removes the version records of the tenant's copy on tier,
// which is being removed. The shared schema's are the fleet's and stay.
// The summary rows of the platform database are named by the tenant, not
// the tier: they are removed only when the tenant keeps no copy of its own
// (keepSummary false).
func ForgetTier(ctx context.Context, adminURL, platformDB, tenant string, tier tenantspec.Tier, keepSummary bool) error {
	t := TargetOn(platformDB, tenant, tier)
	if t.shared() && keepSummary {
		return nil
	}
	e := &Engine{AdminURL: adminURL, PlatformDB: platformDB}
	if !t.shared() && t.Database == platformDB {
		conn, err := e.connect(ctx, platformDB)
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		var exists bool
		if err := conn.QueryRow(ctx, `SELECT to_regclass('tenantstack.schema_versions') IS NOT NULL`).Scan(&exists); err != nil || !exists {
			return err
		}
		if _, err := conn.Exec(ctx, `DELETE FROM tenantstack.schema_versions WHERE target = $1`, tenant); err != nil {
			return err
		}
	}
	if keepSummary {
		return nil
	}
	return Forget(ctx, adminURL, platformDB, tenant)
}

// movesRunning names the tenants with a tier move under way, if the
// platform database records moves at all.
func movesRunning(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('tenantstack.moves') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT tenant_id FROM tenantstack.moves WHERE phase IN ('preparing', 'prepared', 'cutover') ORDER BY tenant_id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// HoldOffRollouts takes the rollout lock shared on conn's session, so no
// rollout starts while a move works (a rollout takes it alone). false when
// a rollout runs now. The lock ends with the session.
func HoldOffRollouts(ctx context.Context, conn *pgx.Conn) (bool, error) {
	var got bool
	err := conn.QueryRow(ctx, `SELECT pg_catalog.pg_try_advisory_lock_shared($1, $2)`, lockSpace, lockRollout).Scan(&got)
	return got, err
}

// FitTarget gives the tenant's login the privileges its tier's rules
// give on the application's tables of its copy on tier (every privilege
// on a tenant table, SELECT on reference data) and checks the copy, as a
// migration does. A move calls it when it points the login at the copy,
// and after the stack's grants, which cover every table of the schema.
func FitTarget(ctx context.Context, adminURL, platformDB, tenant string, tier tenantspec.Tier) error {
	t := TargetOn(platformDB, tenant, tier)
	if t.shared() {
		return nil // app_tenant's privileges, which rollouts keep
	}
	e := &Engine{AdminURL: adminURL, PlatformDB: platformDB}
	conn, err := e.connect(ctx, t.Database)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, targetLockSQL, t.Name); err != nil {
			return err
		}
		if err := fitTier(ctx, tx, t); err != nil {
			return fmt.Errorf("fitting the privileges of %s to its tier: %w", t.Schema, err)
		}
		return checkTarget(ctx, tx, t)
	})
}
