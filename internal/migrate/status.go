package migrate

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// TargetStatus is one target's version, failure and drift.
type TargetStatus struct {
	Target  string   `json:"target"`
	Tier    string   `json:"tier"`
	Version int64    `json:"version"`
	Behind  bool     `json:"behind"`
	Failure *Failure `json:"failure,omitempty"`
	// Drift lists how the target's tables differ from the other targets at
	// the same version ("+" only here, "-" missing here); empty when none.
	Drift   []string `json:"drift"`
	Tenants []string `json:"tenants"`
}

// Status is the fleet's schema state.
type Status struct {
	Dir     string         `json:"dir"`
	Latest  int64          `json:"latest"`
	Fleet   int64          `json:"fleet"`
	Targets []TargetStatus `json:"targets"`
	Behind  int            `json:"behind"`
	Failed  int            `json:"failed"`
	Drifted int            `json:"drifted"`
}

// Status reads every target's version and last failure, and compares each
// target's tables with the others at the same version.
func (e *Engine) Status(ctx context.Context) (*Status, error) {
	conn, err := e.connect(ctx, e.PlatformDB)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	st, err := e.read(ctx, conn)
	if err != nil {
		return nil, err
	}
	failures, err := readFailures(ctx, conn)
	if err != nil {
		return nil, err
	}
	tenants := map[string][]string{}
	for _, m := range st.members {
		tenants[m.Target] = append(tenants[m.Target], m.Tenant)
	}
	out := &Status{Dir: e.Set.Dir, Latest: e.Set.Latest(), Fleet: st.fleet, Targets: []TargetStatus{}}
	prints := map[string][]string{}
	for _, t := range st.targets {
		c := conn
		if t.Database != e.PlatformDB {
			if c, err = e.connect(ctx, t.Database); err != nil {
				return nil, err
			}
		}
		prints[t.Name], err = fingerprint(ctx, c, t)
		if c != conn {
			c.Close(context.WithoutCancel(ctx))
		}
		if err != nil {
			return nil, fmt.Errorf("reading the tables of target %s: %w", t.Name, err)
		}
		ts := TargetStatus{Target: t.Name, Tier: t.Tier, Version: st.applied[t.Name].current(), Drift: []string{}, Tenants: tenants[t.Name]}
		if ts.Tenants == nil {
			ts.Tenants = []string{}
		}
		ts.Behind = ts.Version < st.fleet
		if f, ok := failures[t.Name]; ok {
			ts.Failure = f
			out.Failed++
		}
		if ts.Behind {
			out.Behind++
		}
		out.Targets = append(out.Targets, ts)
		// Keep the mirror that list reads in step.
		_, _ = conn.Exec(ctx, `INSERT INTO tenantstack.target_versions (target, tier, version) VALUES ($1, $2, $3)
			ON CONFLICT (target) DO UPDATE SET tier = excluded.tier, version = excluded.version, updated_at = now()`, t.Name, t.Tier, ts.Version)
	}
	byVersion := map[int64][]int{}
	for i, ts := range out.Targets {
		byVersion[ts.Version] = append(byVersion[ts.Version], i)
	}
	for _, idx := range byVersion {
		if len(idx) < 2 {
			continue
		}
		ref := majority(idx, func(i int) string { return strings.Join(prints[out.Targets[i].Target], "\n") })
		want := prints[out.Targets[ref].Target]
		for _, i := range idx {
			d := diffLines(want, prints[out.Targets[i].Target])
			if len(d) > 0 {
				out.Targets[i].Drift = d
				out.Drifted++
			}
		}
	}
	return out, nil
}

// majority returns the index whose key most others share (the first such).
func majority(idx []int, key func(int) string) int {
	count := map[string]int{}
	for _, i := range idx {
		count[key(i)]++
	}
	best := idx[0]
	for _, i := range idx {
		if count[key(i)] > count[key(best)] {
			best = i
		}
	}
	return best
}

// diffLines returns "+ line" for lines only in got and "- line" for lines
// only in want.
func diffLines(want, got []string) []string {
	var out []string
	for _, g := range got {
		if !slices.Contains(want, g) {
			out = append(out, "+ "+g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, "- "+w)
		}
	}
	return out
}

// fingerprint describes the application's objects of t's schema, one line
// each, in a form that is the same on every tier: the tier's own parts
// (the tenant column's default and check, the tenant policy, row-level
// security, privileges) are left out, and names are printed unqualified.
func fingerprint(ctx context.Context, conn *pgx.Conn, t Target) ([]string, error) {
	var lines []string
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL search_path = `+pgx.Identifier{t.Schema}.Sanitize()+`, pg_catalog`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
		WITH rel AS (
			SELECT c.oid, c.relname, c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT `+platformTableSQL+`)
		SELECT format('table %s (%s)', relname, relkind) FROM rel
		UNION ALL
		SELECT format('column %s.%s %s%s%s', r.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
		              CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
		              CASE WHEN d.adbin IS NOT NULL AND a.attname <> $2 THEN ' default ' || pg_catalog.pg_get_expr(d.adbin, d.adrelid) ELSE '' END)
		FROM rel r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
		LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = r.oid AND d.adnum = a.attnum
		UNION ALL
		SELECT format('index %s', pg_catalog.pg_get_indexdef(i.indexrelid))
		FROM rel r JOIN pg_catalog.pg_index i ON i.indrelid = r.oid
		UNION ALL
		SELECT format('constraint %s.%s %s', r.relname, k.conname, pg_catalog.pg_get_constraintdef(k.oid))
		FROM rel r JOIN pg_catalog.pg_constraint k ON k.conrelid = r.oid WHERE k.conname <> $3
		UNION ALL
		SELECT format('policy %s.%s', r.relname, p.polname)
		FROM rel r JOIN pg_catalog.pg_policy p ON p.polrelid = r.oid WHERE p.polname <> 'tenant_isolation'
		UNION ALL
		SELECT format('trigger %s.%s %s', r.relname, g.tgname, pg_catalog.pg_get_triggerdef(g.oid))
		FROM rel r JOIN pg_catalog.pg_trigger g ON g.tgrelid = r.oid WHERE NOT g.tgisinternal
		UNION ALL
		SELECT format('function %s %s', p.oid::regprocedure, pg_catalog.md5(p.prosrc))
		FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = $1 AND NOT (n.nspname = 'app' AND p.proname IN ('current_tenant', 'enable_tenant_isolation'))
		ORDER BY 1`, t.Schema, TenantColumn, tenantCheck)
		if err != nil {
			return err
		}
		lines, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	// Index and trigger definitions name their table with its schema.
	for i, l := range lines {
		for _, q := range []string{t.Schema, `"` + strings.ReplaceAll(t.Schema, `"`, `""`) + `"`} {
			l = strings.ReplaceAll(l, " ON "+q+".", " ON ")
		}
		lines[i] = l
	}
	sort.Strings(lines)
	return lines, err
}

// readFailures reads the last failure of every target that has one.
func readFailures(ctx context.Context, conn *pgx.Conn) (map[string]*Failure, error) {
	rows, err := conn.Query(ctx, `SELECT target, version, file, line, statement, sqlstate, message FROM tenantstack.migration_failures`)
	if err != nil {
		return nil, err
	}
	out := map[string]*Failure{}
	_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		var f Failure
		err := r.Scan(&f.Target, &f.Version, &f.File, &f.Line, &f.Statement, &f.SQLState, &f.Message)
		out[f.Target] = &f
		return struct{}{}, err
	})
	return out, err
}

// TenantVersion is a tenant's schema version as list and get show it.
type TenantVersion struct {
	Version int64 `json:"version"`
	// State is "current", "behind" (the fleet is ahead) or "failed" (its
	// last migration failed; it is at Version).
	State string `json:"state"`
}

// Versions reads every registered tenant's schema version from the
// platform database's control plane (the mirror the engine keeps), for
// list and get. A platform that never ran a migration has none: it
// returns an empty map.
func Versions(ctx context.Context, conn *pgx.Conn) (map[string]TenantVersion, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('tenantstack.target_versions') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return map[string]TenantVersion{}, err
	}
	fleet, err := fleetVersion(ctx, conn)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `
		SELECT t.tenant_id, coalesce(v.version, 0), f.target IS NOT NULL
		FROM tenantstack.tenants t
		LEFT JOIN tenantstack.target_versions v ON v.target = CASE WHEN t.tier = 'shared' THEN $1 ELSE t.tenant_id END
		LEFT JOIN tenantstack.migration_failures f ON f.target = CASE WHEN t.tier = 'shared' THEN $1 ELSE t.tenant_id END`, SharedTarget)
	if err != nil {
		return nil, err
	}
	out := map[string]TenantVersion{}
	_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) {
		var id string
		var v TenantVersion
		var failed bool
		if err := r.Scan(&id, &v.Version, &failed); err != nil {
			return struct{}{}, err
		}
		switch {
		case failed:
			v.State = "failed"
		case v.Version < fleet:
			v.State = "behind"
		default:
			v.State = "current"
		}
		out[id] = v
		return struct{}{}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
