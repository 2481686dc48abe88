package usage

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/tenantstack/tenantstack/internal/probe"
)

// Admin holds the platform's admin endpoints.
type Admin struct {
	// PostgresURL logs in as the platform's superuser admin.
	PostgresURL string
	// PlatformDatabase holds the shared tables and the tier-schema schemas.
	PlatformDatabase string
	// RedisURL logs in as a Redis user allowed SCAN and MEMORY USAGE.
	RedisURL string
	// Kubeconfig may read resource quotas in every tenant namespace.
	Kubeconfig string
}

// Target is one tenant to measure.
type Target struct {
	Tenant    string
	Tier      string // shared, schema or database
	Database  string // the tenant's database (tier database)
	Schema    string // the tenant's schema (tier schema)
	Roles     []string
	KeyPrefix string
	Namespace string
	// ConnectionLimit is each login role's CONNECTION LIMIT, reported
	// beside the connections for alerting. Zero: read from the first role.
	ConnectionLimit int
}

// Report is one tenant's usage.
type Report struct {
	Tenant     string        `json:"tenant"`
	Tier       string        `json:"tier"`
	Postgres   PostgresUsage `json:"postgres"`
	Redis      RedisUsage    `json:"redis"`
	Kubernetes []QuotaUsage  `json:"kubernetes"`
}

// PostgresUsage is a tenant's PostgreSQL usage.
type PostgresUsage struct {
	// Bytes: on the shared tier the tenant's rows' sizes (pg_column_size);
	// on the schema tier its relations with indexes and TOAST; on the
	// database tier its database.
	Bytes int64 `json:"bytes"`
	// Rows counted exactly, in every table of the tenant.
	Rows            int64 `json:"rows"`
	Connections     int   `json:"connections"`
	ConnectionLimit int   `json:"connection_limit"`
	// Statements and ExecSeconds are the statements the tenant's login
	// roles ran and their total execution time, from pg_stat_statements
	// since its last reset; nil when the server does not load it.
	Statements  *int64   `json:"statements"`
	ExecSeconds *float64 `json:"exec_seconds"`
}

// RedisUsage is the keys under a tenant's prefix and their memory.
type RedisUsage struct {
	Keys        int64 `json:"keys"`
	MemoryBytes int64 `json:"memory_bytes"`
}

// QuotaUsage is one resource of the namespace's ResourceQuota.
type QuotaUsage struct {
	Resource string  `json:"resource"`
	Used     string  `json:"used"`
	Hard     string  `json:"hard"`
	UsedN    float64 `json:"used_value"`
	HardN    float64 `json:"hard_value"`
}

// Measure measures every target. PostgreSQL is read with one connection
// per database and one grouped query per shared table, so the cost grows
// with the number of tables and tier-database tenants, not with the rows.
func Measure(ctx context.Context, a Admin, targets []Target) ([]Report, error) {
	reps := make([]Report, len(targets))
	for i, t := range targets {
		reps[i] = Report{Tenant: t.Tenant, Tier: t.Tier, Kubernetes: []QuotaUsage{}}
		reps[i].Postgres.ConnectionLimit = t.ConnectionLimit
	}
	if err := measurePostgres(ctx, a, targets, reps); err != nil {
		return nil, err
	}
	if err := measureRedis(ctx, a, targets, reps); err != nil {
		return nil, err
	}
	if err := measureKubernetes(ctx, a, targets, reps); err != nil {
		return nil, err
	}
	return reps, nil
}

func connect(ctx context.Context, adminURL, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(adminURL)
	if err != nil {
		return nil, fmt.Errorf("the platform's PostgreSQL admin URL: %w", err)
	}
	if db != "" {
		cfg.Database = db
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to database %q as the admin: %w", db, err)
	}
	return conn, nil
}

func measurePostgres(ctx context.Context, a Admin, targets []Target, reps []Report) error {
	conn, err := connect(ctx, a.PostgresURL, a.PlatformDatabase)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// Connections of every role at once.
	byRole := map[string]int{}
	rows, err := conn.Query(ctx, `SELECT usename::text, count(*) FROM pg_catalog.pg_stat_activity WHERE usename IS NOT NULL GROUP BY 1`)
	if err != nil {
		return fmt.Errorf("reading the sessions: %w", err)
	}
	for rows.Next() {
		var r string
		var n int
		if err := rows.Scan(&r, &n); err != nil {
			return err
		}
		byRole[r] = n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// The connection limit is the role's own, as the server enforces it.
	limits := map[string]int{}
	rows, err = conn.Query(ctx, `SELECT rolname::text, rolconnlimit FROM pg_catalog.pg_roles WHERE rolname LIKE 'tenant\_%'`)
	if err != nil {
		return fmt.Errorf("reading the login roles: %w", err)
	}
	for rows.Next() {
		var r string
		var n int
		if err := rows.Scan(&r, &n); err != nil {
			return err
		}
		limits[r] = n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	stmts, err := statementsByRole(ctx, conn)
	if err != nil {
		return err
	}
	index := map[string]int{}
	for i, t := range targets {
		if stmts != nil {
			var calls int64
			var secs float64
			for _, r := range t.Roles {
				calls += stmts[r].calls
				secs += stmts[r].seconds
			}
			reps[i].Postgres.Statements, reps[i].Postgres.ExecSeconds = &calls, &secs
		}
		if reps[i].Postgres.ConnectionLimit == 0 && len(t.Roles) > 0 {
			reps[i].Postgres.ConnectionLimit = limits[t.Roles[0]]
		}
		index[t.Tenant] = i
		for _, r := range t.Roles {
			reps[i].Postgres.Connections += byRole[r]
		}
	}
	// Shared tier: each tenant table of schema app, grouped by tenant.
	tables, err := tenantTables(ctx, conn, "app")
	if err != nil {
		return err
	}
	for _, tbl := range tables {
		q := `SELECT tenant_id::text, count(*), coalesce(sum(pg_catalog.pg_column_size(t.*)), 0) FROM ` + tbl + ` t GROUP BY 1`
		rows, err := conn.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("measuring %s: %w", tbl, err)
		}
		for rows.Next() {
			var id string
			var n, b int64
			if err := rows.Scan(&id, &n, &b); err != nil {
				return err
			}
			if i, ok := index[id]; ok && targets[i].Tier == "shared" {
				reps[i].Postgres.Rows += n
				reps[i].Postgres.Bytes += b
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for i, t := range targets {
		switch t.Tier {
		case "schema":
			if err := measureSchema(ctx, conn, t.Schema, &reps[i].Postgres, true); err != nil {
				return err
			}
		case "database":
			if err := conn.QueryRow(ctx, `SELECT pg_catalog.pg_database_size($1)`, t.Database).Scan(&reps[i].Postgres.Bytes); err != nil {
				return fmt.Errorf("the size of database %s: %w", t.Database, err)
			}
			dc, err := connect(ctx, a.PostgresURL, t.Database)
			if err != nil {
				return err
			}
			err = measureSchema(ctx, dc, "public", &reps[i].Postgres, false)
			dc.Close(context.WithoutCancel(ctx))
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// tenantTables are schema's ordinary tables, quoted.
func tenantTables(ctx context.Context, conn *pgx.Conn, schema string) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT c.relname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND EXISTS (
			SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
		ORDER BY 1`, schema)
	if err != nil {
		return nil, fmt.Errorf("listing the tables of schema %s: %w", schema, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = pgx.Identifier{schema, n}.Sanitize()
	}
	return out, nil
}

// measureSchema counts the rows of every table of schema and, when sizes,
// adds the relations' total sizes.
func measureSchema(ctx context.Context, conn *pgx.Conn, schema string, u *PostgresUsage, sizes bool) error {
	rows, err := conn.Query(ctx, `SELECT c.relname::text, pg_catalog.pg_total_relation_size(c.oid) FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'm')`, schema)
	if err != nil {
		return fmt.Errorf("the relations of schema %s: %w", schema, err)
	}
	type rel struct {
		name string
		size int64
	}
	var rels []rel
	for rows.Next() {
		var r rel
		if err := rows.Scan(&r.name, &r.size); err != nil {
			return err
		}
		rels = append(rels, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(rels) == 0 {
		return nil
	}
	parts := make([]string, len(rels))
	for i, r := range rels {
		if sizes {
			u.Bytes += r.size
		}
		parts[i] = `(SELECT count(*) FROM ` + pgx.Identifier{schema, r.name}.Sanitize() + `)`
	}
	var n int64
	if err := conn.QueryRow(ctx, `SELECT `+strings.Join(parts, " + ")).Scan(&n); err != nil {
		return fmt.Errorf("counting the rows of schema %s: %w", schema, err)
	}
	u.Rows += n
	return nil
}

func measureRedis(ctx context.Context, a Admin, targets []Target, reps []Report) error {
	opt, err := redis.ParseURL(a.RedisURL)
	if err != nil {
		return fmt.Errorf("the platform's Redis admin URL: %w", err)
	}
	opt.Protocol, opt.DisableIdentity = 2, true
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	for i, t := range targets {
		var cursor uint64
		for {
			keys, next, err := rdb.Scan(ctx, cursor, escapeGlob(t.KeyPrefix)+"*", 1000).Result()
			if err != nil {
				return fmt.Errorf("SCAN under %s: %w", t.KeyPrefix, err)
			}
			if len(keys) > 0 {
				pipe := rdb.Pipeline()
				cmds := make([]*redis.IntCmd, len(keys))
				for j, k := range keys {
					cmds[j] = pipe.MemoryUsage(ctx, k)
				}
				if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
					return fmt.Errorf("MEMORY USAGE under %s: %w", t.KeyPrefix, err)
				}
				for _, c := range cmds {
					if n, err := c.Result(); err == nil { // a key gone since SCAN is nil
						reps[i].Redis.Keys++
						reps[i].Redis.MemoryBytes += n
					}
				}
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	return nil
}

// escapeGlob quotes the characters SCAN MATCH reads as a pattern.
func escapeGlob(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}

func measureKubernetes(ctx context.Context, a Admin, targets []Target, reps []Report) error {
	kube, err := probe.LoadKubeconfig(a.Kubeconfig)
	if err != nil {
		return err
	}
	defer kube.Close()
	for i, t := range targets {
		var list struct {
			Items []struct {
				Status struct {
					Hard map[string]string `json:"hard"`
					Used map[string]string `json:"used"`
				} `json:"status"`
			} `json:"items"`
		}
		if err := kube.Do(ctx, "GET", "/api/v1/namespaces/"+t.Namespace+"/resourcequotas", nil, &list); err != nil {
			if probe.IsNotFound(err) {
				continue
			}
			return fmt.Errorf("the quota of namespace %s: %w", t.Namespace, err)
		}
		for _, q := range list.Items {
			for _, res := range sortedKeys(q.Status.Hard) {
				u := QuotaUsage{Resource: res, Hard: q.Status.Hard[res], Used: q.Status.Used[res]}
				if u.Used == "" {
					u.Used = "0"
				}
				u.HardN, u.UsedN = quantity(u.Hard), quantity(u.Used)
				reps[i].Kubernetes = append(reps[i].Kubernetes, u)
			}
		}
	}
	return nil
}

func quantity(s string) float64 {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0
	}
	return q.AsApproximateFloat64()
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type roleStatements struct {
	calls   int64
	seconds float64
}

// statementsByRole sums pg_stat_statements per role, over every database;
// nil when the server does not load the module. The view needs the
// extension in the database it is read from: it is made there once.
func statementsByRole(ctx context.Context, conn *pgx.Conn) (map[string]roleStatements, error) {
	var loaded bool
	if err := conn.QueryRow(ctx, `SELECT 'pg_stat_statements' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ','))`).Scan(&loaded); err != nil {
		return nil, err
	}
	if !loaded {
		return nil, nil
	}
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		return nil, fmt.Errorf("enabling pg_stat_statements: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT r.rolname::text, sum(s.calls)::bigint, sum(s.total_exec_time) / 1000
		FROM pg_stat_statements s JOIN pg_catalog.pg_roles r ON r.oid = s.userid
		WHERE r.rolname LIKE 'tenant\_%' GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("reading pg_stat_statements: %w", err)
	}
	out := map[string]roleStatements{}
	for rows.Next() {
		var r string
		var s roleStatements
		if err := rows.Scan(&r, &s.calls, &s.seconds); err != nil {
			return nil, err
		}
		out[r] = s
	}
	return out, rows.Err()
}
